"""The language-identification model: hashed n-gram embeddings, averaged, then a linear layer.

This is the fastText architecture (Joulin et al. 2016) evaluated in numpy: a text is
the mean of the embedding rows of its hashed character n-grams, and a softmax layer
maps that mean to one score per language variety. Weights live in one ``.npz`` file
under ``pipeline/data/language/`` and are loaded once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import StageError
from pipeline.lang.features import hash_ngrams, ngram_ids
from pipeline.resources import data_path, resource

MODEL_FILE = "langid.npz"


@dataclass(frozen=True)
class LangModel:
    """Trained weights plus the label (``lang_Script``) of every output."""

    labels: tuple[str, ...]
    embeddings: np.ndarray  # (2**bits, dim): float16 on disk, float32 in memory (4x faster gathers)
    weights: np.ndarray  # (dim, n_labels), float32
    bias: np.ndarray  # (n_labels,), float32
    bits: int
    meta: dict

    def logits(self, text: str) -> np.ndarray:
        """Unnormalised scores per label; all zeros when the text has no usable characters."""
        return self.logits_of_ids(ngram_ids(text, self.bits))

    def logits_of_points(self, points: np.ndarray) -> np.ndarray:
        """:meth:`logits` for code points from ``pipeline.lang.features.code_points``."""
        return self.logits_of_ids(hash_ngrams(points, self.bits))

    def logits_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """Scores for a bag of n-gram bucket ids (the mean of their embeddings, then the head)."""
        if len(ids) == 0:
            return np.zeros(len(self.labels), dtype=np.float32)
        # take() + a weighted sum is several times faster than fancy indexing + mean().
        share = np.full(len(ids), 1.0 / len(ids), dtype=np.float32)
        hidden = share @ self.embeddings.take(ids, axis=0)
        return hidden @ self.weights + self.bias

    def probabilities(self, text: str) -> np.ndarray:
        """Softmax over :meth:`logits`."""
        return softmax(self.logits(text))

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` (no pickles)."""
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            embeddings=self.embeddings.astype(np.float16),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            bits=np.array(self.bits),
            meta=np.array(json.dumps(self.meta)),
        )


def softmax(scores: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a 1-d score vector."""
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def load_model(path: Path) -> LangModel:
    """Read a model written by :meth:`LangModel.save`."""
    if not Path(path).is_file():
        raise StageError(
            f"language model {path} is missing",
            hint="reinstall newsflow or run `newsflow train language` to rebuild it",
            code="E220",
        )
    with np.load(path, allow_pickle=False) as data:
        return LangModel(
            labels=tuple(str(x) for x in data["labels"]),
            embeddings=data["embeddings"].astype(np.float32),
            weights=data["weights"],
            bias=data["bias"],
            bits=int(data["bits"]),
            meta=json.loads(str(data["meta"])),
        )


@resource("language.model")
def shipped_model() -> LangModel:
    """The model shipped in ``pipeline/data/language``, loaded once per process."""
    return load_model(data_path("language", MODEL_FILE))
