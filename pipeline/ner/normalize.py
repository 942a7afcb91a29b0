"""Folded lookup keys for words and names (the displayed text is never changed)."""

from __future__ import annotations

import re

# Harakat, tanween, shadda, sukun, superscript alef and Quranic marks carry no identity.
ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Letter variants that writers swap freely (and Persian letters some sites use).
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك", "ۀ": "ه", "ؤ": "و", "ئ": "ي"}
)
_DIGITS = re.compile(r"\d")
_SEPARATORS = re.compile(r"[\s\-_]+")


def fold_arabic(text: str) -> str:
    """Strip diacritics/tatweel and fold alef, ya, ta marbuta and Persian letter variants."""
    return ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)


def name_key(text: str) -> str:
    """Key for matching names across spellings: folded Arabic, casefolded Latin, single spaces."""
    text = fold_arabic(text).casefold().replace("’", "'")
    text = _SEPARATORS.sub(" ", text)
    return text.strip(" .'\"")


def word_key(token: str) -> str:
    """Vocabulary key of a token for the model: name key with every digit mapped to 0."""
    return _DIGITS.sub("0", fold_arabic(token).casefold())
