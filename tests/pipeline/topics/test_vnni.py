"""Signed int8 weights for VNNI CPUs: the same numbers, read from the shipped unsigned graph."""

from __future__ import annotations

import logging
from pathlib import Path

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


def _graph(weight, zero, *, raw: bool = True, extra_nodes=(), zero_input: bool = True, zero_init: bool = True,
           outputs=("y",)) -> bytes:
    """x (uint8) times ``weight`` (uint8, zero point ``zero``), as the shipped export stores it."""
    def tensor(name, value):
        if raw:
            return numpy_helper.from_array(value, name)
        # int32_data, the other way ONNX stores uint8 values
        return helper.make_tensor(name, TensorProto.UINT8, value.shape, value.flatten().tolist())

    inputs = ["x", "w", "", "wz"] if zero_input else ["x", "w"]
    nodes = [helper.make_node("MatMulInteger", inputs, ["y"], name="mm"), *extra_nodes]
    if not zero_init:  # the zero point computed by a node instead of stored
        nodes.insert(0, helper.make_node("Constant", [], ["wz"], value=numpy_helper.from_array(zero, "wz")))
    shapes = {"y": [None, weight.shape[1]], "w": list(weight.shape)}
    infos = [helper.make_tensor_value_info(name, TensorProto.UINT8 if name == "w" else TensorProto.INT32, shapes[name])
             for name in outputs]
    infos += [helper.make_tensor_value_info(n.output[0], TensorProto.INT32, None) for n in extra_nodes if n.output]
    inits = [tensor("w", weight), numpy_helper.from_array(np.array([7], np.int64), "other")]
    if zero_init:
        inits.insert(1, tensor("wz", zero))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [None, weight.shape[0]])], infos, inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _run(model: bytes, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(bytes(model), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]


W, Z = np.full((4, 2), 130, np.uint8), np.full(2, 128, np.uint8)


def test_signed_weights_are_the_same_numbers_and_give_the_same_products():
    rng = np.random.default_rng(0)
    # Small enough that no kernel can saturate (|x * (w - zp)| pairs stay within 16 bits), so
    # the products must agree exactly on any CPU.
    weight = rng.integers(28, 229, size=(32, 6), dtype=np.uint8)
    zero = rng.integers(118, 139, size=6, dtype=np.uint8)
    x = rng.integers(0, 101, size=(4, 32), dtype=np.uint8)
    model = _graph(weight, zero)
    converted = signed_weights(model)
    proto = onnx.load_from_string(bytes(converted))
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
    model = _graph(W, Z, raw=False)
    before = bytes(model)
    with pytest.raises(ValueError, match="not a uint8 initializer stored as raw bytes"):
        signed_weights(model)
    assert model == before


def test_a_weight_without_its_own_zero_point_is_refused():
    with pytest.raises(ValueError, match="no zero point"):
        signed_weights(_graph(W, Z, zero_input=False))


def test_a_zero_point_that_is_not_an_initializer_is_refused():
    # Converting the weight alone would give a graph onnxruntime refuses (uint8 zero point, int8 weight).
    with pytest.raises(ValueError, match="not found among the initializers: wz"):
        signed_weights(_graph(W, Z, zero_init=False))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra_nodes": [helper.make_node("Cast", ["w"], ["w32"], to=TensorProto.INT32)]}, "also read by other ops"),
        ({"outputs": ("y", "w")}, "the graph's inputs or outputs: w"),
    ],
    ids=["another_op", "graph_output"],
)
def test_a_weight_anything_else_reads_is_refused(change, message):
    # Shifting "w" would change what the Cast, or the graph's caller, reads.
    with pytest.raises(ValueError, match=message):
        signed_weights(_graph(W, Z, **change))


def test_a_graph_with_subgraphs_is_refused():
    branch = helper.make_graph([helper.make_node("Cast", ["w"], ["c"], to=TensorProto.INT32)], "b", [],
                               [helper.make_tensor_value_info("c", TensorProto.INT32, None)])
    when = helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=branch)
    with pytest.raises(ValueError, match="subgraphs"):
        signed_weights(_graph(W, Z, extra_nodes=[when]))


def test_a_graph_with_nothing_to_convert_or_not_a_model_is_refused():
    with pytest.raises(ValueError, match="not a uint8 initializer"):
        signed_weights(signed_weights(_graph(W, Z)))
    with pytest.raises(ValueError):
        signed_weights(b"\xff\xff\xff")


def test_the_saturation_probe_is_the_graph_it_says():
    from pipeline.topics.vnni import _PROBE_EXACT, _SATURATION_PROBE

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "w", "", "wz"], ["y"])], "probe",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 1])],
        [numpy_helper.from_array(np.full((64, 1), 127, np.int8), "w"), numpy_helper.from_array(np.zeros(1, np.int8), "wz")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)], ir_version=5, producer_name="")
    assert model.SerializeToString() == _SATURATION_PROBE
    assert _PROBE_EXACT == 64 * 255 * 127


def test_the_shipped_encoder_converts_weight_for_weight():
    shipped = onnx.load(str(data_path("topics", "encoder.onnx")))
    converted = onnx.load_from_string(bytes(signed_weights(data_path("topics", "encoder.onnx").read_bytes())))
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


@pytest.mark.parametrize(("answer", "exact"), [(64 * 255 * 127, True), (32 * 32767, False)], ids=["vnni", "saturating"])
def test_the_probe_tells_a_saturating_kernel_from_an_exact_one(answer, exact):
    class Session:
        def __init__(self, model, options, providers):
            assert model == vnni._SATURATION_PROBE

        def run(self, outputs, feed):
            assert feed["x"].dtype == np.uint8 and (feed["x"] == 255).all()
            return [np.array([[answer]], np.int32)]

    class Runtime:
        SessionOptions = ort.SessionOptions
        InferenceSession = Session

    assert vnni.u8s8_is_exact(Runtime) is exact


@pytest.mark.skipif(not cpu_has_vnni(), reason="signed weights give the shipped answers only where U8S8 runs on VNNI")
def test_on_a_vnni_cpu_the_stage_session_gives_the_shipped_answers():
    from pipeline.stages.topics import topic_model

    enc = topic_model().encoder
    assert vnni.u8s8_is_exact(ort)
    texts = [
        "Liverpool beat Chelsea 2-1 to reach the cup final",
        "ارتفعت أسعار النفط وتراجعت أسهم البنوك في البورصة",
        "Les hôpitaux manquent de vaccins contre la grippe cet hiver",
        " ".join(["The central bank raised interest rates again as inflation stayed high."] * 6),
    ]
    ids = [enc.pieces(t) for t in texts]
    assert all(ids) and max(map(len, ids)) > 80  # up to the window's far end
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    stage, shipped = enc._new_session(ort, options), ort.InferenceSession(str(enc.graph), options)
    for piece_ids in ids:
        emb = enc.table.rows(np.array(piece_ids)).astype(np.float32)[None]
        feed = {"emb": emb, "mask": np.ones((1, emb.shape[1]), np.float32)}
        np.testing.assert_array_equal(stage.run(None, feed)[0], shipped.run(None, feed)[0])


class _Runtime:
    """Stands in for onnxruntime: records what each session was built from, and whether from a file."""

    def __init__(self):
        self.loaded = []  # (kind, bytes)
        self.paths = []

    def InferenceSession(self, model, options, providers):  # noqa: N802 (onnxruntime's name)
        if isinstance(model, bytes):
            self.loaded.append(("bytes", model))
        else:
            self.paths.append(Path(model))
            self.loaded.append(("file", Path(model).read_bytes()))
        return object()


def _encoder(graph):
    enc = encoder_module.ShortTextEncoder.__new__(encoder_module.ShortTextEncoder)
    enc.graph = graph
    return enc


@pytest.fixture
def vnni_cpu(monkeypatch):
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: True)
    monkeypatch.setattr(encoder_module, "u8s8_is_exact", lambda ort: True)


def test_the_encoder_loads_signed_weights_from_a_file_it_then_deletes(vnni_cpu):
    shipped = data_path("topics", "encoder.onnx")
    runtime = _Runtime()
    _encoder(shipped)._new_session(runtime, None)
    assert runtime.loaded == [("file", signed_weights(shipped.read_bytes()))]
    assert runtime.paths[0] != shipped and not runtime.paths[0].parent.exists()


def test_without_vnni_the_encoder_loads_the_shipped_file(monkeypatch):
    shipped = data_path("topics", "encoder.onnx")
    runtime = _Runtime()
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: False)
    _encoder(shipped)._new_session(runtime, None)
    assert runtime.paths == [shipped]


def test_a_saturating_kernel_keeps_the_shipped_graph_and_the_log_says_why(monkeypatch, caplog):
    shipped = data_path("topics", "encoder.onnx")
    runtime = _Runtime()
    monkeypatch.setattr(encoder_module, "cpu_has_vnni", lambda: True)
    monkeypatch.setattr(encoder_module, "u8s8_is_exact", lambda ort: False)
    with caplog.at_level(logging.WARNING):
        _encoder(shipped)._new_session(runtime, None)
    assert runtime.paths == [shipped]
    assert "saturates" in caplog.text


def test_a_graph_it_cannot_convert_is_loaded_as_shipped_and_the_log_says_why(vnni_cpu, tmp_path, caplog):
    graph = tmp_path / "plain.onnx"
    graph.write_bytes(_graph(W, Z, zero_input=False))
    runtime = _Runtime()
    with caplog.at_level(logging.WARNING):
        _encoder(graph)._new_session(runtime, None)
    assert runtime.paths == [graph]
    assert "kept with unsigned weights" in caplog.text and "no zero point" in caplog.text


def test_without_a_temporary_folder_the_signed_graph_loads_from_memory(vnni_cpu, monkeypatch):
    shipped = data_path("topics", "encoder.onnx")

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    for target in (encoder_module.tempfile, "TemporaryDirectory"), (encoder_module.Path, "write_bytes"):
        with monkeypatch.context() as patch:
            patch.setattr(*target, refuse)
            runtime = _Runtime()
            _encoder(shipped)._new_session(runtime, None)
            assert runtime.loaded == [("bytes", signed_weights(shipped.read_bytes()))]
