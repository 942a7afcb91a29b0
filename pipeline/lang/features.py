"""Hashed character n-gram features for language identification, computed in numpy.

A text becomes the bucket ids of all its character 1..5-grams (after a light
normalisation). Rolling hashes over the code-point array keep this vectorised:
there is no Python loop per n-gram, which is what makes >10k sentences/s possible.
Training and inference share this module, so the features can never drift apart.
"""

from __future__ import annotations

import re

import numpy as np

MIN_N = 1
MAX_N = 5
# Odd 64-bit multipliers: one for the rolling hash, one to mix the order in.
_ROLL = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_ORDER_SALT = [np.uint64((n * 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF) for n in range(MAX_N + 1)]

# Digits, ASCII punctuation and symbols say nothing about the language; they would
# only add noise (and numbers are common in news), so they become word breaks.
_NOISE = re.compile(r"[\d!-/:-@\[-`{-~\u2010-\u2027\u00a0-\u00bf\u2030-\u206f\s]+")


def normalise(text: str) -> str:
    """The form the model sees: casefolded, digits/punctuation collapsed to single spaces."""
    core = _NOISE.sub(" ", text.casefold()).strip()
    return f" {core} " if core else ""


def code_points(text: str) -> np.ndarray:
    """Code points (``uint32``) of ``normalise(text)``; the script check reuses them."""
    return np.frombuffer(normalise(text).encode("utf-32-le"), dtype=np.uint32)


def ngram_ids(text: str, bits: int) -> np.ndarray:
    """Bucket ids (``uint32`` in ``[0, 2**bits)``) of every 1..5-gram of ``normalise(text)``."""
    return hash_ngrams(code_points(text), bits)


def hash_ngrams(points: np.ndarray, bits: int) -> np.ndarray:
    """Bucket ids of every 1..5-gram of an array of code points (see :func:`code_points`)."""
    codes = points.astype(np.uint64)
    size = len(codes)
    shift = np.uint64(64 - bits)
    parts = []
    rolling = codes.copy()
    for n in range(MIN_N, MAX_N + 1):
        if n > size:
            break
        if n > 1:
            # rolling[i] now covers codes[i : i + n]
            rolling = rolling[:-1] * _ROLL + codes[n - 1 :]
        if n == 1:
            # A lone space carries no information.
            grams = rolling[codes != 32]
        else:
            grams = rolling
        parts.append(((grams + _ORDER_SALT[n]) * _MIX) >> shift)
    if not parts:
        return np.zeros(0, dtype=np.uint32)
    return np.concatenate(parts).astype(np.uint32)
