"""Near-duplicate signatures: MinHash over word 3-shingles, with LSH band keys for a store.

Wire stories are republished with small edits (another credit line, a trimmed last
paragraph). The signature estimates the Jaccard similarity of two texts' shingle sets;
two texts with ``similarity >= NEAR_SIMILARITY`` are near-duplicates.

MinHash replaced a 64-bit SimHash (commit cf15ab0) after measuring both on 300 BBC
articles: one replaced word left SimHash within 3 bits only 66% of the time, while
MinHash keeps a similarity of 0.978 and unrelated pairs score 0.004
(``benchmarks/clean_neardup.py`` reproduces the MinHash figures).

How a store uses this (the store itself lives in ``workers``):

1. ``sig = signature(doc.text)`` (the clean stage puts it in ``doc.duplicate.signature``).
2. Look up the ids indexed under each key of ``band_keys(sig)``: they are the
   candidates. With ``BANDS`` bands of ``ROWS`` values, a pair with Jaccard ``s`` becomes
   a candidate with probability ``1 - (1 - s**ROWS) ** BANDS``: 0.99 at s=0.9, 0.77 at
   0.8, 0.03 at 0.5, 0.0005 at 0.3.
3. Confirm a candidate with ``similarity(sig, candidate_sig) >= NEAR_SIMILARITY``
   (needs the candidate's signature), else take the candidate with most shared bands.
4. Index the new article under all its band keys.

Signatures are deterministic across processes and machines (blake2b, fixed seeds).
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.text.normalize import matching_form

NUM_HASHES = 64
VALUE_BITS = 16  # each minimum is kept as 16 bits (4 hex digits): b-bit MinHash
BANDS = 8
ROWS = NUM_HASHES // BANDS
SHINGLE = 3  # words per shingle
NEAR_SIMILARITY = 0.8
_HEX = VALUE_BITS // 4
_CHUNK = 8192  # shingles hashed per numpy block, bounds memory on huge inputs


def _seeds(tag: str) -> np.ndarray:
    """``NUM_HASHES`` fixed 64-bit constants derived from ``tag`` (stable forever)."""
    raw = b"".join(hashlib.blake2b(f"newsflow-minhash-{tag}-{i}".encode(), digest_size=8).digest() for i in range(NUM_HASHES))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


_XOR = _seeds("xor")
_MULT = _seeds("mult") | np.uint64(1)  # odd multipliers are bijections modulo 2**64


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The set of ``size``-word shingles of the matching form of ``text``.

    A text shorter than ``size`` words yields itself as one shingle.
    """
    words = matching_form(text).split()
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _hashes(features: list[str]) -> np.ndarray:
    raw = b"".join(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def signature(text: str) -> str:
    """The MinHash signature of ``text``: ``NUM_HASHES`` minima of 16 bits, as 256 hex digits.

    Empty text gives all ``f`` digits (no shingle, so every minimum stays at the maximum).
    """
    features = sorted(shingles(text))
    minima = np.full(NUM_HASHES, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        for start in range(0, len(features), _CHUNK):
            h = _hashes(features[start : start + _CHUNK])
            mixed = (h[:, None] ^ _XOR[None, :]) * _MULT[None, :]
            mixed ^= mixed >> np.uint64(29)
            minima = np.minimum(minima, mixed.min(axis=0))
    top = (minima >> np.uint64(64 - VALUE_BITS)).astype(np.uint64)
    return "".join(f"{int(v):0{_HEX}x}" for v in top)


def _values(sig: str) -> list[str]:
    if len(sig) != NUM_HASHES * _HEX:
        raise ValueError(f"not a newsflow MinHash signature: expected {NUM_HASHES * _HEX} hex digits, got {len(sig)}")
    return [sig[i : i + _HEX] for i in range(0, len(sig), _HEX)]


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (share of equal minima)."""
    va, vb = _values(a), _values(b)
    return sum(x == y for x, y in zip(va, vb)) / NUM_HASHES


def is_near_duplicate(a: str, b: str, threshold: float = NEAR_SIMILARITY) -> bool:
    """True when the estimated similarity of the two signatures is at least ``threshold``."""
    return similarity(a, b) >= threshold


def band_keys(sig: str) -> list[str]:
    """LSH keys of a signature: ``"mh<band>:<hex>"``, one per band of ``ROWS`` minima.

    Index an article under every key; look up candidates under every key.
    """
    values = _values(sig)
    return [f"mh{b}:{''.join(values[b * ROWS : (b + 1) * ROWS])}" for b in range(BANDS)]
