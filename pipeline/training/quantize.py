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

import sys
from pathlib import Path

import numpy as np


def quantize_int8(fp32: Path, out: Path) -> None:
    """Write ``fp32`` quantised to int8 (dynamic, per channel) as ``out``, weights unsigned."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    unsigned_weights(out)


def unsigned_weights(path: Path) -> int:
    """Rewrite ``path`` so every ``MatMulInteger`` reads uint8 weights (value and zero point
    + 128: the same numbers); returns how many weight tensors changed (0: nothing to do)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: i for i in model.graph.initializer}
    changed: set[str] = set()
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weight = node.input[1]
        zero = node.input[3] if len(node.input) > 3 and node.input[3] else None
        if weight not in inits or weight in changed:
            continue
        if numpy_helper.to_array(inits[weight]).dtype != np.int8:
            continue
        if zero is None or zero not in inits:
            # Without a zero point input the +128 shift would change the numbers.
            raise ValueError(f"{path}: MatMulInteger {node.name!r} has int8 weights but no zero point to shift")
        for name in (weight, zero):
            if name in changed:
                continue
            value = numpy_helper.to_array(inits[name])
            inits[name].CopyFrom(numpy_helper.from_array((value.astype(np.int16) + 128).astype(np.uint8), name))
            changed.add(name)
    n = sum(1 for node in model.graph.node if node.op_type == "MatMulInteger" and node.input[1] in changed)
    if changed:
        onnx.save(model, str(path))
    return n


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
        print(f"{path}: {unsigned_weights(path)} MatMulInteger weights made unsigned")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
