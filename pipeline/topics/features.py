"""Training-time bag-of-pieces matrices: the sparse form of the embedder's mean pooling.

``pool_matrix(docs)[d, row] = count(row in d) / known pieces in d``, so
``pool_matrix @ table`` equals :meth:`StaticEmbedder.embed` for every document, and its
transpose carries gradients back into the table when the table is fine-tuned.
"""

from __future__ import annotations

import numpy as np


def doc_text(title: str, text: str) -> str:
    """What the model reads: the title (when any) then the body."""
    return f"{title}\n{text}" if title else text


def pool_matrix(piece_lists: list[np.ndarray], rows: np.ndarray, n_rows: int):
    """CSR matrix [n_docs, n_rows] whose product with the table is each document's mean vector."""
    from scipy.sparse import csr_matrix  # training-only dependency

    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for ids in piece_lists:
        r = rows[ids] if len(ids) else np.zeros(0, dtype=np.int32)
        r = r[r >= 0]
        if r.size:
            uniq, counts = np.unique(r, return_counts=True)
            indices.append(uniq)
            data.append(counts.astype(np.float32) / r.size)
            indptr.append(indptr[-1] + uniq.size)
        else:
            indptr.append(indptr[-1])
    ind = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
    dat = np.concatenate(data) if data else np.zeros(0, dtype=np.float32)
    return csr_matrix((dat, ind, np.asarray(indptr)), shape=(len(piece_lists), n_rows), dtype=np.float32)
