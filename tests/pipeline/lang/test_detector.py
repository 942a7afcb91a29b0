"""The detector on its own: bounded sampling of long text and folding of varieties."""

from __future__ import annotations

from pipeline.lang.detector import SAMPLE_CHARS, identify, sample, writes_in


def test_long_text_is_classified_on_a_bounded_sample():
    text = "The government said on Monday that the talks would continue. " * 2000
    assert len(sample(text)) <= SAMPLE_CHARS + 2
    assert sample("short text") == "short text"
    assert identify(text).code == "en"


def test_sample_reaches_past_a_foreign_preamble():
    preamble = "Breaking news: " * 10
    body = "قال وزير الخارجية إن المحادثات مع الجانب الأمريكي ستستمر خلال الأسبوع المقبل. " * 100
    assert identify(preamble + body).code == "ar"


def test_alternatives_are_distinct_codes_with_dialects_folded():
    guess = identify("قال وزير الخارجية إن المحادثات ستستمر خلال الأسبوع المقبل في بغداد.")
    codes = [code for code, _, _ in guess.alternatives]
    assert codes[0] == "ar" and len(codes) == len(set(codes)) == 3


def test_writes_in_knows_which_scripts_a_language_uses():
    assert writes_in("ar", "Arab") and writes_in("ar", "Latn")  # romanised Arabic is a SIB-200 variety
    assert not writes_in("en", "Arab")
    assert not writes_in("xx", "Latn")
