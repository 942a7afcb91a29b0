"""The int8 encoder's fast path on CPUs with VNNI: signed weights, converted at load.

The shipped ``encoder.onnx`` stores its int8 weights unsigned (U8U8 products), because
onnxruntime's U8S8 kernel saturates on x86 CPUs without VNNI and gave other answers there
(:mod:`pipeline.training.quantize`). On a CPU with VNNI (AVX-512 VNNI or AVX-VNNI), U8S8
runs on the int8 dot-product instruction, which sums into 32 bits and cannot saturate,
while U8U8 does not use it: on session 15's Xeon the signed graph read SIB-200 sentences
2.3 times as fast (142 against 62 a second) with bit-identical outputs. So on such a CPU
the encoder shifts each ``MatMulInteger`` weight and its zero point by -128 (``w - zp``
unchanged, the same numbers) in memory before onnxruntime loads the graph.

The rewrite works on the protobuf wire format directly, because the ``onnx`` package is a
training dependency only (onnxruntime brings none of it). It edits a copy of the file in
place: each weight's raw bytes and its one-byte type code change, nothing moves. Before
using it, the encoder also checks on a one-node graph that this onnxruntime's U8S8 kernel
does not saturate (:func:`u8s8_is_exact`): the CPU flags alone only say it should not.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

# ONNX field numbers (onnx.proto3) and TensorProto.DataType values this rewrite touches.
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 1, 5, 11, 12
_NODE_INPUT, _NODE_OP_TYPE, _NODE_ATTRIBUTE = 1, 4, 5
_ATTRIBUTE_GRAPH, _ATTRIBUTE_GRAPHS = 6, 11
_VALUE_INFO_NAME = 1
_TENSOR_DATA_TYPE, _TENSOR_NAME, _TENSOR_RAW_DATA = 2, 8, 9
_UINT8, _INT8 = 2, 3
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# A one-node graph (made with the onnx package; tests/pipeline/topics/test_vnni.py rebuilds
# it): x, 1 x 64 uint8, times 64 int8 weights of 127. With x all 255, every pair of products
# overflows 16 bits, so a saturating U8S8 kernel answers less than 64 * 255 * 127.
_SATURATION_PROBE = bytes.fromhex(
    "080512003aab010a1e0a01780a01770a000a02777a120179220d4d61744d756c496e7465676572120570726f62"
    "652a4b0840080110034201774a40" + "7f" * 64 + "2a0b080110034202777a4a01005a130a0178120e0a0c08"
    "0212080a0208010a02084062130a0179120e0a0c080612080a0208010a02080142040a00100a"
)
_PROBE_EXACT = 64 * 255 * 127


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """This x86 CPU's feature flags from ``cpuinfo``; empty where it cannot tell (not Linux,
    not x86), so every caller falls back to what runs everywhere."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return set()
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cpu_has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this x86 CPU advertises VNNI (``avx512_vnni`` or ``avx_vnni``); False where
    it cannot tell, which keeps the graph as shipped: exact everywhere."""
    return bool(cpu_flags(cpuinfo) & {"avx512_vnni", "avx_vnni"})


def u8s8_is_exact(ort) -> bool:
    """Whether this onnxruntime's U8S8 kernel sums products exactly where pairs of them overflow
    16 bits (VNNI does; the AVX2 kernel saturates). ``ort`` is the onnxruntime module. The
    CPU flags say which kernel should run; this says which one does."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(_SATURATION_PROBE, options, providers=["CPUExecutionProvider"])
    out = session.run(None, {"x": np.full((1, 64), 255, np.uint8)})[0]
    return int(out.reshape(-1)[0]) == _PROBE_EXACT


def signed_weights(model: bytes | bytearray) -> bytearray:
    """A copy of ``model`` (a serialised ONNX graph) with every uint8 ``MatMulInteger`` weight
    and its zero point turned int8 by -128: the same products, on the U8S8 kernels.

    The copy is edited in place (a type code and each weight's raw bytes keep their lengths),
    so converting a graph of tens of MB costs one copy of it. Raises ValueError, leaving
    ``model`` as it was, when the graph cannot be converted that way: such a weight or zero
    point is not a uint8 initializer stored as raw bytes, is missing, or is read by anything
    else (another op, a subgraph, the graph's inputs or outputs).
    """
    buf = bytearray(model)
    view = memoryview(buf)
    graphs = [(at, value) for number, wire, value, at in _fields(view) if number == _MODEL_GRAPH and wire == _LEN]
    if len(graphs) != 1:
        raise ValueError("not an ONNX model with one graph")
    base, graph = graphs[0]
    fields = list(_fields(graph))
    pairs: list[tuple[str, str]] = []  # (weight, zero point) of each MatMulInteger
    other_uses: set[str] = set()
    for number, wire, value, _ in fields:
        if wire != _LEN:
            continue
        if number in (_GRAPH_INPUT, _GRAPH_OUTPUT):
            other_uses.update(_text(v) for n, _, v, _ in _fields(value) if n == _VALUE_INFO_NAME)
        if number != _GRAPH_NODE:
            continue
        node = list(_fields(value))
        for n, w, attribute, _ in node:
            if n == _NODE_ATTRIBUTE and any(k in (_ATTRIBUTE_GRAPH, _ATTRIBUTE_GRAPHS) for k, *_ in _fields(attribute)):
                raise ValueError("the graph has subgraphs (If, Loop, Scan), which are not converted")
        op = next((_text(v) for n, _, v, _ in node if n == _NODE_OP_TYPE), "")
        inputs = [_text(v) for n, w, v, _ in node if n == _NODE_INPUT and w == _LEN]
        if op == "MatMulInteger" and len(inputs) > 1:
            if len(inputs) < 4 or not inputs[3]:
                raise ValueError(f"MatMulInteger weight {inputs[1]!r} has no zero point of its own")
            pairs.append((inputs[1], inputs[3]))
            other_uses.update(inputs[:1] + inputs[2:3])
        else:
            other_uses.update(inputs)
    targets = {name for pair in pairs for name in pair}
    shared = targets & other_uses
    if shared:
        raise ValueError(f"weights also read by other ops or the graph's inputs or outputs: {', '.join(sorted(shared))}")
    edits: list[tuple[str, int, memoryview]] = []  # (name, offset of its type code, raw bytes)
    for number, wire, tensor, at in fields:
        if number != _GRAPH_INITIALIZER or wire != _LEN:
            continue
        parts = {n: (v, pos) for n, w, v, pos in _fields(tensor)}
        name = _text(parts[_TENSOR_NAME][0]) if _TENSOR_NAME in parts else ""
        if name not in targets:
            continue
        dtype, dtype_at = parts.get(_TENSOR_DATA_TYPE, (None, 0))
        # The code must be the one byte 0x02: a longer encoding of 2 (legal protobuf) would
        # not become 3 by overwriting one byte.
        if dtype != _UINT8 or buf[base + at + dtype_at] != _UINT8 or _TENSOR_RAW_DATA not in parts:
            raise ValueError(f"{name!r} is not a uint8 initializer stored as raw bytes")
        edits.append((name, base + at + dtype_at, parts[_TENSOR_RAW_DATA][0]))
    if not pairs:
        raise ValueError("no MatMulInteger weights to convert")
    missing = sorted(targets - {name for name, _, _ in edits})
    if missing:
        # A weight converted without its zero point (or the reverse) would not load.
        raise ValueError(f"MatMulInteger inputs not found among the initializers: {', '.join(missing)}")
    for _, type_at, raw in edits:
        buf[type_at] = _INT8
        values = np.frombuffer(raw, np.uint8)
        np.bitwise_xor(values, 0x80, out=values)  # as int8, b XOR 0x80 is b - 128
    return buf


def _text(value: memoryview) -> str:
    return bytes(value).decode("utf-8")


# ------------------------------------------------------------ protobuf wire format


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview):
    """(field number, wire type, value, offset of the value in ``buf``) of each field: an int
    for varints, a view into ``buf`` otherwise."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire, at = key >> 3, key & 7, pos
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _LEN:
            size, at = _read_varint(buf, pos)
            value, pos = buf[at : at + size], at + size
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated protobuf field")
        yield number, wire, value, at
