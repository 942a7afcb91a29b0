"""Unicode hygiene for display text, and a folded *matching form* for keys and lookups."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_LINE_EDGES = re.compile(r"[^\S\n]*\n[^\S\n]*")


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraphs (one blank line between them), trim the ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def nfc(text: str) -> str:
    """Unicode NFC composition, so equal-looking strings compare equal."""
    return unicodedata.normalize("NFC", text)


def matching_form(text: str) -> str:
    """A folded view for hashing and matching: NFC, casefold, single spaces.

    The displayed text is never replaced by this form.
    """
    return " ".join(nfc(text).casefold().split())
