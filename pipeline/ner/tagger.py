"""The shipped taggers, one per language, loaded once per process."""

from __future__ import annotations

from pipeline.errors import StageError
from pipeline.ner.model import Tagger
from pipeline.resources import data_path, resource

LANGUAGES = ("ar", "en")


def _load(lang: str) -> Tagger:
    path = data_path("entities", f"ner-{lang}.npz")
    if not path.exists():
        raise StageError(
            f"NER model for {lang!r} is missing at {path}",
            hint=f"rebuild it with `newsflow train ner --lang {lang} --data ../shared/data/ner/{lang}` or reinstall newsflow",
            code="E210",
        )
    return Tagger.load(path)


@resource("entities.ner-ar")
def arabic_tagger() -> Tagger:
    """The Arabic tagger (ANERcorp)."""
    return _load("ar")


@resource("entities.ner-en")
def english_tagger() -> Tagger:
    """The English tagger (CoNLL-2003)."""
    return _load("en")


def tagger_for(lang: str) -> Tagger:
    """The tagger for ``lang`` (``ar`` or ``en``)."""
    if lang == "ar":
        return arabic_tagger()
    if lang == "en":
        return english_tagger()
    raise StageError(f"no NER model for language {lang!r}", hint=f"models exist for {', '.join(LANGUAGES)}", code="E211")
