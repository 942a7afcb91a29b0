"""Int8 graphs with unsigned weights: exact integer products on every x86 CPU."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.resources import data_path

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from pipeline.training.quantize import main, quantize_int8, unsigned_weights  # noqa: E402


def _save_graph(path, nodes, x: tuple[int, list], outputs: dict[str, tuple[int, list]], inits: dict[str, np.ndarray]) -> None:
    """One input ``x`` (type, shape), ``outputs`` by name and ``inits`` as initializers, opset 17."""
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", *x)],
        [helper.make_tensor_value_info(name, *spec) for name, spec in outputs.items()],
        [numpy_helper.from_array(value, name) for name, value in inits.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _int8_matmul_graph(path, weight: np.ndarray, zero: np.ndarray) -> None:
    """A uint8 input times int8 weights with a per-column zero point, as quantize_dynamic writes."""
    _save_graph(
        path, [helper.make_node("MatMulInteger", ["x", "w", "", "wz"], ["y"], name="mm")],
        (TensorProto.UINT8, [None, weight.shape[0]]), {"y": (TensorProto.INT32, [None, weight.shape[1]])},
        {"w": weight, "wz": zero},
    )


def _run(path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_unsigned_weights_compute_the_exact_integer_product(tmp_path):
    # Extreme values on purpose: 255 * 127 summed over a pair overflows 16 bits, which is
    # where a U8S8 kernel on a CPU without VNNI saturates. U8U8 must give the exact answer.
    rng = np.random.default_rng(0)
    weight = rng.choice(np.array([-128, -127, 127, 3], np.int8), size=(64, 8))
    zero = np.zeros(8, np.int8)
    x = rng.choice(np.array([0, 255, 254], np.uint8), size=(5, 64))
    path = tmp_path / "g.onnx"
    _int8_matmul_graph(path, weight, zero)
    assert unsigned_weights(path) == 1
    exact = x.astype(np.int64) @ weight.astype(np.int64)
    np.testing.assert_array_equal(_run(path, x), exact)
    converted = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    assert converted["w"].dtype == np.uint8 and converted["wz"].dtype == np.uint8
    # Value minus zero point, what the graph multiplies by, is unchanged.
    np.testing.assert_array_equal(converted["w"].astype(np.int64) - converted["wz"].astype(np.int64), weight)


def test_unsigned_weights_is_idempotent(tmp_path):
    path = tmp_path / "g.onnx"
    _int8_matmul_graph(path, np.ones((4, 2), np.int8), np.zeros(2, np.int8))
    assert unsigned_weights(path) == 1
    before = path.read_bytes()
    assert unsigned_weights(path) == 0
    assert path.read_bytes() == before


def test_a_node_without_a_zero_point_gets_one_and_stays_exact(tmp_path):
    weight = np.array([[127, -128], [-128, 127], [3, -3], [127, 127]], np.int8)
    path = tmp_path / "g.onnx"
    _save_graph(
        path, [helper.make_node("MatMulInteger", ["x", "w"], ["y"])],
        (TensorProto.UINT8, [None, 4]), {"y": (TensorProto.INT32, [None, 2])}, {"w": weight},
    )
    assert unsigned_weights(path) == 1
    x = np.array([[255, 255, 0, 254], [1, 2, 3, 4]], np.uint8)
    np.testing.assert_array_equal(_run(path, x), x.astype(np.int64) @ weight.astype(np.int64))


def test_a_weight_shared_by_nodes_with_their_own_zero_points_is_shifted_once(tmp_path):
    weight = np.array([[100, -100], [-128, 127]], np.int8)
    nodes = [
        helper.make_node("MatMulInteger", ["x", "w", "", "z1"], ["y1"], name="a"),
        helper.make_node("MatMulInteger", ["x", "w", "", "z2"], ["y2"], name="b"),
    ]
    path = tmp_path / "g.onnx"
    _save_graph(
        path, nodes, (TensorProto.UINT8, [None, 2]),
        {y: (TensorProto.INT32, [None, 2]) for y in ("y1", "y2")},
        {"w": weight, "z1": np.array([0, 1], np.int8), "z2": np.array([-2, 5], np.int8)},
    )
    assert unsigned_weights(path) == 2
    x = np.array([[255, 254], [7, 0]], np.uint8)
    y1, y2 = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    w = weight.astype(np.int64)
    np.testing.assert_array_equal(y1, x.astype(np.int64) @ (w - np.array([0, 1])))
    np.testing.assert_array_equal(y2, x.astype(np.int64) @ (w - np.array([-2, 5])))


def test_int8_weights_on_an_op_it_cannot_convert_are_refused_and_the_file_kept(tmp_path, capsys):
    path = tmp_path / "g.onnx"
    _save_graph(
        path, [helper.make_node("ConvInteger", ["x", "w"], ["y"])], (TensorProto.UINT8, [1, 1, 4, 4]),
        {"y": (TensorProto.INT32, [1, 1, 3, 3])}, {"w": np.ones((1, 1, 2, 2), np.int8)},
    )
    before = path.read_bytes()
    with pytest.raises(ValueError, match="ConvInteger"):
        unsigned_weights(path)
    assert path.read_bytes() == before
    assert main([str(path)]) == 2
    assert "QUInt8" in capsys.readouterr().err


def test_quantize_int8_keeps_a_float_graph_close_and_writes_unsigned_weights(tmp_path):
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(32, 16)).astype(np.float32)
    fp32, int8 = tmp_path / "f.onnx", tmp_path / "q.onnx"
    _save_graph(
        fp32, [helper.make_node("MatMul", ["x", "w"], ["y"])], (TensorProto.FLOAT, [None, 32]),
        {"y": (TensorProto.FLOAT, [None, 16])}, {"w": weight},
    )
    quantize_int8(fp32, int8)
    weights = [numpy_helper.to_array(i) for i in onnx.load(str(int8)).graph.initializer]
    assert not any(w.dtype == np.int8 for w in weights)
    x = rng.normal(size=(3, 32)).astype(np.float32)
    got = _run(int8, x)
    want = x @ weight
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()


def test_the_shipped_topic_encoder_has_no_int8_weights():
    model = onnx.load(str(data_path("topics", "encoder.onnx")))
    inits = {i.name: i for i in model.graph.initializer}
    weights = [n.input[1] for n in model.graph.node if n.op_type == "MatMulInteger" and n.input[1] in inits]
    assert weights
    assert {numpy_helper.to_array(inits[w]).dtype for w in weights} == {np.dtype(np.uint8)}


def test_the_command_refuses_a_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "nope.onnx")]) == 2
    assert "is not a file" in capsys.readouterr().err
