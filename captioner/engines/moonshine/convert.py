"""The one-time conversion of Moonshine's shipped int8 ``.ort`` files into a model that decodes fast.

As published, the encoder and merged decoder keep their weights as int8 initialisers followed by
``Cast → Mul(scale) → Add(zero point)`` (or ``DequantizeLinear``) nodes, so every decoder step
de-quantises ~40 MB of weights again (~75–100 ms per token on one core). Converting once fixes that:

1. ONNX Runtime loads each ``.ort`` file and re-saves it as ONNX (``optimized_model_filepath``, no
   graph optimisation), and unnamed subgraphs (the decoder's ``If`` branches) get names so the
   result passes the ONNX checker;
2. the de-quantisation chains, whose inputs are all constant, are folded into fp32 initialisers;
3. ``onnxruntime.quantization.quantize_dynamic`` re-quantises the MatMul and embedding weights per
   tensor to int8, which ONNX Runtime runs as integer matrix products without de-quantising per step.

The ``onnx`` package is needed here only, and imported lazily. Measured figures: ``docs/local-engine.md``.
Run as ``python -m captioner.engines.moonshine.convert SOURCE_DIR TARGET_DIR`` the conversion works in
a child process (so its peak memory is never the app's), printing ``progress <fraction> <step>`` lines.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the conversion changes: the cache folder name includes it, so old results are not reused.
CONVERSION_VERSION = 1

ENCODER_SOURCE = "encoder_model.ort"
DECODER_SOURCE = "decoder_model_merged.ort"
TOKENIZER_SOURCE = "tokenizer.bin"
SOURCE_FILES = (ENCODER_SOURCE, DECODER_SOURCE, TOKENIZER_SOURCE)

ENCODER_FILE = "encoder_model.onnx"
DECODER_FILE = "decoder_model_merged.onnx"
TOKENIZER_FILE = "tokenizer.bin"
MODEL_FILES = (ENCODER_FILE, DECODER_FILE, TOKENIZER_FILE)

#: MatMul weights (incl. the logits projection) and the embedding table (Gather) are re-quantised. The
#: encoder's three Conv layers stay fp32: as ConvInteger they lost whole sentences on real speech.
QUANTIZED_OPS = ("MatMul", "Gather")

Progress = Callable[[str, float], None]

_DEQUANT_OPS = frozenset({"Cast", "Mul", "Add", "Sub", "DequantizeLinear"})


class ConversionError(Exception):
    """The source files could not be converted (damaged, or not the expected model)."""


def convert(source: Path, target: Path, progress: Progress | None = None) -> None:
    """Convert the three source files in ``source`` into ``target`` (created; it must not exist)."""
    report = progress or (lambda _step, _fraction: None)
    missing = [name for name in SOURCE_FILES if not (source / name).is_file()]
    if missing:
        raise ConversionError(f"the model files {', '.join(missing)} are missing from {source}")
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="moonshine-convert-", dir=target.parent) as scratch:
        steps = ((ENCODER_SOURCE, ENCODER_FILE, "encoder", 0.0), (DECODER_SOURCE, DECODER_FILE, "decoder", 0.3))
        for src_name, out_name, label, start in steps:
            report(f"converting the speech model ({label})", start)
            _convert_one(source / src_name, target / out_name, Path(scratch))
        shutil.copyfile(source / TOKENIZER_SOURCE, target / TOKENIZER_FILE)
    report("converting the speech model", 1.0)


def _convert_one(source: Path, target: Path, scratch: Path) -> None:
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ConversionError(f"converting the model needs the onnx package, which is missing ({exc})") from exc

    resaved = scratch / (source.stem + ".resaved.onnx")
    _resave_as_onnx(source, resaved)
    model = onnx.load(str(resaved))
    _name_subgraphs(model.graph)
    if _fold_weights(model.graph) == 0:
        raise ConversionError(f"{source.name} has no int8 weights to fold: not the expected model")
    resaved.unlink()
    quantize_dynamic(
        model,
        target,
        op_types_to_quantize=list(QUANTIZED_OPS),
        per_channel=False,
        weight_type=QuantType.QInt8,
        extra_options={"EnableSubgraph": True},  # the decoder's layers live in its If branches
    )


def _resave_as_onnx(source: Path, target: Path) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.optimized_model_filepath = str(target)
    try:
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ConversionError(f"{source.name} could not be loaded: {exc}") from exc


def _subgraphs(graph: Any) -> Iterator[tuple[Any, Any]]:
    """(node, attribute) for every subgraph attribute, recursively."""
    for node in graph.node:
        for attribute in node.attribute:
            subs = [attribute.g] if attribute.HasField("g") else list(attribute.graphs)
            for sub in subs:
                yield node, sub
                yield from _subgraphs(sub)


def _name_subgraphs(graph: Any) -> None:
    for index, (node, sub) in enumerate(_subgraphs(graph)):
        if not sub.name:
            sub.name = f"{node.name or node.op_type}_branch_{index}"


def _fold_weights(graph: Any) -> int:
    """Fold weight preparation on constants into fp32 initialisers of the main graph; the number of weights.

    Folded: de-quantisation chains that start at an int8 initialiser (``Cast``/``DequantizeLinear`` then
    ``Mul``/``Add``/``Sub`` with constants) and ``Transpose`` of a constant (the decoder transposes its
    32768-row embedding table on every step to compute the logits). Subgraph nodes are folded too: the
    values they read are main-graph initialisers, so the results can live there, shared by both branches.
    """
    from onnx import numpy_helper

    initializers = {init.name: init for init in graph.initializer}
    constants: dict[str, np.ndarray] = {}
    _fold_in(graph, initializers, constants)
    for _node, sub in _subgraphs(graph):
        _fold_in(sub, initializers, constants)
    if not constants:
        return 0
    used = _used_names(graph)
    for init in [init for init in graph.initializer if init.name not in used]:
        graph.initializer.remove(init)
    weights = [numpy_helper.from_array(value, name) for name, value in constants.items() if name in used]
    graph.initializer.extend(weights)
    return len(weights)


def _fold_in(graph: Any, initializers: dict[str, Any], constants: dict[str, np.ndarray]) -> None:
    from onnx import helper, numpy_helper

    kept = []
    for node in graph.node:
        inputs = [name for name in node.input if name]
        constant_inputs = all(name in constants or name in initializers for name in inputs)
        starts_chain = node.op_type in ("Cast", "DequantizeLinear") and _is_int8(initializers.get(inputs[0]))
        continues_chain = node.op_type in _DEQUANT_OPS and any(name in constants for name in inputs)
        if inputs and constant_inputs and (starts_chain or continues_chain or node.op_type == "Transpose"):
            if node.output[0] not in constants:  # both If branches may compute the same value
                args = [constants[n] if n in constants else numpy_helper.to_array(initializers[n]) for n in inputs]
                constants[node.output[0]] = _evaluate(node, args, helper)
        else:
            kept.append(node)
    if len(kept) < len(graph.node):
        del graph.node[:]
        graph.node.extend(kept)


def _is_int8(init: Any) -> bool:
    from onnx import TensorProto

    return init is not None and init.data_type in (TensorProto.INT8, TensorProto.UINT8)


def _evaluate(node: Any, args: list[np.ndarray], helper: Any) -> np.ndarray:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Cast":
        return args[0].astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))
    if node.op_type == "DequantizeLinear":
        x, scale = args[0].astype(np.float32), args[1].astype(np.float32)
        zero = args[2].astype(np.float32) if len(args) > 2 else np.float32(0)
        if scale.ndim == 1 and scale.size > 1:  # per-axis
            shape = [1] * x.ndim
            axis = int(attrs.get("axis", 1))
            shape[axis] = scale.size
            scale, zero = scale.reshape(shape), np.broadcast_to(zero, scale.shape).reshape(shape)
        return ((x - zero) * scale).astype(np.float32)
    if node.op_type == "Transpose":
        perm = attrs.get("perm")
        return np.ascontiguousarray(np.transpose(args[0], perm))
    ops = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract}
    result: np.ndarray = ops[node.op_type](args[0], args[1])
    return result


def _used_names(graph: Any) -> set[str]:
    """Every value name read by a node (in any subgraph) or given as a graph output."""
    used = {name for node in graph.node for name in node.input}
    used.update(out.name for out in graph.output)
    for _node, sub in _subgraphs(graph):
        used.update(name for node in sub.node for name in node.input)
    return used


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m captioner.engines.moonshine.convert SOURCE_DIR TARGET_DIR", file=sys.stderr)
        return 2

    logging.getLogger().setLevel(logging.ERROR)  # the quantiser's advice on pre-processing is not for users

    def report(step: str, fraction: float) -> None:
        print(f"progress {fraction:.3f} {step}", flush=True)

    try:
        convert(Path(argv[0]), Path(argv[1]), report)
    except ConversionError as exc:
        print(f"error {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
