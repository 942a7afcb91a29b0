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

from pipeline.errors import StageError
from pipeline.ner.canonical import gazetteer
from pipeline.ner.features import Encoder, lexicon_classes

BATCH = 64
BATCH_TOKENS = 768  # padded tokens per batch (see length_batches)


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

_LEXICON: tuple[object, dict[str, int]] | None = None


def _shared_lexicon() -> dict[str, int]:
    """The gazetteer's word classes, built once per process and shared by both taggers
    (the same 27k-entry dict each, ~5 MB) while the gazetteer object stays the same."""
    global _LEXICON
    gaz = gazetteer()
    if _LEXICON is None or _LEXICON[0] is not gaz:
        _LEXICON = (gaz, lexicon_classes(gaz))
    return _LEXICON[1]


def length_batches(
    order: list[int], lengths: list[int], max_sentences: int = BATCH, max_tokens: int = BATCH_TOKENS
) -> list[list[int]]:
    """Cut ``order`` (sentence indices by increasing length) into batches of at most
    ``max_sentences`` sentences and ``max_tokens`` padded tokens.

    The padded width is the batch's longest sentence, and the character convolution holds
    (sentences x width x 16 x 50) floats at once: 64 run-on sentences of 300 tokens took
    about 150 MB for a moment, which set a worker's peak RSS. Small batches of long
    sentences also run faster (their arrays stay in cache): Arabic NER went from ~16k to
    ~21k words/s per core with a 768-token budget (benchmarks/entities.py; 1536: 20k,
    3072: 17k, unbounded: 16k).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= max_sentences or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class Tagger:
    """A loaded tagger: ``tag(sentences) -> BIO tags``."""

    def __init__(self, arrays: dict[str, np.ndarray], pieces=None):
        self.meta = json.loads(str(arrays["meta"]))
        self.tags = [str(t) for t in arrays["tags"]]
        if self.meta.get("pieces") is not None:
            # Piece vectors come from the shipped topics table (not copied into this file):
            # the model is only valid with the very table it was trained with.
            if pieces is None:
                from pipeline.topics.embedder import shipped_embedder

                pieces = shipped_embedder()
            if pieces.fingerprint() != self.meta["pieces"]:
                raise StageError(
                    f"the {self.meta.get('lang')} NER model was trained with another topics piece table",
                    hint=f"retrain it: `newsflow train ner --lang {self.meta.get('lang')} --data ../shared/data/ner/{self.meta.get('lang')}`",
                    code="E215",
                )
        else:
            pieces = None
        # .tolist() gives plain str/int directly (iterating the arrays makes a throwaway numpy
        # scalar per element first).
        self.encoder = Encoder(
            arrays["words"].tolist(), arrays["counts"].tolist(), arrays["chars"].tolist(),
            _shared_lexicon(),
            dict(zip(arrays["stat_words"].tolist(), arrays["stat_counts"].astype(np.float32)))
            if "stat_words" in arrays else None,
            pieces,
        )
        self.use_stats = "stat_words" in arrays  # models before tag statistics (1.0) lack them
        f32 = lambda name: np.ascontiguousarray(arrays[name], dtype=np.float32)  # noqa: E731
        # Kept float16 as stored (half the memory: 18 MB for Arabic); _decode widens only the
        # rows a batch looks up, which gives the same float32 numbers (float16 -> float32 is exact).
        self.word_vectors = np.ascontiguousarray(arrays["word_vectors"])
        self.char_emb = f32("char_emb")
        conv = f32("conv_w")  # (filters, char_dim, 3)
        self.conv_w = [np.ascontiguousarray(conv[:, :, k].T) for k in range(conv.shape[2])]
        self.conv_b = f32("conv_b")
        self.shape_emb = f32("shape_emb")
        self.lex_emb = f32("lex_emb")
        self.piece_proj_w = np.ascontiguousarray(f32("piece_proj_w").T) if "piece_proj_w" in arrays else None
        self.piece_proj_b = f32("piece_proj_b") if "piece_proj_w" in arrays else None
        self._fuse_lstm(f32("w_ih_f"), f32("w_ih_b"), f32("w_hh_f"), f32("w_hh_b"), f32("b_f"), f32("b_b"))
        self.out_w = np.ascontiguousarray(f32("out_w").T)
        self.out_b = f32("out_b")
        self.trans, self.start, self.end = f32("trans"), f32("start"), f32("end")
        # Subtracted from the "O" score: trades precision for recall (tuned on held-out
        # training data by pipeline.training.ner_bias, stored in the model's meta).
        self.o_bias = float(self.meta.get("o_bias", 0.0))

    def _fuse_lstm(self, w_ih_f, w_ih_b, w_hh_f, w_hh_b, b_f, b_b) -> None:
        """Stack both LSTM directions so one time loop runs them (one batched matmul per step).

        The sigmoid gates' (i, f, o; torch order i, f, g, o) weights are halved, so one tanh
        over all gates gives sigmoid(x) = (tanh(x/2) + 1) / 2 for them and tanh for g.
        """
        H = w_hh_f.shape[1]
        half = np.ones(4 * H, np.float32)
        half[: 2 * H] = 0.5  # i, f
        half[3 * H :] = 0.5  # o
        self.hidden = H
        self.w_ih = {"f": np.ascontiguousarray((w_ih_f * half[:, None]).T), "b": np.ascontiguousarray((w_ih_b * half[:, None]).T)}
        self.bias = {"f": b_f * half, "b": b_b * half}
        self.w_hh = np.ascontiguousarray(np.stack([(w_hh_f * half[:, None]).T, (w_hh_b * half[:, None]).T]))  # (2, H, 4H)
        # Outside Arabic a token's stem is the token itself, so the word and stem vectors are
        # equal: adding their weight rows lets such batches skip the stem input (a third less
        # input projection for English; exact).
        dim = self.word_vectors.shape[1]
        self.w_ih_same = {
            d: np.ascontiguousarray(np.concatenate([w[:dim] + w[dim : 2 * dim], w[2 * dim :]]))
            for d, w in self.w_ih.items()
        }

    @classmethod
    def load(cls, path: Path | str, pieces=None) -> "Tagger":
        """Load a tagger from an exported ``.npz`` (``pieces``: the StaticEmbedder it was trained
        with, default the shipped one, for models using piece vectors)."""
        with np.load(path) as arrays:
            return cls(dict(arrays), pieces)

    def tag(self, sents: list[list[str]]) -> list[list[str]]:
        """BIO tags for each tokenised sentence (empty sentences give empty lists)."""
        out: list[list[str] | None] = [None] * len(sents)
        order = sorted((i for i in range(len(sents)) if sents[i]), key=lambda i: len(sents[i]))
        with _one_blas_thread():
            for idx in length_batches(order, [len(s) for s in sents]):
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

    def _bilstm(self, x: np.ndarray, rev: np.ndarray, w_ih: dict[str, np.ndarray]) -> np.ndarray:
        """Both LSTM directions in one loop; ``rev`` reverses each sentence within its length.

        Returns (B, T, 2H): forward states, then backward states put back in reading order.
        """
        B, T, _ = x.shape
        H = self.hidden
        rows = np.arange(B)[:, None]
        gates_x = np.stack([x @ w_ih["f"] + self.bias["f"], x[rows, rev] @ w_ih["b"] + self.bias["b"]])
        gates_x = np.ascontiguousarray(gates_x.transpose(0, 2, 1, 3))  # (2, T, B, 4H)
        h = np.zeros((2, B, H), np.float32)
        c = np.zeros((2, B, H), np.float32)
        out = np.empty((T, 2, B, H), np.float32)
        w_hh = self.w_hh
        for t in range(T):
            z = np.tanh(gates_x[:, t] + h @ w_hh)
            # i, f, o are sigmoids, (z + 1) / 2; g is z itself.
            c = 0.5 * ((z[..., H : 2 * H] + 1.0) * c + (z[..., :H] + 1.0) * z[..., 2 * H : 3 * H])
            h = 0.5 * (z[..., 3 * H :] + 1.0) * np.tanh(c)
            out[t] = h
        fwd = out[:, 0].transpose(1, 0, 2)
        bwd = out[:, 1].transpose(1, 0, 2)[rows, rev]
        return np.concatenate([fwd, bwd], axis=-1)

    def _decode(self, x: dict[str, np.ndarray]) -> list[list[int]]:
        lengths = x["lengths"]
        B, T = x["words"].shape
        same = np.array_equal(x["words"], x["stems"])
        parts = [
            self.word_vectors[x["words"]].astype(np.float32),
            *([] if same else [self.word_vectors[x["stems"]].astype(np.float32)]),
            self._chars(x["chars"]),
            self.shape_emb[x["shapes"]],
            self.lex_emb[x["lex"]],
        ]
        if self.use_stats:
            parts.append(x["stats"])
        if self.meta.get("stem_stats"):
            parts.append(x["stem_stats"])
        if "pieces" in x:
            # Projected here rather than folded into the LSTM weights: 128 -> 32 -> 4H is
            # cheaper than 128 -> 4H.
            parts.append(x["pieces"] @ self.piece_proj_w + self.piece_proj_b if self.piece_proj_w is not None else x["pieces"])
        feats = np.concatenate(parts, axis=-1)
        # Backward direction: reverse each sentence within its own length (padding stays at the end).
        t_idx = np.arange(T)[None, :]
        rev = np.where(t_idx < lengths[:, None], lengths[:, None] - 1 - t_idx, t_idx)
        em = self._bilstm(feats, rev, self.w_ih_same if same else self.w_ih) @ self.out_w + self.out_b
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
