"""Token -> model input ids, shared by training (torch) and inference (numpy) so they agree.

Each token gives: a word id (its folded key in the pretrained vocabulary), a stem id
(for Arabic, the key after the proclitic split of :mod:`pipeline.ner.clitics`, so
"وبريطانيا" also looks up بريطانيا), a shape id, a gazetteer class and character ids.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from pipeline.ner.clitics import proclitic_splits
from pipeline.ner.normalize import fold_arabic, word_key

PAD, UNK = 0, 1
MAX_CHARS = 16
_ARABIC = re.compile("[\u0600-\u06ff]")

SHAPES = ("pad", "lower", "title", "upper", "digit", "punct", "arabic", "mixed")
# Gazetteer classes of a token (context-free membership in the shipped name lists).
LEXICON = ("none", "place", "place-part", "person", "person-part", "org", "org-part")


def lexicon_classes(gaz) -> dict[str, int]:
    """Folded word -> LEXICON class, from the curated table and the place gazetteer."""
    out: dict[str, int] = {}
    base = {"LOC": 1, "PERSON": 3, "ORG": 5, "MISC": 5}
    for table in (gaz.curated, gaz.places):
        for key, entry in table.items():
            cls = base.get(entry.label or "LOC", 1)
            parts = key.split()
            if len(parts) == 1:
                out[key] = cls
            else:
                for part in parts:
                    out.setdefault(part, cls + 1)
    return out


def shape(token: str) -> int:
    """Coarse orthographic class of a token (case carries most English NER signal)."""
    if _ARABIC.search(token):
        return 6
    if any(c.isdigit() for c in token):
        return 4
    if not any(c.isalnum() for c in token):
        return 5
    if token.islower():
        return 1
    if token.isupper():
        return 3
    if token[0].isupper():
        return 2
    return 7


class Encoder:
    """Maps tokens to ids with a fixed vocabulary of words and characters."""

    def __init__(self, words: list[str], counts: list[int], chars: list[str], lexicon: dict[str, int] | None = None):
        self.lexicon = lexicon or {}
        self.words = list(words)
        self.chars = list(chars)
        self.word_index = {w: i + 2 for i, w in enumerate(self.words)}
        self.count = dict(zip(self.words, (int(c) for c in counts)))
        self.char_index = {c: i + 2 for i, c in enumerate(self.chars)}
        # Per-process cache: news vocabulary is Zipfian, so most tokens repeat.
        self.token_ids = functools.lru_cache(maxsize=200_000)(self._token_ids)

    def stem_key(self, key: str) -> str:
        """The most frequent proclitic-free reading of an Arabic key (the key itself if none is better)."""
        best, best_count = key, self.count.get(key, 0)
        if not _ARABIC.match(key):
            return key
        for _, stem in proclitic_splits(key):
            stem = fold_arabic(stem)
            n = self.count.get(stem, 0)
            if n > 2 * best_count + 2:
                best, best_count = stem, n
        return best

    def _token_ids(self, token: str) -> tuple[int, int, int, int, tuple[int, ...]]:
        key = word_key(token)
        stem = self.stem_key(key)
        wid = self.word_index.get(key, UNK)
        sid = self.word_index.get(stem, UNK)
        folded = fold_arabic(token).casefold()
        lex = self.lexicon.get(folded) or self.lexicon.get(stem, 0)
        chars = tuple(self.char_index.get(c, UNK) for c in fold_arabic(token)[:MAX_CHARS])
        return wid, sid, shape(token), lex, chars

    def encode(self, sents: list[list[str]]) -> dict[str, np.ndarray]:
        """Padded id arrays for a batch of tokenised sentences, plus lengths."""
        n = len(sents)
        T = max(len(s) for s in sents)
        ids = [[self.token_ids(t) for t in s] for s in sents]
        L = max(len(i[4]) for s in ids for i in s) or 1
        words = np.zeros((n, T), np.int64)
        stems = np.zeros((n, T), np.int64)
        shapes = np.zeros((n, T), np.int64)
        lex = np.zeros((n, T), np.int64)
        chars = np.zeros((n, T, L), np.int64)
        lengths = np.array([len(s) for s in sents], np.int64)
        for b, sent in enumerate(ids):
            for t, (wid, sid, shp, lx, cs) in enumerate(sent):
                words[b, t] = wid
                stems[b, t] = sid
                shapes[b, t] = shp
                lex[b, t] = lx
                chars[b, t, : len(cs)] = cs
        return {"words": words, "stems": stems, "shapes": shapes, "lex": lex, "chars": chars, "lengths": lengths}
