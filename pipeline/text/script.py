"""Writing-system (ISO 15924) of text, from Unicode code-point ranges.

Only letters count: digits, punctuation and spaces are shared by every script.
Han, Hiragana/Katakana and Hangul are told apart so Chinese, Japanese and Korean
get ``Hani``/``Jpan``/``Kore``.
"""

from __future__ import annotations

import bisect
from collections import Counter

import numpy as np

# (first, last, script) — sorted, non-overlapping; enough for every Flores-200 script.
_RANGES: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x024F, "Latn"),
    (0x0250, 0x02AF, "Latn"), (0x1E00, 0x1EFF, "Latn"), (0x2C60, 0x2C7F, "Latn"),
    (0xA720, 0xA7FF, "Latn"), (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"),
    (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"), (0x1C80, 0x1C8F, "Cyrl"), (0x2DE0, 0x2DFF, "Cyrl"), (0xA640, 0xA69F, "Cyrl"),
    (0x0530, 0x058F, "Armn"), (0x0590, 0x05FF, "Hebr"), (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"), (0xFE70, 0xFEFF, "Arab"),
    (0x0700, 0x074F, "Syrc"), (0x0780, 0x07BF, "Thaa"), (0x07C0, 0x07FF, "Nkoo"),
    (0x0900, 0x097F, "Deva"), (0xA8E0, 0xA8FF, "Deva"), (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"), (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x0D80, 0x0DFF, "Sinh"), (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"), (0x0F00, 0x0FFF, "Tibt"), (0x1000, 0x109F, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"), (0x10A0, 0x10FF, "Geor"), (0x2D00, 0x2D2F, "Geor"),
    (0x1100, 0x11FF, "Hang"), (0x3130, 0x318F, "Hang"), (0xAC00, 0xD7AF, "Hang"),
    (0x1200, 0x139F, "Ethi"), (0x2D80, 0x2DDF, "Ethi"), (0xAB00, 0xAB2F, "Ethi"),
    (0x13A0, 0x13FF, "Cher"), (0x1780, 0x17FF, "Khmr"), (0x19E0, 0x19FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"), (0x1C50, 0x1C7F, "Olck"), (0x2D30, 0x2D7F, "Tfng"),
    (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"), (0xF900, 0xFAFF, "Hani"),
    (0x20000, 0x2FA1F, "Hani"), (0xABC0, 0xABFF, "Mtei"),
])
_STARTS = [r[0] for r in _RANGES]
_SCRIPTS = sorted({r[2] for r in _RANGES})
_START_ARR = np.array(_STARTS, dtype=np.uint32)
_END_ARR = np.array([r[1] for r in _RANGES], dtype=np.uint32)
_SCRIPT_ARR = np.array([_SCRIPTS.index(r[2]) for r in _RANGES], dtype=np.int64)

NAMES = {
    "Latn": "Latin", "Arab": "Arabic", "Cyrl": "Cyrillic", "Grek": "Greek", "Hebr": "Hebrew",
    "Deva": "Devanagari", "Beng": "Bengali", "Hani": "Han", "Hans": "Han (Simplified)",
    "Hant": "Han (Traditional)", "Jpan": "Japanese", "Kore": "Korean", "Hang": "Hangul",
}


def char_script(ch: str) -> str | None:
    """ISO 15924 code of one character, or None for digits, punctuation, spaces and unknowns."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and _RANGES[i][0] <= cp <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


def script_counts(text: str, limit: int = 2000) -> Counter:
    """Letters per script in the first ``limit`` characters (a bounded sample)."""
    counts: Counter = Counter()
    for ch in text[:limit]:
        if ch.isalpha():
            script = char_script(ch)
            if script:
                counts[script] += 1
    return counts


def dominant_script(text: str, limit: int = 2000) -> str | None:
    """The script most letters of ``text`` are written in (``Jpan``/``Kore`` for CJK mixes)."""
    counts = script_counts(text, limit)
    if not counts:
        return None
    if counts["Hira"] or counts["Kana"]:
        return "Jpan"
    if counts["Hang"] and counts["Hang"] >= counts["Hani"]:
        return "Kore"
    return counts.most_common(1)[0][0]


def dominant_script_of_points(points: np.ndarray) -> str | None:
    """:func:`dominant_script` for an array of code points (vectorised, for the hot path).

    The caller has already removed digits and punctuation (see
    ``pipeline.lang.features.code_points``); code points outside every range are ignored.
    """
    if len(points) == 0:
        return None
    slot = np.searchsorted(_START_ARR, points, side="right") - 1
    inside = (slot >= 0) & (points <= _END_ARR[np.maximum(slot, 0)])
    if not inside.any():
        return None
    counts = np.bincount(_SCRIPT_ARR[slot[inside]], minlength=len(_SCRIPTS))
    named = dict(zip(_SCRIPTS, counts.tolist()))
    if named["Hira"] or named["Kana"]:
        return "Jpan"
    if named["Hang"] and named["Hang"] >= named["Hani"]:
        return "Kore"
    return _SCRIPTS[int(np.argmax(counts))]
