"""Near-duplicate signatures: 64-bit SimHash over word shingles, plus LSH band keys.

Wire stories are republished with small edits (a different credit line, a trimmed
last paragraph). Two texts whose signatures differ in at most :data:`NEAR_DISTANCE`
bits are near-duplicates.

How a store uses this (the store itself lives in ``workers``):

1. ``sig = signature(doc.text)`` (the clean stage puts it in ``doc.duplicate.signature``).
2. For each key in ``band_keys(sig)``, look up the ids indexed under that key; every
   such id is a *candidate*. By the pigeonhole principle, two signatures within
   ``BANDS - 1`` bits of each other agree on at least one of the ``BANDS`` bands, so no
   near-duplicate is missed.
3. Confirm each candidate with ``hamming(sig, candidate_sig) <= NEAR_DISTANCE``.
4. Index the new article under all its band keys.

Signatures are deterministic across processes and machines (blake2b, not ``hash``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.text.normalize import matching_form

BITS = 64
BANDS = 4  # 4 bands of 16 bits: any pair within 3 bits shares a band
NEAR_DISTANCE = 3  # the usual threshold for 64-bit SimHash (Manku et al., WWW 2007)
SHINGLE = 3  # words per shingle


def shingles(text: str, size: int = SHINGLE) -> list[str]:
    """Overlapping ``size``-word shingles of the matching form of ``text``.

    A text shorter than ``size`` words yields itself as one shingle.
    """
    words = matching_form(text).split()
    if len(words) <= size:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def _hashes(features: list[str]) -> np.ndarray:
    """Stable 64-bit hashes of ``features`` as a uint64 array."""
    raw = b"".join(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def signature(text: str) -> str:
    """The 64-bit SimHash of ``text`` as 16 lowercase hex digits.

    Every shingle votes +1/-1 on each bit of its hash; the signature keeps the bits with
    a positive total. Empty text gives ``"0" * 16``.
    """
    features = shingles(text)
    if not features:
        return "0" * (BITS // 4)
    hashes = _hashes(features)
    # One row of 64 bits per shingle (most significant first), summed per column.
    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(features)
    value = 0
    for bit in votes > 0:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex signatures."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_near_duplicate(a: str, b: str, max_distance: int = NEAR_DISTANCE) -> bool:
    """True when the signatures differ in at most ``max_distance`` bits."""
    return hamming(a, b) <= max_distance


def band_keys(sig: str, bands: int = BANDS) -> list[str]:
    """LSH keys of a signature: one ``"sh<band>:<hex>"`` key per band of ``BITS // bands`` bits.

    Index an article under every key; look up candidates under every key.
    """
    if bands < 1 or (BITS // 4) % bands:
        raise ValueError(f"bands must divide {BITS // 4} (hex digits), got {bands}")
    width = len(sig) // bands
    return [f"sh{i}:{sig[i * width : (i + 1) * width]}" for i in range(bands)]
