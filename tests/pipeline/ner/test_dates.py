"""DATE rules: what a user filtering by date relies on (offsets and ISO values)."""

from datetime import datetime

import pytest

from pipeline.ner.dates import find_dates

PUBLISHED = datetime(2024, 1, 26, 12)  # a Friday


def _dates(text, published=PUBLISHED):
    return [(text[d.start : d.end], d.value) for d in find_dates(text, published)]


@pytest.mark.parametrize(
    "text, mention, value",
    [
        ("أعلن في 21 فبراير 2023 أن", "21 فبراير 2023", "2023-02-21"),
        ("وقع ذلك في كانون الثاني 2024", "كانون الثاني 2024", "2024-01"),
        ("في تشرين الأول 2023 بدأت", "تشرين الأول 2023", "2023-10"),
        ("منذ شباط 2022", "شباط 2022", "2022-02"),
        ("كشفت الوكالة، مساء الأربعاء، أن", "مساء الأربعاء", "2024-01-24"),
        ("وقال ومنذ 3 أيام", "منذ 3 أيام", "2024-01-23"),
        ("الموقعة في عام 1987 بين", "عام 1987", "1987"),
        ("والخميس الماضي", "الخميس الماضي", "2024-01-25"),
        ("منذ 17 أكتوبر الماضي", "17 أكتوبر الماضي", "2023-10-17"),
        ("He spoke last Tuesday in Rome", "last Tuesday", "2024-01-23"),
        ("on 3 July 2015 and", "3 July 2015", "2015-07-03"),
        ("since October 17, 2023.", "October 17, 2023", "2023-10-17"),
        ("three days ago, officials", "three days ago", "2024-01-23"),
        ("filed 2015-07-03 at noon", "2015-07-03", "2015-07-03"),
        ("he said yesterday", "yesterday", "2024-01-25"),
    ],
)
def test_date_mentions_resolve_to_iso_values(text, mention, value):
    assert (mention, value) in _dates(text)


def test_relative_dates_without_publication_date_have_no_value():
    assert _dates("مساء الأربعاء", None) == [("مساء الأربعاء", None)]


def test_offsets_index_the_original_text_with_diacritics():
    text = "في ٢١ فبرايرَ ٢٠٢٣ وصل"
    [(mention, value)] = _dates(text)
    assert mention == "٢١ فبرايرَ ٢٠٢٣" and value == "2023-02-21"


def test_ambiguous_month_words_alone_are_not_dates():
    # مارس is also "he practised"; أب is "father".
    assert _dates("مارس الرياضة مع أب له") == []
