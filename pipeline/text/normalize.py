"""Unicode hygiene for display text, and a folded *matching form* for keys and lookups.

Display text (``Document.text``) keeps the article as written: only invisible
controls, entities and whitespace are touched. The matching form additionally
case-folds and applies the Arabic folding of :mod:`pipeline.text.arabic`; it is what
gazetteers, duplicate keys and marker tables compare, never what users see.

Every function here is a linear pass (``str.translate``, ``split`` or a regex without
nested quantifiers), so hostile input cannot make them backtrack.
"""

from __future__ import annotations

import html
import re
import unicodedata

from pipeline.text.arabic import fold_arabic

# Invisible format controls removed from display text: zero-width space, LRM/RLM,
# bidi embeddings/overrides (U+202A-202E) and isolates (U+2066-2069), the Arabic
# letter mark, word joiner, BOM/zero-width no-break space and the soft hyphen.
# ZWNJ/ZWJ (U+200C/U+200D) are handled separately below.
_INVISIBLE = (
    ["\u200b", "\u200e", "\u200f", "\u061c", "\u2060", "\ufeff", "\u00ad"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
# C0/C1 control characters other than tab and newline carry no text.
_CONTROLS = [chr(c) for c in range(0x00, 0x20) if chr(c) not in "\t\n\r\f\v"] + [
    chr(c) for c in range(0x7F, 0xA0) if c != 0x85
]
_HYGIENE_TABLE: dict[int, str | None] = {ord(ch): None for ch in _INVISIBLE + _CONTROLS}
# Unicode line/paragraph separators and NEL become plain newlines.
_HYGIENE_TABLE.update({0x2028: "\n", 0x2029: "\n\n", 0x85: "\n"})

# ZWNJ/ZWJ are orthographic inside Persian/Urdu words (and join emoji), so they are
# kept there; a stray one next to a space, punctuation or a line edge is noise.
_STRAY_JOINERS = re.compile(r"(?<!\w)[\u200c\u200d]+|[\u200c\u200d]+(?!\w)")

_SPACES = re.compile(r"[^\S\n]+")

# The matching form drops every joiner and zero-width mark.
_MATCH_TABLE: dict[int, str | None] = dict(_HYGIENE_TABLE)
_MATCH_TABLE.update({0x200C: None, 0x200D: None})


def nfc(text: str) -> str:
    """Unicode NFC composition, so equal-looking strings compare equal."""
    return unicodedata.normalize("NFC", text)


def strip_invisible(text: str) -> str:
    """Remove zero-width and bidi controls, soft hyphens, BOMs and stray control characters.

    ZWNJ/ZWJ survive only between two word characters, where Persian, Urdu and emoji
    sequences need them.
    """
    text = text.translate(_HYGIENE_TABLE)
    if "\u200c" in text or "\u200d" in text:
        text = _STRAY_JOINERS.sub("", text)
    return text


def decode_entities(text: str) -> str:
    """Decode HTML character references (``&amp;``, ``&#1575;``, ``&nbsp;``) left in plain text."""
    return html.unescape(text) if "&" in text else text


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraphs (one blank line between them), trim the ends.

    Single line breaks inside a paragraph are kept; two or more consecutive empty
    lines become one paragraph break.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    blank = False
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)


def hygiene(text: str) -> str:
    """The full display-text hygiene: entities, NFC, invisible controls, whitespace."""
    return normalize_whitespace(strip_invisible(nfc(decode_entities(text))))


def matching_form(text: str) -> str:
    """A folded view for hashing and matching: NFC, invisible marks removed, casefold,
    Arabic folding (alef/ya/kaf, Persian ی ک, no tatweel or diacritics, ASCII digits),
    single spaces.

    The displayed text is never replaced by this form.
    """
    folded = fold_arabic(nfc(text).translate(_MATCH_TABLE).casefold())
    return " ".join(folded.split())
