"""Tokens with character offsets, and sentence chunks for the tagger.

Tokens follow the conventions of the training corpora: words keep their attached
Arabic proclitics (ANERcorp tags "والعراق" as one token), punctuation stands alone,
Latin abbreviations such as "U.S." and the English possessive "'s" are single tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}"  # U.S., U.N.
    r"|'s\b|’s\b"
    r"|\d+(?:[.,:/]\d+)+"  # 3.5, 1,000, 10:30, 21/2/2023
    r"|[\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]+(?:-\w+|['’](?!s\b)\w+)*"
    r"|[^\w\s]"
)
_SENTENCE_END = frozenset(".!?؟\n")
MAX_SENTENCE = 80


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text and its [start, end) offsets in the document text."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` with their offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def sentences(tokens: list[Token], text: str) -> list[list[Token]]:
    """Group tokens into sentences (ends at . ! ? ؟ or a line break), at most MAX_SENTENCE long."""
    out: list[list[Token]] = []
    current: list[Token] = []
    previous_end = 0
    for token in tokens:
        if current and "\n" in text[previous_end:token.start]:
            out.append(current)
            current = []
        current.append(token)
        previous_end = token.end
        if token.text in _SENTENCE_END or len(current) >= MAX_SENTENCE:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out
