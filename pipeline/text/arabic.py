"""Arabic-script folding for the *matching form* (keys, hashing, gazetteer lookups).

The displayed text is never folded; only the matching view is. The folding:

* removes tatweel (U+0640) and diacritics (harakat, tanween, shadda, sukun, dagger
  alef, Quranic annotation marks);
* unifies alef forms: أ إ آ ٱ (and the rarer wavy-hamza forms) -> ا;
* alef maqsura ى -> ي;
* Persian/Urdu letters that copy-pasted Arabic text often carries: ی (U+06CC),
  ې ۍ ێ -> ي and ک (U+06A9) -> ك. camel-tools maps ی to ى and pyarabic leaves both
  untouched, which is why this lives here;
* Arabic-Indic (U+0660-0669) and Persian (U+06F0-06F9) digits -> ASCII 0-9.

Everything is one ``str.translate`` table, so folding is a single linear pass.
"""

from __future__ import annotations

TATWEEL = "\u0640"

# Combining marks used in Arabic script: Quranic signs, harakat/tanween/shadda/sukun
# and the extended marks up to U+065F, the dagger (superscript) alef, and the small
# high/low Quranic annotation marks.
DIACRITICS = (
    [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x06D6, 0x06DD)]
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + [chr(c) for c in range(0x06E7, 0x06E9)]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
)

LETTER_FOLDS = {
    # alef forms
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0622": "\u0627",  # آ
    "\u0671": "\u0627",  # ٱ alef wasla
    "\u0672": "\u0627",  # ٲ
    "\u0673": "\u0627",  # ٳ
    # ya forms
    "\u0649": "\u064a",  # ى alef maqsura
    "\u06cc": "\u064a",  # ی Farsi yeh
    "\u06d0": "\u064a",  # ې
    "\u06cd": "\u064a",  # ۍ
    "\u06ce": "\u064a",  # ێ
    # kaf forms
    "\u06a9": "\u0643",  # ک keheh
    "\u06aa": "\u0643",  # ڪ swash kaf
}

_TABLE: dict[int, str | None] = {ord(TATWEEL): None}
_TABLE.update({ord(mark): None for mark in DIACRITICS})
_TABLE.update({ord(src): dst for src, dst in LETTER_FOLDS.items()})
_TABLE.update({0x0660 + d: str(d) for d in range(10)})  # Arabic-Indic digits
_TABLE.update({0x06F0 + d: str(d) for d in range(10)})  # Persian (extended) digits


def fold_arabic(text: str) -> str:
    """Arabic-script folding for matching: drop tatweel/diacritics, unify alef/ya/kaf, ASCII digits.

    Latin and other scripts pass through unchanged. Not for display.
    """
    return text.translate(_TABLE)


def digits_to_ascii(text: str) -> str:
    """Only the digit part of the folding: Arabic-Indic and Persian digits to 0-9."""
    return text.translate(_DIGITS)


_DIGITS = {0x0660 + d: str(d) for d in range(10)} | {0x06F0 + d: str(d) for d in range(10)}
