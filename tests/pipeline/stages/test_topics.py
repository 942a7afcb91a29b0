"""The topics stage: IPTC codes, calibrated multi-label scores, lexicon evidence, any language."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import Document, Language
from pipeline.registry import get_stage
from pipeline.resources import data_path
from pipeline.stages.topics import topics
from pipeline.topics.taxonomy import load_taxonomy

SAMPLES = Path(__file__).resolve().parents[3] / "pipeline" / "samples"

POLITICS, CONFLICT, SPORT, ECONOMY = "medtop:11000000", "medtop:16000000", "medtop:15000000", "medtop:04000000"
TAXONOMY = load_taxonomy(data_path("topics", "taxonomy.tsv"))


def _doc(text: str, title: str | None = None, lang: str | None = None) -> Document:
    language = Language(code=lang, name=lang, confidence=0.99) if lang else None
    return Document(id="t1", text=text, title=title, language=language)


def _main_story(path) -> str:
    # The bundled aggregator sample ends with boilerplate the clean stage removes.
    return path.read_text(encoding="utf-8").split("المصدر:")[0]


def test_stage_is_registered_and_implemented():
    stage = get_stage("topics")
    assert stage.implemented and stage.version != "0.0.0"


def test_topics_are_taxonomy_entries_with_scores_in_unit_interval():
    doc = topics(_doc((SAMPLES / "newswire-en.txt").read_text(encoding="utf-8")))
    assert doc.topics
    for t in doc.topics:
        assert TAXONOMY[t.code].label == t.label
        assert 0.0 <= t.score <= 1.0
    assert [t.score for t in doc.topics] == sorted((t.score for t in doc.topics), reverse=True)


def test_arabic_iraq_talks_story_is_politics_and_conflict():
    doc = topics(_doc(_main_story(SAMPLES / "aggregator-ar.txt")))
    top2 = {t.code for t in doc.topics[:2]}
    assert top2 == {POLITICS, CONFLICT}
    conflict = next(t for t in doc.topics if t.code == CONFLICT)
    assert conflict.evidence  # the matched lexicon terms are recorded


def test_english_talks_story_is_politics_first():
    doc = topics(_doc((SAMPLES / "newswire-en.txt").read_text(encoding="utf-8"), lang="en"))
    assert doc.topics[0].code == POLITICS


def test_multi_label_article_reports_its_second_topic_with_evidence():
    text = (
        "The football club's owners reported record profits and revenue this year, and the shares "
        "rose on the stock market after the team won the league championship. Investors welcomed the "
        "results, while the coach praised the players after the final match of the tournament."
    )
    doc = topics(_doc(text, lang="en"))
    # A story about a club's profits and its title is both; which one leads is a judgement call.
    top2 = {t.code: t for t in doc.topics[:2]}
    assert set(top2) == {SPORT, ECONOMY} and min(t.score for t in top2.values()) > 0.5
    assert "profit*" in top2[ECONOMY].evidence and "football" in top2[SPORT].evidence


def test_seed_like_story_has_two_confident_topics():
    doc = topics(_doc(_main_story(SAMPLES / "aggregator-ar.txt")))
    assert doc.topics[0].score > 0.9 and doc.topics[1].score > 0.4


@pytest.mark.parametrize(
    "text",
    [
        "Der Fußballverein gewann das Endspiel der Meisterschaft mit drei Toren, der Trainer lobte die Spieler.",
        "El equipo de fútbol ganó el campeonato con tres goles y el entrenador elogió a los jugadores.",
    ],
)
def test_languages_without_a_lexicon_still_get_topics_from_the_model(text):
    doc = topics(_doc(text))
    assert doc.topics[0].code == SPORT
    assert doc.topics[0].evidence == []


def test_empty_text_leaves_topics_empty_with_a_warning():
    doc = topics(_doc("   "))
    assert doc.topics == []
    assert any("topics" in w for w in doc.warnings)


def test_user_lexicon_folder_extends_a_language_without_code(tmp_path, monkeypatch):
    from pipeline.stages import topics as stage_module

    (tmp_path / "en.tsv").write_text("medtop:17000000\t3\tzorblax\n", encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_TOPIC_LEXICONS", str(tmp_path))
    model = stage_module.topic_model.__wrapped__()  # a fresh load, not the process-wide one
    scored = model.score("A zorblax hit the coast; zorblax warnings remain.", language="en")
    weather = next(t for t in scored if t.code == "medtop:17000000")
    assert "zorblax" in weather.evidence
