"""The linear topic head over article embeddings, with calibration.

Training data comes from datasets with different closed label sets (SIB-200 has no
economy label, BBC has no health label), so the head is trained with a *masked*
softmax: each example competes only among the IPTC codes its dataset can express.
At run time the head scores every trained code; calibration then maps each raw
probability to "the fraction of articles scored this high that carry the topic",
fitted on held-out data (Platt scaling; the shipped head shares one (a, b) across
topics, so calibration never reorders them, but the format stores one pair per topic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def softmax(z: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row softmax; entries where ``mask`` is False get probability 0."""
    if mask is not None:
        z = np.where(mask, z, -1e9)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass
class TopicHead:
    """Linear head (``codes`` x dim) plus Platt calibration (a pair per code) on the raw log-probability."""

    codes: list[str]
    weight: np.ndarray  # [n_codes, dim]
    bias: np.ndarray  # [n_codes]
    cal_a: np.ndarray  # [n_codes]: calibrated = sigmoid(a * log p + b)
    cal_b: np.ndarray

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated softmax probabilities over ``codes`` for embeddings ``x`` ([n, dim] or [dim])."""
        return softmax(x @ self.weight.T + self.bias)

    def calibrated(self, x: np.ndarray) -> np.ndarray:
        """Calibrated per-code probabilities (each in [0, 1], not summing to 1)."""
        p = self.raw(x)
        return sigmoid(self.cal_a * np.log(np.clip(p, 1e-9, 1.0)) + self.cal_b)


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, l2: float = 1e-3, iters: int = 50) -> np.ndarray:
    """Weighted logistic regression by Newton's method; ``x`` must include a bias column.

    Used for the small calibration and fusion fits (2-3 parameters each).
    """
    w = np.ones(len(y)) if w is None else w
    beta = np.zeros(x.shape[1])
    for _ in range(iters):
        p = sigmoid(x @ beta)
        grad = x.T @ (w * (p - y)) + l2 * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def fit_platt(logp: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """Platt scaling: (a, b) of sigmoid(a * logp + b) fitted to binary targets ``y``."""
    beta = fit_logistic(np.column_stack([logp, np.ones(len(logp))]), y, w)
    return float(beta[0]), float(beta[1])


def reliability_table(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[tuple[float, float, int, float]]:
    """(bin low, bin high, count, observed positive rate, mean score) rows over all (article, topic) pairs."""
    rows = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    s, y = scores.ravel(), labels.ravel()
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (s >= lo) & ((s < hi) if hi < 1.0 else (s <= hi))
        n = int(sel.sum())
        rows.append((float(lo), float(hi), n, float(y[sel].mean()) if n else float("nan"), float(s[sel].mean()) if n else float("nan")))
    return rows


def expected_calibration_error(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: count-weighted mean |observed rate - mean score| over the reliability bins."""
    rows = reliability_table(scores, labels, bins)
    total = sum(r[2] for r in rows)
    return float(sum(r[2] * abs(r[3] - r[4]) for r in rows if r[2]) / max(total, 1))


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of an accuracy of ``hits`` out of ``n`` ((nan, nan) when n is 0).

    Dev sets here are small (99 SIB-200 sentences per language): the interval says how far
    apart two runs can land by chance before a difference means anything.
    """
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= hits <= n:
        raise ValueError(f"{hits} hits out of {n} items")
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # Exact at the ends: rounding would otherwise leave 0.9999999999999999 for all right.
    return (0.0 if hits == 0 else centre - half), (1.0 if hits == n else centre + half)


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Macro-averaged F1 over the gold label set (nan when there is no gold label)."""
    f1s = []
    for c in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s)) if f1s else float("nan")
