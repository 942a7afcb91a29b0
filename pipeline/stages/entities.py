"""Entities stage: PERSON / ORG / LOC / MISC from trained taggers, DATE from rules, canonical ids.

Arabic and English run a BiLSTM-CRF (numpy inference, weights in
``pipeline/data/entities/ner-<lang>.npz``). The language comes from
``doc.language.code`` when the language stage has run, else from the producer's hint,
else from the share of Arabic letters. Other languages get dates only, with a warning.
See :mod:`pipeline.ner` for tokens, clitics, dates and canonical ids.
"""

from __future__ import annotations

import re

from pipeline.models import Document
from pipeline.ner.canonical import gazetteer
from pipeline.ner.mentions import find_entities
from pipeline.ner.summary import summarize
from pipeline.ner.tagger import LANGUAGES, tagger_for
from pipeline.registry import register

VERSION = "1.1.0"

_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_LATIN_LETTER = re.compile("[A-Za-z]")
_ENGLISH_WORDS = re.compile(r"\b(?:the|and|of|to|in|is|was|for|that|said|on|with)\b", re.I)


def guess_language(text: str) -> str | None:
    """Fallback when no language is known: ``ar`` for mostly Arabic letters, ``en`` for English-looking text."""
    sample = text[:5000]
    arabic = len(_ARABIC_LETTER.findall(sample))
    latin = len(_LATIN_LETTER.findall(sample))
    if arabic and arabic >= latin:
        return "ar"
    words = max(1, len(sample.split()))
    if latin > arabic and len(_ENGLISH_WORDS.findall(sample)) / words > 0.08:
        return "en"
    return None


def document_language(doc: Document) -> str | None:
    """The language to tag ``doc`` in: the language stage's verdict, the hint, or a guess."""
    if doc.language is not None and doc.language.code:
        return doc.language.code.split("-")[0].lower()
    if doc.language_hint:
        return doc.language_hint.split("-")[0].lower()
    return guess_language(doc.text)


@register("entities", VERSION)
def entities(doc: Document) -> Document:
    """Fill ``doc.entities`` (mentions with offsets, normalised forms, ids, DATE values) and ``doc.entity_summary``."""
    if not doc.text.strip():
        doc.entities, doc.entity_summary = [], []
        return doc
    lang = document_language(doc)
    tagger = tagger_for(lang) if lang in LANGUAGES else None
    if tagger is None:
        doc.warnings.append(
            f"entities: no NER model for language {lang or 'unknown'!r}; only dates were extracted"
            " (models exist for ar and en)"
        )
    gaz = gazetteer()
    doc.entities = find_entities(doc.text, tagger, gaz, doc.published_at)
    doc.entity_summary = summarize(doc.entities, doc.title, gaz, lang)
    return doc
