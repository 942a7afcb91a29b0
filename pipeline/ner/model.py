"""The NER tagger at inference time: a BiLSTM-CRF run in numpy (no torch in workers).

Weights come from ``pipeline/data/entities/ner-<lang>.npz`` written by
:mod:`pipeline.training.ner`. Sentences are tagged in batches: the input projection is
one matrix product per batch, the recurrences loop over time steps only.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from pipeline.ner.canonical import gazetteer
from pipeline.ner.features import Encoder, lexicon_classes

BATCH = 64


def _one_blas_thread():
    """A context that runs BLAS on one thread.

    The tagger's matrices are small: OpenBLAS spreading them over every core makes
    tagging 5-7x slower (measured 6k vs 44k tokens/s), and a worker runs one process
    per core anyway.
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except ImportError:  # optional: without threadpoolctl set OPENBLAS_NUM_THREADS=1
        return contextlib.nullcontext()


_CONTROLLER = None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class Tagger:
    """A loaded tagger: ``tag(sentences) -> BIO tags``."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.meta = json.loads(str(arrays["meta"]))
        self.tags = [str(t) for t in arrays["tags"]]
        self.encoder = Encoder(
            [str(w) for w in arrays["words"]], list(arrays["counts"]), [str(c) for c in arrays["chars"]],
            lexicon_classes(gazetteer()),
            {str(w): c for w, c in zip(arrays["stat_words"], arrays["stat_counts"].astype(np.float32))}
            if "stat_words" in arrays else None,
        )
        self.use_stats = "stat_words" in arrays  # models before tag statistics (1.0) lack them
        f32 = lambda name: np.ascontiguousarray(arrays[name], dtype=np.float32)  # noqa: E731
        self.word_vectors = f32("word_vectors")
        self.char_emb = f32("char_emb")
        conv = f32("conv_w")  # (filters, char_dim, 3)
        self.conv_w = [np.ascontiguousarray(conv[:, :, k].T) for k in range(conv.shape[2])]
        self.conv_b = f32("conv_b")
        self.shape_emb = f32("shape_emb")
        self.lex_emb = f32("lex_emb")
        self.w_ih = {d: np.ascontiguousarray(f32(f"w_ih_{d}").T) for d in "fb"}
        self.w_hh = {d: np.ascontiguousarray(f32(f"w_hh_{d}").T) for d in "fb"}
        self.bias = {d: f32(f"b_{d}") for d in "fb"}
        self.out_w = np.ascontiguousarray(f32("out_w").T)
        self.out_b = f32("out_b")
        self.trans, self.start, self.end = f32("trans"), f32("start"), f32("end")
        # Subtracted from the "O" score: trades precision for recall (tuned on held-out
        # training data by pipeline.training.ner_bias, stored in the model's meta).
        self.o_bias = float(self.meta.get("o_bias", 0.0))

    @classmethod
    def load(cls, path: Path | str) -> "Tagger":
        """Load a tagger from an exported ``.npz``."""
        with np.load(path) as arrays:
            return cls(dict(arrays))

    def tag(self, sents: list[list[str]]) -> list[list[str]]:
        """BIO tags for each tokenised sentence (empty sentences give empty lists)."""
        out: list[list[str] | None] = [None] * len(sents)
        order = sorted((i for i in range(len(sents)) if sents[i]), key=lambda i: len(sents[i]))
        with _one_blas_thread():
            for k in range(0, len(order), BATCH):
                idx = order[k : k + BATCH]
                paths = self._decode(self.encoder.encode([sents[i] for i in idx]))
                for i, path in zip(idx, paths):
                    out[i] = [self.tags[j] for j in path]
        return [o if o is not None else [] for o in out]

    def _chars(self, chars: np.ndarray) -> np.ndarray:
        B, T, L = chars.shape
        e = self.char_emb[chars]  # (B, T, L, C)
        pad = np.zeros((B, T, 1, e.shape[3]), np.float32)
        padded = np.concatenate([pad, e, pad], axis=2)
        conv = self.conv_b + padded[:, :, 0:L] @ self.conv_w[0]
        conv += padded[:, :, 1 : L + 1] @ self.conv_w[1]
        conv += padded[:, :, 2 : L + 2] @ self.conv_w[2]
        conv[chars == 0] = -1e4
        return np.tanh(conv.max(axis=2))

    def _lstm(self, x: np.ndarray, d: str) -> np.ndarray:
        B, T, _ = x.shape
        H = self.w_hh[d].shape[0]
        gates_x = x @ self.w_ih[d] + self.bias[d]
        h = np.zeros((B, H), np.float32)
        c = np.zeros((B, H), np.float32)
        out = np.empty((B, T, H), np.float32)
        w_hh = self.w_hh[d]
        for t in range(T):
            g = gates_x[:, t] + h @ w_hh
            i = _sigmoid(g[:, :H])
            f = _sigmoid(g[:, H : 2 * H])
            gg = np.tanh(g[:, 2 * H : 3 * H])
            o = _sigmoid(g[:, 3 * H :])
            c = f * c + i * gg
            h = o * np.tanh(c)
            out[:, t] = h
        return out

    def _decode(self, x: dict[str, np.ndarray]) -> list[list[int]]:
        lengths = x["lengths"]
        B, T = x["words"].shape
        parts = [
            self.word_vectors[x["words"]],
            self.word_vectors[x["stems"]],
            self._chars(x["chars"]),
            self.shape_emb[x["shapes"]],
            self.lex_emb[x["lex"]],
        ]
        if self.use_stats:
            parts.append(x["stats"])
        if self.meta.get("stem_stats"):
            parts.append(x["stem_stats"])
        feats = np.concatenate(parts, axis=-1)
        # Backward direction: reverse each sentence within its own length (padding stays at the end).
        t_idx = np.arange(T)[None, :]
        rev = np.where(t_idx < lengths[:, None], lengths[:, None] - 1 - t_idx, t_idx)
        rows = np.arange(B)[:, None]
        fwd = self._lstm(feats, "f")
        bwd = self._lstm(feats[rows, rev], "b")[rows, rev]
        em = np.concatenate([fwd, bwd], axis=-1) @ self.out_w + self.out_b
        if self.o_bias:
            em[:, :, 0] -= self.o_bias
        return self._viterbi(em, lengths)

    def _viterbi(self, em: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        B, T, K = em.shape
        score = self.start + em[:, 0]
        back = np.zeros((B, T, K), np.int64)
        for t in range(1, T):
            cand = score[:, :, None] + self.trans[None]
            best = cand.argmax(axis=1)
            nxt = np.take_along_axis(cand, best[:, None, :], axis=1)[:, 0] + em[:, t]
            live = (t < lengths)[:, None]
            score = np.where(live, nxt, score)
            back[:, t] = best
        score = score + self.end
        paths = []
        for b in range(B):
            n = int(lengths[b])
            k = int(score[b].argmax())
            path = [k]
            for t in range(n - 1, 0, -1):
                k = int(back[b, t, k])
                path.append(k)
            paths.append(path[::-1])
        return paths
