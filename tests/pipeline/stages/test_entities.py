"""The entities stage end to end: spans, clitics, dates, canonical ids, summary."""

from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Document, Language
from pipeline.runner import run_stage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PUBLISHED = datetime(2024, 1, 26, 12)


def _run(text, lang=None, title=None, published=PUBLISHED):
    doc = Document(id="t1", text=text, title=title, published_at=published)
    if lang:
        doc.language = Language(code=lang, name=lang, confidence=1.0)
    return run_stage("entities", doc)


def _check_offsets(doc):
    for ent in doc.entities:
        assert doc.text[ent.start : ent.end] == ent.text


@pytest.mark.parametrize(
    "word, offset",
    [("والعراق", 1), ("بالعراق", 1), ("للعراق", 1), ("وللعراق", 2), ("فالعراق", 1), ("العراق", 0)],
)
def test_proclitics_do_not_hide_or_distort_entities(word, offset):
    text = f"قال المسؤول إن الوضع {word} مستقر."
    doc = _run(text, "ar")
    _check_offsets(doc)
    [ent] = [e for e in doc.entities if e.canonical_id == "iso3166:IQ"]
    assert ent.normalized == "العراق"
    assert ent.label == "LOC"
    assert ent.start == text.index(word) + offset
    assert ent.end == text.index(word) + len(word)


def test_arabic_story_people_organisations_places_and_dates():
    text = (FIXTURES / "entities-ar.txt").read_text(encoding="utf-8")
    doc = _run(text, "ar", title="محادثات بين واشنطن وبغداد")
    _check_offsets(doc)
    by_id = {e.canonical_id for e in doc.entities}
    assert {"iso3166:US", "iso3166:IQ", "wikidata:Q130879", "wikidata:Q11208", "wikidata:Q6279", "geonames:4140963"} <= by_id
    dates = {e.text: e.value for e in doc.entities if e.label == "DATE"}
    assert dates["مساء الأربعاء"] == "2024-01-24"
    assert dates["21 فبراير 2023"] == "2023-02-21"
    assert any(e.label == "PERSON" and "السوداني" in e.text for e in doc.entities)
    summary = {s.canonical_id: s for s in doc.entity_summary if s.canonical_id}
    assert summary["iso3166:IQ"].count >= 3
    assert summary["geonames:4140963"].salience >= 0.4  # named in the title


def test_english_story_shares_ids_with_arabic():
    text = (FIXTURES / "entities-en.txt").read_text(encoding="utf-8")
    doc = _run(text, "en")
    _check_offsets(doc)
    ids = {e.canonical_id for e in doc.entities}
    assert {"wikidata:Q11208", "iso3166:IQ", "iso3166:SY", "geonames:4140963"} <= ids
    assert any(e.label == "PERSON" and e.text == "Joe Biden" for e in doc.entities)
    dates = {e.text: e.value for e in doc.entities if e.label == "DATE"}
    assert dates["last Tuesday"] == "2024-01-23"


def test_language_falls_back_to_script_when_language_stage_has_not_run():
    doc = _run("زار الرئيس بوتين موسكو.")
    assert any(e.canonical_id == "wikidata:Q7747" for e in doc.entities)


def test_other_languages_get_dates_only_and_a_warning():
    doc = _run("Le président a parlé le 2024-01-15 à Paris.", "fr")
    assert [e.label for e in doc.entities] == ["DATE"]
    assert any("no NER model for language 'fr'" in w for w in doc.warnings)


def test_empty_text_gives_no_entities():
    assert _run("", "ar").entities == []


def test_lowercase_words_are_not_taken_for_acronyms():
    doc = _run("Officials who spoke to us said the talks would go on.", "en")
    assert not any(e.canonical_id == "wikidata:Q7817" for e in doc.entities)  # WHO
    assert not any(e.canonical_id == "iso3166:US" for e in doc.entities)


def test_curated_full_name_wins_over_the_taggers_shorter_span():
    # The tagger reads "محمد شياع" as a name and "السوداني" (Sudanese) as an adjective; the
    # curated table knows the whole name, so the article gets one person, not two.
    text = "وأضاف أن الحكومة برئاسة محمد شياع السوداني تسعى إلى علاقة متوازنة مع واشنطن."
    doc = _run(text, "ar")
    _check_offsets(doc)
    people = [e for e in doc.entities if e.label == "PERSON"]
    assert [e.text for e in people] == ["محمد شياع السوداني"]
