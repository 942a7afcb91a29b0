"""Int8 export of an ONNX graph that gives the same answers on every x86 CPU.

``quantize_dynamic`` with int8 weights makes onnxruntime multiply uint8 activations by
int8 weights (U8S8). On x86 CPUs without VNNI (AVX2 only, e.g. many AMD EPYC and older
Intel servers) that kernel sums pairs of products in 16 bits, which saturates: the
shipped topic encoder scored SIB-200 English 0.889 on such a CPU and 0.899 on a VNNI
one, from the same file. onnxruntime's documented remedy is U8U8. Shifting int8 weights
and their zero points by +128 into uint8 is exact (``w - zero_point`` is unchanged), so
the graph keeps its trained answers and every CPU computes them the same way.

Training only (needs the ``train`` extra's ``onnx``). ``python -m pipeline.training.quantize
GRAPH.onnx`` rewrites an existing int8 graph in place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np


def quantize_int8(fp32: Path, out: Path) -> None:
    """Write ``fp32`` quantised to int8 (dynamic, per channel) as ``out``, weights unsigned."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    unsigned_weights(out)


def unsigned_weights(path: Path) -> int:
    """Rewrite ``path`` so every ``MatMulInteger`` reads uint8 weights: weight and zero point
    + 128, the same numbers (a missing zero point, i.e. 0, becomes 128). Returns how many
    nodes changed (0: nothing to do). Raises ValueError, leaving the file as it was, when
    int8 weights feed another op (the U8S8 kernels would still run)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: i for i in model.graph.initializer}
    shifted: set[str] = set()

    def shift(name: str) -> None:
        if name in shifted:
            return
        value = numpy_helper.to_array(inits[name])
        if value.dtype != np.int8:
            raise ValueError(f"{path}: {name!r} is {value.dtype}, not int8, beside int8 weights; re-quantise from fp32 with quantize_int8")
        inits[name].CopyFrom(numpy_helper.from_array((value.astype(np.int16) + 128).astype(np.uint8), name))
        shifted.add(name)

    changed = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger" or node.input[1] not in inits:
            continue
        weight = node.input[1]
        if weight not in shifted and numpy_helper.to_array(inits[weight]).dtype != np.int8:
            continue
        zero = node.input[3] if len(node.input) > 3 and node.input[3] else None
        if zero is None:
            # No zero point means 0: give the node one, which the shift makes 128.
            zero = f"{weight}_zero_point_u8"
            if zero not in inits:
                model.graph.initializer.append(numpy_helper.from_array(np.array(0, np.int8), zero))
                inits[zero] = model.graph.initializer[-1]
            inputs = list(node.input) + [""] * (4 - len(node.input))
            inputs[3] = zero
            del node.input[:]
            node.input.extend(inputs)
        elif zero not in inits:
            raise ValueError(
                f"{path}: MatMulInteger {node.name!r} computes its weights' zero point at run time, so it cannot be"
                " shifted here; re-quantise from fp32 with quantize_int8"
            )
        shift(weight)
        shift(zero)
        changed += 1
    int8 = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    left = sorted({n.op_type for n in model.graph.node if int8 & set(n.input)})
    if left:
        raise ValueError(
            f"{path}: int8 weights remain on {', '.join(left)}, which this converter does not handle;"
            " quantise those ops with uint8 weights (QuantType.QUInt8) instead"
        )
    if changed:
        onnx.checker.check_model(model)
        tmp = path.with_name(path.name + ".tmp")
        onnx.save(model, str(tmp))
        os.replace(tmp, path)  # never a half-written graph in place of the old one
    return changed


def main(argv: list[str]) -> int:
    """Rewrite each given int8 graph in place with unsigned weights."""
    if not argv:
        print("usage: python -m pipeline.training.quantize GRAPH.onnx ...", file=sys.stderr)
        return 2
    for arg in argv:
        path = Path(arg)
        if not path.is_file():
            print(f"error: {path} is not a file (give an int8 .onnx graph)", file=sys.stderr)
            return 2
        try:
            n = unsigned_weights(path)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: {n} MatMulInteger nodes now read unsigned weights")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
