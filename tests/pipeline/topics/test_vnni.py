"""Signed int8 weights for VNNI CPUs: the same numbers, read from the shipped unsigned graph."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from pipeline.resources import data_path
from pipeline.topics import encoder as encoder_module
from pipeline.topics import vnni
from pipeline.topics.vnni import cpu_has_vnni, signed_weights

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

FLAGS = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {}\nbugs\t\t: spectre_v1\n"


@pytest.mark.parametrize(
    ("flags", "has"),
    [("avx512f avx512_vnni", True), ("avx_vnni", True), ("avx512f avx512bw", False), ("", False)],
)
def test_vnni_is_read_from_the_cpu_flags(tmp_path, monkeypatch, flags, has):
    monkeypatch.setattr(vnni.platform, "machine", lambda: "x86_64")
    info = tmp_path / "cpuinfo"
    info.write_text(FLAGS.format(flags))
    assert cpu_has_vnni(info) is has


def test_no_cpu_information_or_another_architecture_keeps_the_shipped_graph(tmp_path, monkeypatch):
    monkeypatch.setattr(vnni.platform, "machine", lambda: "x86_64")
    assert cpu_has_vnni(tmp_path / "missing") is False
    info = tmp_path / "cpuinfo"
    info.write_text(FLAGS.format("avx512_vnni"))
    monkeypatch.setattr(vnni.platform, "machine", lambda: "aarch64")
    assert cpu_has_vnni(info) is False


def _graph(weight, zero, *, raw: bool = True, extra_nodes=(), zero_input: bool = True) -> bytes:
    """x (uint8) times ``weight`` (uint8, zero point ``zero``), as the shipped export stores it."""
    def tensor(name, value):
        if raw:
            return numpy_helper.from_array(value, name)
        # int32_data, the other way ONNX stores uint8 values
        return helper.make_tensor(name, TensorProto.UINT8, value.shape, value.flatten().tolist())

    inputs = ["x", "w", "", "wz"] if zero_input else ["x", "w"]
    nodes = [helper.make_node("MatMulInteger", inputs, ["y"], name="mm"), *extra_nodes]
    outputs = [helper.make_tensor_value_info("y", TensorProto.INT32, [None, weight.shape[1]])]
    outputs += [helper.make_tensor_value_info(n.output[0], TensorProto.INT32, None) for n in extra_nodes]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [None, weight.shape[0]])], outputs,
        [tensor("w", weight), tensor("wz", zero), numpy_helper.from_array(np.array([7], np.int64), "other")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _run(model: bytes, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]


def test_signed_weights_are_the_same_numbers_and_give_the_same_products():
    rng = np.random.default_rng(0)
    # Small enough that no kernel can saturate (|x * (w - zp)| pairs stay within 16 bits), so
    # the products must agree exactly on any CPU.
    weight = rng.integers(28, 229, size=(32, 6), dtype=np.uint8)
    zero = rng.integers(118, 139, size=6, dtype=np.uint8)
    x = rng.integers(0, 101, size=(4, 32), dtype=np.uint8)
    model = _graph(weight, zero)
    converted = signed_weights(model)
    proto = onnx.load_from_string(converted)
    onnx.checker.check_model(proto)
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert inits["w"].dtype == np.int8 and inits["wz"].dtype == np.int8
    np.testing.assert_array_equal(inits["w"].astype(np.int16), weight.astype(np.int16) - 128)
    np.testing.assert_array_equal(inits["wz"].astype(np.int16), zero.astype(np.int16) - 128)
    np.testing.assert_array_equal(inits["other"], [7])  # what MatMulInteger does not read stays as it was
    exact = x.astype(np.int64) @ (weight.astype(np.int64) - zero.astype(np.int64))
    np.testing.assert_array_equal(_run(model, x), exact)
    np.testing.assert_array_equal(_run(converted, x), exact)


def test_a_weight_stored_as_int32_values_is_refused_and_the_input_kept():
    model = _graph(np.full((4, 2), 130, np.uint8), np.full(2, 128, np.uint8), raw=False)
    before = bytes(model)
    with pytest.raises(ValueError, match="not stored as raw bytes"):
        signed_weights(model)
    assert model == before


def test_a_weight_without_its_own_zero_point_is_refused():
    weight = np.full((4, 2), 130, np.uint8)
    with pytest.raises(ValueError, match="no zero point"):
        signed_weights(_graph(weight, np.full(2, 128, np.uint8), zero_input=False))


def test_a_weight_another_op_also_reads_is_refused():
    # Shifting "w" would change what the Cast reads.
    cast = helper.make_node("Cast", ["w"], ["w32"], to=TensorProto.INT32)
    with pytest.raises(ValueError, match="also read by other ops: w"):
        signed_weights(_graph(np.full((4, 2), 130, np.uint8), np.full(2, 128, np.uint8), extra_nodes=[cast]))


def test_a_graph_with_nothing_to_convert_or_not_a_model_is_refused():
    with pytest.raises(ValueError, match="no uint8 MatMulInteger"):
        signed_weights(signed_weights(_graph(np.full((4, 2), 130, np.uint8), np.full(2, 128, np.uint8))))
    with pytest.raises(ValueError):
        signed_weights(b"\xff\xff\xff")


def test_the_shipped_encoder_converts_weight_for_weight():
    shipped = onnx.load(str(data_path("topics", "encoder.onnx")))
    converted = onnx.load_from_string(signed_weights(data_path("topics", "encoder.onnx").read_bytes()))
    before = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
    after = {i.name: numpy_helper.to_array(i) for i in converted.graph.initializer}
    weights = {n.input[i] for n in shipped.graph.node if n.op_type == "MatMulInteger" for i in (1, 3)}
    assert weights and set(before) == set(after)
    for name, value in before.items():
        if name in weights:
            assert after[name].dtype == np.int8
            np.testing.assert_array_equal(after[name].astype(np.int16), value.astype(np.int16) - 128)
        else:
            assert after[name].dtype == value.dtype and np.array_equal(after[name], value)
    assert converted.graph.node == shipped.graph.node


@pytest.mark.skipif(not cpu_has_vnni(), reason="signed weights give the shipped answers only where U8S8 runs on VNNI")
def test_on_a_vnni_cpu_the_signed_graph_gives_the_shipped_answers():
    from pipeline.stages.topics import topic_model

    enc = topic_model().encoder
    texts = ["Liverpool beat Chelsea 2-1 to reach the cup final", "ارتفعت أسعار النفط وتراجعت أسهم البنوك في البورصة"]
    feeds = [enc.table.rows(np.array(enc.pieces(t))).astype(np.float32)[None] for t in texts]
    shipped, signed = (
        ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        for model in (str(enc.graph), signed_weights(enc.graph.read_bytes()))
    )
    for emb in feeds:
        feed = {"emb": emb, "mask": np.ones((1, emb.shape[1]), np.float32)}
        np.testing.assert_array_equal(shipped.run(None, feed)[0], signed.run(None, feed)[0])


class _Runtime:
    """Stands in for onnxruntime: records what each session was built from."""

    def __init__(self):
        self.loaded = []

    def InferenceSession(self, model, options, providers):  # noqa: N802 (onnxruntime's name)
        self.loaded.append(model if isinstance(model, bytes) else open(model, "rb").read())
        return object()


def _encoder(graph):
    enc = encoder_module.ShortTextEncoder.__new__(encoder_module.ShortTextEncoder)
    enc.graph = graph
    return enc


def test_the_encoder_loads_signed_weights_only_on_a_vnni_cpu(monkeypatch):
    shipped = data_path("topics", "encoder.onnx")
    runtime = _Runtime()
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: False)
    _encoder(shipped)._new_session(runtime, None)
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: True)
    _encoder(shipped)._new_session(runtime, None)
    assert runtime.loaded[0] == shipped.read_bytes()
    assert runtime.loaded[1] == signed_weights(shipped.read_bytes())


def test_a_graph_it_cannot_convert_is_loaded_as_shipped_and_the_log_says_why(monkeypatch, tmp_path, caplog):
    graph = tmp_path / "plain.onnx"
    graph.write_bytes(_graph(np.full((4, 2), 130, np.uint8), np.full(2, 128, np.uint8), zero_input=False))
    runtime = _Runtime()
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: True)
    with caplog.at_level(logging.WARNING):
        _encoder(graph)._new_session(runtime, None)
    assert runtime.loaded == [graph.read_bytes()]
    assert "kept with unsigned weights" in caplog.text and "no zero point" in caplog.text


def test_without_a_writable_temporary_folder_the_signed_graph_loads_from_memory(monkeypatch):
    shipped = data_path("topics", "encoder.onnx")
    runtime = _Runtime()
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: True)

    def refuse(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(encoder_module.Path, "write_bytes", refuse)
    _encoder(shipped)._new_session(runtime, None)
    assert runtime.loaded == [signed_weights(shipped.read_bytes())]
