"""Rule-based DATE mentions in Arabic and English, resolved to ISO values where possible.

Covers absolute dates ("21 فبراير 2023", "3 July 2015", "July 3, 2015", "2015-07-03",
"21/2/2023"), Levantine/Iraqi and Maghrebi month names ("كانون الثاني", "شباط",
"جانفي"), years with a cue ("عام 2003", "in 2003"), weekdays resolved against
``published_at`` ("الأربعاء", "مساء الأربعاء", "last Tuesday", "الثلاثاء الماضي"),
and relative expressions ("منذ 3 أيام", "3 days ago", "أمس", "yesterday").

Matching runs on a folded copy of the text (no diacritics, one alef, one ya) and
maps positions back, so offsets always index the original ``Document.text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.ner.normalize import ARABIC_MARKS as _DROPPED
from pipeline.ner.normalize import fold_arabic

# Folded spellings (see normalize.fold_arabic): أ->ا, ى->ي, ة->ه.
AR_MONTHS = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "ابريلي": 4, "مايو": 5, "يونيو": 6, "يونيه": 6,
    "يوليو": 7, "يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    # Levantine and Iraqi (Syriac) names
    "كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7,
    "اب": 8, "ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
    # Maghrebi (French-derived) names
    "جانفي": 1, "فيفري": 2, "افريل": 4, "ماي": 5, "جوان": 6, "جويليه": 7, "اوت": 8,
}
EN_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
AR_WEEKDAYS = {"الاثنين": 0, "الثلاثاء": 1, "الاربعاء": 2, "الخميس": 3, "الجمعه": 4, "السبت": 5, "الاحد": 6}
EN_WEEKDAYS = {d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
AR_NUMBER_WORDS = {"يوم": 1, "يومين": 2, "يومان": 2, "اسبوع": 7, "اسبوعين": 14, "شهر": 30, "شهرين": 60}
EN_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
UNIT_DAYS = {"يوم": 1, "ايام": 1, "اسبوع": 7, "اسابيع": 7, "day": 1, "days": 1, "week": 7, "weeks": 7}


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in words), key=len, reverse=True))


_AR_MONTH = f"(?:{_alt(AR_MONTHS)})"
_EN_MONTH = rf"(?:{_alt(EN_MONTHS)})\.?"
_AR_DAY = f"(?:{_alt(AR_WEEKDAYS)})"
_EN_DAY = f"(?:{_alt(EN_WEEKDAYS)})"
_B = r"(?<![\w])"  # word start
# Arabic words may carry an attached proclitic (ومنذ, والخميس, وفي): allow one before the match.
_BA = r"(?:(?<![\w])|(?<=(?<![\w])[وفبل]))"
AMBIGUOUS_MONTHS = frozenset({"اب", "مارس", "ماي"})  # also "father", "he practised", "my water"
_E = r"(?![\w])"  # word end
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_PART_OF_DAY = "(?:مساء|صباح|ليله|ليل|فجر|ظهر|عصر|ظهيره|منتصف\\s+ليل)"

# Order matters: longer, more specific patterns first; overlaps keep the first match.
PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(rf"{_B}(?P<y>{_YEAR})-(?P<m>\d\d)-(?P<d>\d\d){_E}")),
    ("dmy_num", re.compile(rf"{_B}(?P<d>\d{{1,2}})[/.\-](?P<m>\d{{1,2}})[/.\-](?P<y>{_YEAR}){_E}")),
    ("d_ar_month_y", re.compile(rf"{_BA}(?P<d>\d{{1,2}})\s+(?:من\s+)?(?P<mon>{_AR_MONTH})(?:\s*/\s*\S+)?(?:\s+(?:عام\s+|سنه\s+)?(?P<y>{_YEAR})|\s+(?P<dir>الماضي|المقبل|القادم))?{_E}")),
    ("ar_month_y", re.compile(rf"{_BA}(?:شهر\s+)?(?P<mon>{_AR_MONTH})(?:\s+(?:من\s+)?(?:عام\s+|سنه\s+|العام\s+)?(?P<y>{_YEAR})|\s+(?P<dir>الماضي|المقبل|القادم))?{_E}")),
    ("d_en_month_y", re.compile(rf"{_B}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_EN_MONTH})(?:,?\s+(?P<y>{_YEAR}))?{_E}", re.I)),
    ("en_month_d_y", re.compile(rf"{_B}(?P<mon>{_EN_MONTH})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>{_YEAR}))?{_E}", re.I)),
    ("en_month_y", re.compile(rf"{_B}(?P<mon>{_EN_MONTH})\s+(?P<y>{_YEAR}){_E}", re.I)),
    ("ar_ago", re.compile(rf"{_BA}(?:منذ|قبل)\s+(?:(?P<n>\d+)\s+(?P<unit>ايام|يوما|يوم|اسابيع|اسبوعا|اسبوع)|(?P<word>يومين|يوم|اسبوعين|اسبوع)){_E}")),
    ("en_ago", re.compile(rf"{_B}(?:(?P<n>\d+)|(?P<word>{_alt(EN_NUMBER_WORDS)}))\s+(?P<unit>days?|weeks?)\s+ago{_E}", re.I)),
    ("ar_part_day", re.compile(rf"{_BA}{_PART_OF_DAY}\s+(?:يوم\s+)?(?:(?P<day>{_AR_DAY})|(?P<rel>امس|اليوم|الغد))(?:\s+(?P<dir>الماضي|المقبل|القادم))?{_E}")),
    ("ar_day", re.compile(rf"{_BA}(?:يوم\s+)?(?P<day>{_AR_DAY})(?:\s+(?P<dir>الماضي|المقبل|القادم))?{_E}")),
    ("en_day", re.compile(rf"{_B}(?:(?P<dir>last|next|this)\s+)?(?P<day>{_EN_DAY})(?:\s+(?P<part>morning|afternoon|evening|night))?{_E}", re.I)),
    ("ar_rel", re.compile(rf"{_BA}(?P<rel>امس|البارحه|غدا|اول\s+امس){_E}")),
    ("en_rel", re.compile(rf"{_B}(?P<rel>today|yesterday|tomorrow|tonight){_E}", re.I)),
    ("ar_year", re.compile(rf"{_BA}(?:(?:عام|العام|سنه|مطلع|اواخر|نهايه)\s+)(?P<y>{_YEAR}){_E}")),
    ("en_year", re.compile(rf"{_B}(?:(?:in|since|by|during|until|from)\s+)(?P<y>{_YEAR}){_E}")),
]
# What each pattern cannot match without (every English pattern has an ASCII word in it,
# every Arabic one an Arabic word, the numeric ones digits), probed once per text.
_SCRIPT_PROBES = {"latin": re.compile(r"[a-z]"), "arabic": re.compile(r"[\u0600-\u06ff]"), "digit": re.compile(r"[0-9]")}
_NEEDS = {kind: "digit" if kind in ("iso", "dmy_num") else "latin" if kind.startswith(("en_", "d_en_")) else "arabic"
          for kind, _pattern in PATTERNS}
_RELATIVE = {"امس": -1, "البارحه": -1, "غدا": 1, "اول امس": -2, "اليوم": 0, "الغد": 1,
             "today": 0, "yesterday": -1, "tomorrow": 1, "tonight": 0}


@dataclass(frozen=True)
class DateMention:
    """A DATE found in the text: offsets into the original text and its ISO value (or None)."""

    start: int
    end: int
    value: str | None


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text (ASCII digits too) and, for each folded character, its index in ``text``."""
    text = text.translate(_DIGITS)
    dropped = {m.start() for m in _DROPPED.finditer(text)}
    # fold_arabic maps every other character to exactly one character.
    index = [i for i in range(len(text)) if i not in dropped] if dropped else list(range(len(text)))
    index.append(len(text))
    folded = fold_arabic(text)
    lowered = folded.lower()
    if len(lowered) != len(folded):  # e.g. "İ" lowercases to two characters: keep offsets aligned
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
    return lowered, index


def _weekday(anchor: date | None, weekday: int, direction: str | None) -> str | None:
    if anchor is None:
        return None
    delta = (anchor.weekday() - weekday) % 7
    if direction in ("المقبل", "القادم", "next"):
        ahead = (weekday - anchor.weekday()) % 7 or 7
        return (anchor + timedelta(days=ahead)).isoformat()
    if direction in ("الماضي", "last") and delta == 0:
        delta = 7
    return (anchor - timedelta(days=delta)).isoformat()


def _ymd(y, m, d) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except (TypeError, ValueError):
        return None


def _year_for(month: int, day: int, anchor: date, direction: str | None) -> int:
    """Year of a month (and day) written without one: the nearest to the article date.

    "17 أكتوبر الماضي" in a January article is last October; a plain date more than
    two months ahead of the article is also taken to be in the past year.
    """
    candidate = date(anchor.year, month, min(day, 28))
    if direction in ("الماضي", "last") and candidate > anchor:
        return anchor.year - 1
    if direction in ("المقبل", "القادم", "next") and candidate < anchor:
        return anchor.year + 1
    if direction is None and (candidate - anchor).days > 60:
        return anchor.year - 1
    return anchor.year


def _month_value(groups: dict, months: dict, anchor: date | None) -> str | None:
    month = months[re.sub(r"\s+", " ", groups["mon"].lower().rstrip("."))]
    year = groups.get("y")
    if not year and anchor:
        year = _year_for(month, int(groups.get("d") or 1), anchor, groups.get("dir"))
    if groups.get("d"):
        return _ymd(year, month, groups["d"]) if year else f"XXXX-{month:02d}-{int(groups['d']):02d}"
    return f"{year}-{month:02d}" if year else f"XXXX-{month:02d}"


def _value(kind: str, g: dict, anchor: date | None) -> str | None:
    if kind in ("iso", "dmy_num"):
        return _ymd(g["y"], g["m"], g["d"])
    if kind in ("d_ar_month_y", "ar_month_y"):
        return _month_value(g, AR_MONTHS, anchor)
    if kind in ("d_en_month_y", "en_month_d_y", "en_month_y"):
        return _month_value(g, EN_MONTHS, anchor)
    if kind in ("ar_year", "en_year"):
        return g["y"]
    if kind in ("ar_ago", "en_ago"):
        if anchor is None:
            return None
        if g.get("n"):
            days = int(g["n"]) * UNIT_DAYS.get(g["unit"].lower().rstrip("ا"), 1)
            if g["unit"].lower().startswith(("اسبوع", "اسابيع", "week")):
                days = int(g["n"]) * 7
        else:
            word = g["word"].lower()
            days = AR_NUMBER_WORDS.get(word) or EN_NUMBER_WORDS.get(word, 1) * (7 if g["unit"].lower().startswith("week") else 1)
        return (anchor - timedelta(days=days)).isoformat()
    if kind in ("ar_part_day", "ar_day", "en_day"):
        if g.get("rel"):
            return (anchor + timedelta(days=_RELATIVE[g["rel"]])).isoformat() if anchor else None
        days = AR_WEEKDAYS if kind != "en_day" else EN_WEEKDAYS
        direction = g.get("dir").lower() if g.get("dir") else None
        return _weekday(anchor, days[g["day"].lower()], direction)
    if kind in ("ar_rel", "en_rel"):
        rel = re.sub(r"\s+", " ", g["rel"].lower())
        return (anchor + timedelta(days=_RELATIVE[rel])).isoformat() if anchor else None
    return None


def find_dates(text: str, published_at: datetime | date | None = None) -> list[DateMention]:
    """Every DATE mention in ``text`` (non-overlapping, in order), resolved against ``published_at``."""
    anchor = published_at.date() if isinstance(published_at, datetime) else published_at
    folded, index = _fold_with_map(text)
    taken: list[tuple[int, int]] = []
    out: list[DateMention] = []
    present = {script for script, probe in _SCRIPT_PROBES.items() if probe.search(folded)}
    for kind, pattern in PATTERNS:
        if _NEEDS[kind] not in present:
            continue  # e.g. the English patterns on an all-Arabic article: half the scans saved
        for m in pattern.finditer(folded):
            s, e = m.start(), m.end()
            if any(s < te and ts < e for ts, te in taken):
                continue
            if kind == "ar_month_y" and not m.group("y") and re.sub(r"\s+", " ", m.group("mon")) in AMBIGUOUS_MONTHS:
                continue
            taken.append((s, e))
            start, end = index[s], index[e - 1] + 1
            out.append(DateMention(start, end, _value(kind, m.groupdict(), anchor)))
    out.sort(key=lambda d: d.start)
    return out
