"""Token -> model input ids, shared by training (torch) and inference (numpy) so they agree.

Each token gives: a word id (its folded key in the pretrained vocabulary), a stem id
(for Arabic, the key after the proclitic split of :mod:`pipeline.ner.clitics`, so
"وبريطانيا" also looks up بريطانيا), a shape id, a gazetteer class and character ids,
and optionally a piece vector: the normalised mean of the token's XLM-R sentencepiece
vectors from the shipped topics table (:mod:`pipeline.topics.embedder`), which gives
rare and unseen words a vector distilled from multilingual-e5.
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
LEXICON = (
    "none", "country", "city", "town", "place-part", "person", "person-part", "org", "org-part", "loc", "loc-part"
)


_FUNCTION_WORDS = frozenset({"the", "of", "and", "de", "la", "le", "el", "al", "in", "on", "في", "من", "و"})


def lexicon_classes(gaz) -> dict[str, int]:
    """Folded word -> LEXICON class, from the curated table and the place gazetteer.

    Countries and cities of 100,000+ people are kept apart from small towns, whose
    names are often ordinary words ("Mobile", "Reading").
    """
    out: dict[str, int] = {}
    # Places first, then the curated table, which overrides (واشنطن is the capital, not a town).
    for table in (gaz.places, gaz.curated):
        for key, entry in table.items():
            if table is gaz.places:
                whole, part = {"country": 1, "city": 2}.get(entry.kind, 3), 4
            else:
                whole = {"PERSON": 5, "ORG": 7, "MISC": 7}.get(entry.label or "LOC", 9)
                part = whole + 1
            parts = key.split()
            if len(parts) == 1:
                if out.get(key, 99) > whole or table is gaz.curated:
                    out[key] = whole
            else:
                for p in parts:
                    if p not in _FUNCTION_WORDS:
                        out.setdefault(p, part)
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


STAT_LABELS = ("PERSON", "ORG", "LOC", "MISC")
N_STATS = len(STAT_LABELS) + 2  # label fractions, "seen as a name at all", log frequency


def _stat_features(counts: np.ndarray) -> np.ndarray:
    """Label fractions, their sum and a squashed log count from ``[total, per-label]`` counts."""
    total = counts[:, :, :1]
    frac = counts[:, :, 1:] / np.maximum(total, 1)
    return np.concatenate(
        [frac, frac.sum(-1, keepdims=True), np.minimum(np.log1p(total) / 6, 1)], axis=-1
    ).astype(np.float32)


class Encoder:
    """Maps tokens to ids with a fixed vocabulary of words and characters.

    ``tag_stats`` maps a word key to its training counts ``[total, PERSON, ORG, LOC, MISC]``:
    how often the word was part of each kind of name. Training uses leave-one-out
    counts (the token's own tag removed), so the feature never simply copies the answer.
    """

    def __init__(
        self, words: list[str], counts: list[int], chars: list[str], lexicon: dict[str, int] | None = None,
        tag_stats: dict[str, np.ndarray] | None = None, pieces=None,
    ):
        self.pieces = pieces  # a StaticEmbedder, or None for models without piece vectors
        self.lexicon = lexicon or {}
        self.tag_stats = tag_stats or {}
        self.words = list(words)
        self.chars = list(chars)
        self.word_index = {w: i + 2 for i, w in enumerate(self.words)}
        self.count = dict(zip(self.words, (int(c) for c in counts)))
        self.char_index = {c: i + 2 for i, c in enumerate(self.chars)}
        # Per-process cache: news vocabulary is Zipfian, so most tokens repeat.
        self.token_ids = functools.lru_cache(maxsize=200_000)(self._token_ids)
        self.stem_key = functools.lru_cache(maxsize=200_000)(self._stem_key)

    def _stem_key(self, key: str) -> str:
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

    def _token_ids(self, token: str) -> tuple:
        key = word_key(token)
        stem = self.stem_key(key)
        own = self.tag_stats.get(key)
        stem_stats = self.tag_stats.get(stem)
        stats = own if own is not None else stem_stats
        wid = self.word_index.get(key, UNK)
        sid = self.word_index.get(stem, UNK)
        folded = fold_arabic(token).casefold()
        lex = self.lexicon.get(folded) or self.lexicon.get(stem, 0)
        chars = tuple(self.char_index.get(c, UNK) for c in fold_arabic(token)[:MAX_CHARS])
        rows = tuple(self.pieces.piece_rows(token).tolist()) if self.pieces is not None else ()
        return wid, sid, shape(token), lex, chars, stats, stem_stats, stem == key, rows

    def _piece_vectors(self, ids: list[list[tuple]], T: int) -> np.ndarray:
        """(B, T, dim) unit-length sum of each token's piece vectors (zeros when none is known).

        The table rows carry SIF weights, so the sum points the way of a frequency-weighted
        mean: a word's rare pieces count more than ``▁`` or a common suffix.
        """
        emb = self.pieces
        toks = [(b * T + t, tok[8]) for b, sent in enumerate(ids) for t, tok in enumerate(sent) if tok[8]]
        out = np.zeros((len(ids) * T, emb.dim), np.float32)
        if toks:
            # Pad every token to the same number of pieces (padding weighs 0) and sum.
            width = max(len(rows) for _, rows in toks)
            index = np.full((len(toks), width), -1, np.int64)
            for k, (_, rows) in enumerate(toks):
                index[k, : len(rows)] = rows
            known = index >= 0
            index[~known] = 0
            vecs = emb.vectors[index].astype(np.float32)  # (tokens, width, dim)
            weight = known.astype(np.float32) if emb.scale is None else np.where(known, emb.scale[index], 0.0)
            sums = np.einsum("kwd,kw->kd", vecs, weight.astype(np.float32))
            sums /= np.linalg.norm(sums, axis=1, keepdims=True) + 1e-6
            out[np.array([w for w, _ in toks], np.int64)] = sums
        return out.reshape(len(ids), T, emb.dim)

    def encode(self, sents: list[list[str]], gold: list[list[str]] | None = None) -> dict[str, np.ndarray]:
        """Padded id arrays for a batch of tokenised sentences, plus lengths.

        ``gold`` (training only) gives each token's label so its own count is left out
        of its tag statistics.
        """
        n = len(sents)
        T = max(len(s) for s in sents)
        ids = [[self.token_ids(t) for t in s] for s in sents]
        L = max(len(i[4]) for s in ids for i in s) or 1
        words = np.zeros((n, T), np.int64)
        stems = np.zeros((n, T), np.int64)
        shapes = np.zeros((n, T), np.int64)
        lex = np.zeros((n, T), np.int64)
        counts = np.zeros((n, T, 1 + len(STAT_LABELS)), np.float32)
        stem_counts = np.zeros((n, T, 1 + len(STAT_LABELS)), np.float32)
        same = np.zeros((n, T), bool)
        chars = np.zeros((n, T, L), np.int64)
        lengths = np.array([len(s) for s in sents], np.int64)
        for b, sent in enumerate(ids):
            for t, (wid, sid, shp, lx, cs, st, sst, is_same, _) in enumerate(sent):
                words[b, t] = wid
                stems[b, t] = sid
                shapes[b, t] = shp
                lex[b, t] = lx
                if st is not None:
                    counts[b, t] = st
                if sst is not None:
                    stem_counts[b, t] = sst
                same[b, t] = is_same
                chars[b, t, : len(cs)] = cs
        if gold is not None:
            for b, tags in enumerate(gold):
                for t, tag in enumerate(tags):
                    for table in (counts, stem_counts) if same[b, t] else (counts,):
                        if table[b, t, 0] > 0:
                            table[b, t, 0] -= 1
                            if tag != "O":
                                table[b, t, 1 + STAT_LABELS.index(tag[2:])] -= 1
        stats = _stat_features(counts)
        out = {"words": words, "stems": stems, "shapes": shapes, "lex": lex, "stats": stats, "stem_stats": _stat_features(stem_counts), "chars": chars, "lengths": lengths}
        if self.pieces is not None:
            out["pieces"] = self._piece_vectors(ids, T)
        return out
