"""Static multilingual text embeddings: a table of per-piece vectors, mean-pooled.

The table was distilled from multilingual-e5-small (see :mod:`pipeline.topics.distil`)
and fine-tuned with the topic head. Vectors are stored as int8 with one float scale per
row (4x smaller than float32, and the classification loss from quantising is below 0.1
point). A piece missing from the table (rare scripts, pieces never seen) contributes
nothing. Weights down-weight frequent pieces (SIF: a / (a + p(piece))), so ``the``,
``من`` and punctuation barely move the article vector.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.resources import data_path, resource
from pipeline.topics.tokenizer import Tokenizer, Vocab


@dataclass
class StaticEmbedder:
    """Piece table plus the tokenizer that produces its piece ids."""

    tokenizer: Tokenizer
    rows: np.ndarray  # piece id -> table row, -1 when absent (int32, len = vocab size)
    vectors: np.ndarray  # [n_rows, dim], already scaled by the SIF weight: float32, or int8 with `scale`
    # Per-row scale of an int8 table. Kept quantised in memory (32 MB instead of 128 MB
    # per worker process) and dequantised only for the rows an article uses.
    scale: np.ndarray | None = None

    @property
    def dim(self) -> int:
        """Embedding width."""
        return int(self.vectors.shape[1])

    def piece_rows(self, text: str) -> np.ndarray:
        """Table rows of the pieces of ``text`` that the table knows."""
        ids = np.fromiter(self.tokenizer.encode(text), dtype=np.int64)
        if ids.size == 0:
            return ids
        rows = self.rows[ids]
        return rows[rows >= 0]

    def embed(self, text: str) -> np.ndarray:
        """L2-normalised mean of the weighted piece vectors of ``text`` (zeros when nothing is known)."""
        rows = self.piece_rows(text)
        if rows.size == 0:
            return np.zeros(self.dim, dtype=np.float32)
        picked = self.vectors[rows]
        if self.scale is not None:
            picked = picked.astype(np.float32) * self.scale[rows][:, None]
        x = picked.mean(axis=0)
        return x / (float(np.sqrt(x @ x)) + 1e-12)

    def fingerprint(self) -> int:
        """CRC32 of the table, so a model trained on these vectors can tell a retrained table apart."""
        # Straight from the array's buffer: .tobytes() would copy the 22 MB table once more.
        crc = zlib.crc32(np.ascontiguousarray(self.vectors))
        if self.scale is not None:
            crc = zlib.crc32(np.ascontiguousarray(self.scale), crc)
        return crc

    @classmethod
    def load(cls, model_dir: Path) -> "StaticEmbedder":
        """The tokenizer (``vocab.npz``) and int8 piece table (``table.npz``) in ``model_dir``."""
        vocab = Vocab.load(model_dir / "vocab.npz")
        rows, vectors, scale = cls.load_table(model_dir / "table.npz", len(vocab.pieces))
        return cls(Tokenizer(vocab), rows, vectors, scale)

    @staticmethod
    def save_table(path: Path, piece_ids: np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors`` (rows for ``piece_ids``) as int8 plus a per-row scale."""
        scale = np.abs(vectors).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        q = np.round(vectors / scale[:, None]).astype(np.int8)
        np.savez_compressed(path, piece_ids=piece_ids.astype(np.int32), q=q, scale=scale.astype(np.float32))

    @staticmethod
    def load_table(path: Path, vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, int8 vectors, per-row scale) from a table written by :meth:`save_table`."""
        with np.load(path) as z:
            q = np.ascontiguousarray(z["q"])
            scale = z["scale"].astype(np.float32)
            rows = np.full(vocab_size, -1, dtype=np.int32)
            rows[z["piece_ids"]] = np.arange(len(z["piece_ids"]), dtype=np.int32)
        return rows, q, scale


@resource("topics.embedder")
def shipped_embedder() -> StaticEmbedder:
    """The shipped piece table, loaded once per process: the topic model and the NER
    taggers (word features from its pieces) share it."""
    return StaticEmbedder.load(data_path("topics"))
