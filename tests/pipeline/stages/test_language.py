"""The language stage as users see it: codes, confidence, script, alternatives, segments, hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import ArticleIn, Document
from pipeline.runner import process_article, run_stage
from pipeline.stages.language import language

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "language"
SAMPLES = ROOT / "pipeline" / "samples"


def detect(text: str, **fields) -> Document:
    return run_stage("language", Document(id="t", text=text, **fields))


def test_seed_article_is_arabic_with_no_segments():
    doc = process_article(ArticleIn(body=(SAMPLES / "aggregator-ar.txt").read_text("utf-8")), ["language"])
    lang = doc.language
    assert lang.code == "ar" and lang.name == "Arabic"
    assert lang.confidence >= 0.99 and lang.reliable
    assert lang.script == "Arab"
    assert lang.segments == []
    assert lang.decided_by == "model"


def test_persian_letters_in_an_arabic_keyword_line_do_not_flip_the_article():
    lang = detect((FIXTURES / "arabic-persian-keyboard.txt").read_text("utf-8")).language
    assert lang.code == "ar" and lang.confidence >= 0.99
    assert lang.segments == []


def test_english_article():
    lang = detect((SAMPLES / "newswire-en.txt").read_text("utf-8")).language
    assert (lang.code, lang.name, lang.script) == ("en", "English", "Latn")
    assert lang.confidence >= 0.99 and lang.reliable


def test_english_quote_inside_arabic_article_is_a_segment_with_offsets():
    text = (FIXTURES / "arabic-with-english-quote.txt").read_text("utf-8").strip()
    lang = detect(text).language
    assert lang.code == "ar"
    assert len(lang.segments) == 1
    seg = lang.segments[0]
    assert seg["code"] == "en" and seg["confidence"] >= 0.9
    assert text[seg["start"] : seg["end"]].startswith('"We are committed')
    assert text[seg["start"] : seg["end"]].endswith('coming weeks."')


@pytest.mark.parametrize(
    "text, code",
    [
        ("وزیر امور خارجه ایران روز گذشته با همتای ژاپنی خود در تهران دیدار و گفتگو کرد.", "fa"),
        ("پاکستان کے وزیر اعظم نے کہا ہے کہ حکومت مہنگائی کم کرنے کے لیے نئے اقدامات کرے گی۔", "ur"),
        ("د افغانستان په پلازمېنه کابل کې نن سهار یوه چاودنه وشوه او څو کسان ټپیان شول.", "ps"),
        ("سەرۆکی هەرێمی کوردستان ئەمڕۆ لەگەڵ شاندێکی ئەمریکی کۆبووەوە لە هەولێر.", "ckb"),
        ("ئۇيغۇر ئاپتونوم رايونىنىڭ مەركىزى ئۈرۈمچى شەھىرىدە بۈگۈن ھاۋا ئوچۇق بولىدۇ.", "ug"),
        ("سنڌ جي وڏي وزير اڄ ڪراچي ۾ هڪ اهم گڏجاڻي جي صدارت ڪئي ۽ هدايتون ڏنيون.", "sd"),
        ("قال وزير الخارجية إن المحادثات مع الجانب الأمريكي ستستمر خلال الأسبوع المقبل.", "ar"),
    ],
)
def test_arabic_script_languages_are_told_apart(text, code):
    lang = detect(text).language
    assert lang.code == code
    assert lang.script == "Arab"


@pytest.mark.parametrize(
    "text, code, script",
    [
        ("Правительство объявило о новых мерах поддержки экономики в понедельник.", "ru", "Cyrl"),
        ("सरकार ने सोमवार को अर्थव्यवस्था के लिए नए उपायों की घोषणा की।", "hi", "Deva"),
        ("政府周一宣布了支持经济的新措施，并表示将继续观察市场。", "zh", "Hans"),
        ("政府は月曜日、経済を支援するための新たな措置を発表した。", "ja", "Jpan"),
        ("정부는 월요일 경제를 지원하기 위한 새로운 조치를 발표했다.", "ko", "Kore"),
        ("Le gouvernement a annoncé lundi de nouvelles mesures pour soutenir l'économie.", "fr", "Latn"),
    ],
)
def test_other_scripts_get_their_code_and_script(text, code, script):
    lang = detect(text).language
    assert (lang.code, lang.script) == (code, script)


def test_output_shape_alternatives_and_confidence_range():
    lang = detect("The government announced new measures to support the economy on Monday.").language
    assert 0.0 <= lang.confidence <= 1.0
    assert len(lang.alternatives) == 3
    assert lang.alternatives[0]["code"] == lang.code
    for alt in lang.alternatives:
        assert set(alt) == {"code", "name", "confidence"}
        assert 0.0 <= alt["confidence"] <= 1.0
    assert [a["confidence"] for a in lang.alternatives] == sorted((a["confidence"] for a in lang.alternatives), reverse=True)


def test_dari_is_reported_as_persian():
    # Dari folds into fa (the ISO 639 macrolanguage); the variety is only a variant.
    lang = detect("وزیر خارجه افغانستان امروز در کابل با سفیر پاکستان دیدار کرد و در مورد همکاری های دو کشور گفتگو نمود.").language
    assert lang.code == "fa"
    assert lang.variant in (None, "prs")


def test_egyptian_arabic_is_arabic_with_at_most_a_dialect_variant():
    lang = detect("انا مش عارف هو عايز ايه بالظبط، بس احنا لازم نروح بكرة الصبح بدري عشان نلحق الميعاد").language
    assert lang.code == "ar"
    assert lang.variant in (None, "arz")


def test_msa_gets_no_variant():
    lang = detect((SAMPLES / "aggregator-ar.txt").read_text("utf-8")[:1500]).language
    assert lang.variant is None


def test_hint_decides_an_ambiguous_short_text():
    # "Real Madrid" alone could be many Latin-script languages.
    lang = detect("Real Madrid", language_hint="es").language
    assert lang.code == "es"
    assert "hint" in lang.decided_by
    assert not lang.reliable


def test_hint_accepts_regional_and_three_letter_forms():
    assert detect("Real Madrid", language_hint="es-MX").language.code == "es"
    assert detect("12 345", language_hint="ara").language.code == "ar"


def test_clear_text_beats_a_wrong_hint_and_warns():
    doc = detect("The government announced new measures to support the economy on Monday.", language_hint="de")
    assert doc.language.code == "en"
    assert any("hint" in w and "de" in w for w in doc.warnings)


def test_title_helps_a_short_body():
    doc = detect("Biden", title="Biden says talks with Iraq will continue next week")
    assert doc.language.code == "en"
    assert doc.language.decided_by == "title+body"


def test_text_without_letters_is_undetermined_not_guessed():
    doc = detect("12 345 — 678")
    assert doc.language.code == "und"
    assert doc.language.confidence == 0.0
    assert doc.warnings


def test_unknown_script_is_undetermined():
    assert detect("ܫܠܡܐ ܥܠܡܐ ܕܡܪܝܐ").language.code == "und"


def test_stage_is_registered_as_implemented():
    doc = run_stage("language", Document(id="t", text="Hello there, how are you doing today?"))
    assert doc.provenance[-1].status == "ok"


def test_stage_function_is_pure_of_other_fields():
    doc = Document(id="t", text="Bonjour tout le monde, comment allez-vous aujourd'hui ?", title="x")
    out = language(doc.model_copy(deep=True))
    assert out.text == doc.text and out.title == doc.title and out.entities == doc.entities
