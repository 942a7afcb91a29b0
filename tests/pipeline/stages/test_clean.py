"""The clean stage end to end: story text, audit, split-off articles, duplicate keys, errors."""

from pathlib import Path

import pytest

from pipeline.errors import StageError
from pipeline.ids import content_key
from pipeline.models import Document
from pipeline.split import split_off_documents, split_title
from pipeline.stages.clean import clean
from pipeline.text.neardup import similarity

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

CLEAN = FIXTURES / "clean"
SEED = Path("/work/shared/samples/aggregator-iraq-talks-ar.txt")


def run(name: str, **kwargs) -> Document:
    path = CLEAN / name
    content_type = "text/html" if path.suffix == ".html" else "text/plain"
    return clean(Document(id="doc-1", body=path.read_text(encoding="utf-8"), content_type=content_type, **kwargs))


def test_arabic_aggregator_text_keeps_exactly_the_story():
    doc = run("aggregator_ar.txt")
    assert doc.text.startswith("أعلنت وزارة الصحة")
    assert doc.text.endswith("في المناطق المجاورة.")
    for junk in ("وكالة الأنباء المحلية", "المصدر", "كلمات دلالية", "إقرأ أيضاً", "الشطرنج", "مقالات مشابهة", "•"):
        assert junk not in doc.text
    assert doc.body is None
    assert "\xa0" not in doc.text and "\n\n\n" not in doc.text


def test_every_removed_block_is_listed_with_reason_and_rule():
    doc = run("aggregator_ar.txt")
    assert [(b.rule, b.split_off) for b in doc.removed] == [
        ("structure.credit_line", False),
        ("attribution", False),
        ("tags", False),
        ("read_also.ar", False),
        ("read_also.ar", True),
        ("related.ar", False),
    ]
    assert all(b.reason for b in doc.removed)
    tags = doc.removed[2].text
    assert "العراقیة" not in tags and "الکوادر الطبیة" in tags  # audit keeps the text as written (Persian ی ک)


def test_appended_article_is_split_off_as_its_own_document():
    parent = run("aggregator_ar.txt")
    block = next(b for b in parent.removed if b.split_off)
    assert block.split_id == "doc-1/part1" and parent.derived_ids == ["doc-1/part1"]
    assert block.text.startswith("فريق الجامعة يفوز") and block.text.endswith("العام المقبل.")
    (child,) = split_off_documents(parent)
    assert child.id == "doc-1/part1" and child.derived_from == "doc-1"
    assert child.title == "فريق الجامعة يفوز ببطولة الشطرنج الإقليمية"
    child = clean(child)
    assert child.text.startswith("فاز فريق جامعة بغداد") and child.text.endswith("العام المقبل.")
    assert child.removed == []


def test_two_appended_articles_get_two_ids():
    doc = run("aggregator_en.txt")
    assert doc.derived_ids == ["doc-1/part1", "doc-1/part2"]
    assert doc.text.startswith("The city council approved") and doc.text.endswith("nine votes to four.")
    titles = [c.title for c in split_off_documents(doc)]
    assert titles == ["Local bakery wins national bread award", "Harbour festival draws record crowds"]


def test_french_markers():
    doc = run("aggregator_fr.txt")
    assert doc.text.startswith("Le conseil régional") and doc.text.endswith("conférence de presse.")
    assert {b.rule for b in doc.removed} == {"read_also_inline", "share", "copyright", "read_also.fr"}
    assert doc.derived_ids == []  # a single headline after "À lire aussi" is a link, not an article


def test_html_page_gives_story_and_fills_missing_metadata():
    doc = run("page_en.html")
    assert doc.text.startswith("The town council voted on Wednesday")
    assert doc.text.endswith("most of the pollution.")
    assert "Share on Facebook" not in doc.text and "All rights reserved" not in doc.text
    assert doc.title == "Council backs river clean-up plan"
    assert doc.published_at is not None and doc.published_at.date().isoformat() == "2024-03-14"
    assert doc.metadata == {"author": "Alex Morgan", "sitename": "Riverside Gazette"}
    rules = [b.rule for b in doc.removed]
    assert rules[0] == "html.trafilatura" and "structure.title_line" in rules
    assert '"give the river back' in doc.text  # &quot; decoded


def test_producer_metadata_wins_over_the_page():
    doc = run("page_ar.html", title="عنوان المنتج", metadata={"author": "المحرر"})
    assert doc.title == "عنوان المنتج" and doc.metadata["author"] == "المحرر"
    assert doc.metadata["sitename"] == "صحيفة النهرين"
    assert doc.text.startswith("افتُتحت، الخميس")


def test_hygiene_applies_to_plain_text():
    body = "\u200fأعلنت\u200b الوزارة &amp; الهيئة\u00ad اليوم\u202c عن خطة جديدة.\r\n\r\n\r\nفقرة   ثانية."
    doc = clean(Document(id="h", body=body))
    assert doc.text == "أعلنت الوزارة & الهيئة اليوم عن خطة جديدة.\n\nفقرة ثانية."


def test_duplicate_keys_are_set_and_ignore_spelling_variants():
    a = clean(Document(id="a", body="أعلنت الولایات المتحدة الأمریکیة عن خطة جديدة لدعم المزارعين في المناطق المتضررة."))
    b = clean(Document(id="b", body="أعلنت الولاياتُ المتحدة الأمريكية عن خطة جديدة لدعم المزارعين في المناطق المتضررة."))
    assert a.duplicate.content_key == content_key(a.text) == b.duplicate.content_key
    assert similarity(a.duplicate.signature, b.duplicate.signature) == 1.0
    assert a.duplicate.seen_before is False  # the store decides that


def test_empty_after_cleaning_is_a_permanent_error():
    with pytest.raises(StageError, match="no article text after cleaning") as err:
        clean(Document(id="e", body="<html><body><script>x()</script></body></html>", content_type="text/html"))
    assert err.value.code == "E211"
    with pytest.raises(StageError) as err:
        clean(Document(id="e2", body="Related\n\n- One headline here\n- Two headline here"))
    assert err.value.code == "E211"


def test_undecodable_body_is_a_clear_error():
    with pytest.raises(StageError) as err:
        clean(Document(id="u", body="\ufffd\ufffd\ufffd\ufffd text"))
    assert err.value.code == "E213"


def test_replayed_document_is_left_alone():
    doc = run("aggregator_ar.txt")
    again = clean(doc)
    assert again.text == doc.text and again.derived_ids == ["doc-1/part1"]


def test_split_title_only_takes_a_headline():
    assert split_title("Headline here\n\nBody sentence.") == ("Headline here", "Body sentence.")
    assert split_title("A full sentence first.\n\nMore.") == (None, "A full sentence first.\n\nMore.")
    assert split_title("Only one line") == (None, "Only one line")


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed article is not on this machine")
def test_the_real_seed_article():
    doc = clean(Document(id="seed", body=SEED.read_text(encoding="utf-8")))
    assert doc.text.startswith("أكدت المقاومة العراقية")
    assert doc.text.endswith("النظر في أولوياتها العسكرية في المنطقة.")
    for junk in ("الجديد برس", "المصدر:", "كلمات دلالية", "إقرأ أيضاً", "بوتين", "مقالات مشابهة"):
        assert junk not in doc.text
    (child,) = split_off_documents(doc)
    assert child.derived_from == "seed" and child.title.startswith("بوتين:")
