"""Arabic-script languages told apart by letters only some of them write.

Arabic, Persian, Urdu, Pashto, Sorani Kurdish, Uyghur, Sindhi and others share the
Arabic script. The model already sees these letters inside its n-grams; this module
adds them as hard evidence on top: a letter that a language does not write is
evidence against that language (Urdu ے in the text: not Persian; Arabic ة: not Urdu).

Persian-form yeh and keheh (ی ک) and Arabic-form yeh and kaf (ي ك) are deliberately
not evidence: Arabic sites often type Arabic words on Persian keyboards (the seed
article's keyword line does), and Persian sites sometimes the reverse, so these
letters must not flip an article. The owners below were read off SIB-200 train
(a letter belongs to a language when it is at least 3 in 10,000 of its letters).
"""

from __future__ import annotations

import functools

import numpy as np

_ARABIC = ("ar",)  # every Arabic variety folds to this key below
_JAWI = ("ace", "bjn", "min")  # Malay-world Jawi/Pegon orthographies

# letter -> languages (ISO 639-3, Arabic varieties as "ar") that write it
OWNERS: dict[str, tuple[str, ...]] = {
    # Arabic letters the Persian-family orthographies do not use
    "ة": _ARABIC + _JAWI + ("knc",),
    "إ": _ARABIC + ("bjn", "knc"),
    "ى": _ARABIC + _JAWI + ("knc", "uig"),
    # Persian letters (also Urdu, Pashto, Kurdish, ...; never Arabic)
    "پ": ("pes", "prs", "azb", "ckb", "kas", "pbt", "snd", "uig", "urd"),
    "چ": ("pes", "prs", "azb", "ckb", "kas", "knc", "pbt", "snd", "uig", "urd") + _JAWI,
    "ژ": ("pes", "prs", "azb", "ckb", "kas", "pbt", "uig"),
    "گ": ("pes", "prs", "azb", "ckb", "kas", "snd", "uig", "urd"),
    # Urdu (and Kashmiri)
    "ٹ": ("urd", "kas"), "ڈ": ("urd", "kas"), "ڑ": ("urd", "kas"), "ں": ("urd", "kas"),
    "ے": ("urd", "kas"), "ہ": ("urd", "kas", "snd"), "ھ": ("urd", "kas", "snd", "uig"),
    # Pashto
    "ټ": ("pbt",), "ځ": ("pbt",), "څ": ("pbt",), "ډ": ("pbt",), "ړ": ("pbt",),
    "ږ": ("pbt",), "ښ": ("pbt",), "ګ": ("pbt",), "ڼ": ("pbt",), "ۍ": ("pbt", "kas"),
    "ې": ("pbt", "uig"),
    # Sorani Kurdish (and Uyghur)
    "ڕ": ("ckb",), "ڵ": ("ckb",), "ێ": ("ckb",), "ۆ": ("ckb", "uig"), "ە": ("ckb", "uig"),
    # Uyghur
    "ۇ": ("uig",), "ۈ": ("uig",), "ۋ": ("uig",), "ڭ": ("uig",),
    # Sindhi
    "ٺ": ("snd",), "ٻ": ("snd",), "ٽ": ("snd",), "ٿ": ("snd",), "ڀ": ("snd",), "ڃ": ("snd",),
    "ڄ": ("snd",), "ڇ": ("snd",), "ڊ": ("snd",), "ڌ": ("snd",), "ڍ": ("snd",), "ڏ": ("snd",),
    "ڙ": ("snd",), "ڪ": ("snd",), "ڳ": ("snd",), "ڻ": ("snd",),
    # Kashmiri
    "ٲ": ("kas",), "ۄ": ("kas",),
    # Jawi / Pegon
    "ڠ": _JAWI, "ڤ": _JAWI + ("ckb",), "ڽ": _JAWI, "ݢ": _JAWI, "ڬ": ("bjn", "min"),
}

# Log-score lost per occurrence of a letter the language does not write; capped so
# a few loanword letters in a long text cannot outvote the model on their own.
PER_LETTER = 1.5
MAX_PER_LETTER_TYPE = 3
MAX_TOTAL = 9.0

_LETTERS = tuple(OWNERS)
_BASE = 0x0600
_SLOT = np.full(0x0800 - _BASE, -1, dtype=np.int64)
for _k, _ch in enumerate(_LETTERS):
    _SLOT[ord(_ch) - _BASE] = _k


def _language_key(label: str) -> str:
    from pipeline.lang.codes import arabic_variant

    return "ar" if arabic_variant(label) else label.partition("_")[0]


@functools.lru_cache(maxsize=4)
def _penalties(labels: tuple[str, ...]) -> np.ndarray:
    """(letters x labels) matrix: -PER_LETTER where the label's language lacks the letter."""
    keys = [_language_key(lb) for lb in labels]
    arab = np.array([lb.endswith("_Arab") for lb in labels])
    matrix = np.zeros((len(_LETTERS), len(labels)), dtype=np.float32)
    for k, ch in enumerate(_LETTERS):
        lacks = np.array([key not in OWNERS[ch] for key in keys])
        # Labels in other scripts are already ruled out by the script check.
        matrix[k] = -PER_LETTER * (lacks & arab)
    return matrix


def letter_counts(points: np.ndarray) -> np.ndarray:
    """Occurrences of each letter of :data:`OWNERS` in an array of code points."""
    inside = points[(points >= _BASE) & (points < _BASE + len(_SLOT))]
    slots = _SLOT[inside - _BASE]
    return np.bincount(slots[slots >= 0], minlength=len(_LETTERS))


def arabic_letter_evidence(points: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Additive log-score adjustments per label for Arabic-script text (zeros: no evidence)."""
    counts = np.minimum(letter_counts(points), MAX_PER_LETTER_TYPE).astype(np.float32)
    if not counts.any():
        return np.zeros(len(labels), dtype=np.float32)
    return np.maximum(counts @ _penalties(labels), -MAX_TOTAL)


def distinctive_letters(text: str) -> dict[str, int]:
    """Letters of ``text`` that only some Arabic-script languages write, with their counts."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    counts = letter_counts(points)
    return {_LETTERS[k]: int(n) for k, n in enumerate(counts) if n}
