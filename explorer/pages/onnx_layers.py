"""An ONNX decoder graph as the living page's plain layers (see :mod:`explorer.pages.layers`).

The graph must be a chain from z to its first output: each node that reads the data takes the
previous one's output and nothing else of the data (a Shape node may look at it: exporters
compute reshape targets so). Every other input is a constant (an initializer, a Constant node) or
shape arithmetic. Reshape targets are not evaluated: each tensor's shape comes from ONNX's shape
inference, for a batch of 1 and of 2, and an op that reshapes must keep the batch axis first
(a batch of 2 gives 2 × the same shape).

Mapped: Gemm; MatMul (with a following Add as its bias); Conv and ConvTranspose (2-D, group 1,
dilation 1, symmetric explicit padding); BatchNormalization (inference), and Add, Sub, Mul, Div
by a per-channel constant, as a per-channel affine step that folds into the layer before it;
Relu, LeakyRelu, Sigmoid, Tanh; Reshape, Flatten, Squeeze, Unsqueeze, and Transpose where it
moves no data; Identity and Dropout (no-ops at inference). Anything else raises
:class:`explorer.pages.layers.LayerError` naming the operator.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import numpy_helper

SUPPORTED = (
    "Gemm, MatMul+Add, Conv, ConvTranspose, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, "
    "Reshape, Flatten, Squeeze, Unsqueeze, Transpose (moving no data), Identity, Dropout, and "
    "Add/Sub/Mul/Div by a per-channel constant"
)
ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
RESHAPES = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
NO_OPS = ("Identity", "Dropout")
SHAPE_READERS = ("Shape", "Size")  # read a tensor's shape, not its values
AFFINE = ("Add", "Sub", "Mul", "Div")
CONSTANT_VALUES = ("value", "value_float", "value_floats", "value_int", "value_ints")
SMALL = 64  # initializers up to this many values go to the shape inference whole


def graph_layers(model: onnx.ModelProto, error: type[ValueError]) -> list[dict]:
    """The graph's chain as layer dicts, not yet folded (BatchNormalization a "batchnorm"
    layer, a per-channel constant's Add, Sub, Mul or Div an "affine" one), ending in its raw
    output. Raises ``error`` (one line) for what the page cannot
    run."""
    graph = model.graph
    constants = _constants(graph)
    weights = {t.name for t in graph.initializer}
    z = next(i.name for i in graph.input if i.name not in weights)
    one, two = _shapes(model, z, 1, error), _shapes(model, z, 2, error)
    data, last = {z}, z
    steps: list[dict] = []
    for node in graph.node:
        reads = [name for name in node.input if name in data]
        if not reads or node.op_type in SHAPE_READERS:
            continue
        where = f"{node.op_type} node {node.name or node.output[0]!r}"
        if reads != [last]:
            raise error(
                f"the ONNX decoder is not a plain chain at its {where} (it takes "
                f"{', '.join(reads)}, not only {last}); the living page runs chains only"
            )
        out = node.output[0]
        x, y = _batched(one, two, last, where, error), _batched(one, two, out, where, error)
        step = _step(node, x, y, constants, where, error)
        if step is not None:
            steps.append(step)
        data.add(out)
        last = out
    if graph.output[0].name != last:
        raise error("the ONNX decoder's output is not the end of its chain of layers")
    return steps


def _step(node, x: list[int], y: list[int], constants: dict, where: str, error) -> dict | None:
    """One node as a layer dict, or None for one that changes nothing."""
    op = node.op_type
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def const(index: int) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        if node.input[index] not in constants:
            raise error(f"the living page needs the {where}'s input {index + 1} as a constant")
        return constants[node.input[index]].astype(np.float32)

    def first_is_data() -> None:
        if node.input[0] in constants:
            raise error(f"the living page runs the {where} only with the data as its first input")

    if op in NO_OPS:
        return None
    if op in ACTIVATIONS:
        return {"type": ACTIVATIONS[op]}
    if op == "LeakyRelu":
        return {"type": "leaky_relu", "slope": float(attrs.get("alpha", 0.01))}
    if op in RESHAPES:
        return {"type": "reshape", "shape": y}
    if op == "Transpose":
        perm = list(attrs.get("perm", reversed(range(len(x) + 1))))
        sizes = [2, *x]
        moved = [axis for axis in perm if sizes[axis] != 1]
        if perm[0] != 0 or moved != sorted(moved):
            raise error(f"the living page cannot run the {where}: it reorders the data")
        return {"type": "reshape", "shape": y}
    first_is_data()
    if op == "Gemm":
        if attrs.get("transA", 0) or len(x) != 1:
            raise error(f"the living page runs the {where} only on a batch of feature vectors")
        weight = const(1)
        weight = weight if attrs.get("transB", 0) else weight.T
        bias = const(2)
        out = weight.shape[0]
        bias = np.zeros(out, np.float32) if bias is None else _fit(bias, [out], where, error)
        return {
            "type": "linear",
            "weight": np.ascontiguousarray(np.float32(attrs.get("alpha", 1.0)) * weight),
            "bias": np.float32(attrs.get("beta", 1.0)) * bias,
        }
    if op == "MatMul":
        weight = const(1)
        if weight.ndim != 2 or len(x) != 1:
            raise error(f"the living page runs the {where} only as features × a weight matrix")
        return {
            "type": "linear",
            "weight": np.ascontiguousarray(weight.T),
            "bias": np.zeros(weight.shape[1], np.float32),
        }
    if op in ("Conv", "ConvTranspose"):
        return _conv(op, attrs, const(1), const(2), x, y, where, error)
    if op == "BatchNormalization":
        if attrs.get("training_mode", 0):
            raise error(f"the living page runs the {where} only in inference mode")
        scale, shift, mean, var = (const(i).astype(np.float64) for i in range(1, 5))
        scale = scale / np.sqrt(var + attrs.get("epsilon", 1e-5))
        return _affine(scale, shift - mean * scale, "batchnorm")
    if op in AFFINE:
        if node.input[1] not in constants:
            raise error(f"the living page cannot run the {where}: it joins two branches")
        value = _per_channel(const(1), y, where, error)
        if op == "Add":
            return _affine(np.ones_like(value), value)
        if op == "Sub":
            return _affine(np.ones_like(value), -value)
        if op == "Mul":
            return _affine(value, np.zeros_like(value))
        return _affine(1.0 / value.astype(np.float64), np.zeros_like(value))
    raise error(f"the living page cannot run the ONNX operator {op} ({where}); it runs {SUPPORTED}")


def _affine(scale, shift, kind: str = "affine") -> dict:
    """A per-channel y = x·scale + shift."""
    return {
        "type": kind,
        "weight": np.asarray(scale, np.float32),
        "bias": np.asarray(shift, np.float32),
    }


def _fit(value: np.ndarray, shape: list[int], where: str, error) -> np.ndarray:
    """A constant broadcast to ``shape``, or ``error``."""
    try:
        return np.broadcast_to(value, shape).astype(np.float32)
    except ValueError:
        raise error(f"the living page cannot run the {where}: its constant does not fit") from None


def _per_channel(value: np.ndarray, shape: list[int], where: str, error) -> np.ndarray:
    """A constant as one value per channel (the first axis of one image's ``shape``): broadcast
    to the data, it must not vary along the other axes."""
    channels = _fit(value, [1, *shape], where, error)[0].reshape(shape[0], -1)
    if not (channels == channels[:, :1]).all():
        raise error(f"the living page runs the {where} only with one constant per channel")
    return channels[:, 0].copy()


def _conv(op, attrs, weight, bias, x, y, where: str, error) -> dict:
    if weight is None or weight.ndim != 4 or len(x) != 3 or len(y) != 3:
        raise error(f"the living page runs the {where} only as a 2-D convolution")
    if attrs.get("group", 1) != 1 or any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise error(f"the living page cannot run the {where}: grouped or dilated")
    pad = attrs.get("auto_pad", b"NOTSET")
    pad = pad.decode() if isinstance(pad, bytes) else pad
    if pad not in ("NOTSET", "VALID"):
        raise error(f"the living page cannot run the {where}: padding {pad} (give pads instead)")
    pads = list(attrs.get("pads", [0, 0, 0, 0])) if pad == "NOTSET" else [0, 0, 0, 0]
    if pads[:2] != pads[2:]:
        raise error(f"the living page cannot run the {where}: its padding is not symmetric")
    stride = list(attrs.get("strides", [1, 1]))
    kernel = list(weight.shape[2:])
    out = weight.shape[0] if op == "Conv" else weight.shape[1]
    bias = np.zeros(out, np.float32) if bias is None else bias.reshape(out)
    layer = {"weight": weight, "bias": bias, "stride": stride, "padding": pads[:2]}
    if op == "Conv":
        return {"type": "conv2d", **layer}
    # The output padding from the shape inferred: what output_padding, or output_shape, gives.
    extra = [
        size - ((n - 1) * s - 2 * p + k)
        for size, n, s, p, k in zip(y[1:], x[1:], stride, pads[:2], kernel, strict=True)
    ]
    if any(not 0 <= e < s for e, s in zip(extra, stride, strict=True)):
        raise error(f"the living page cannot run the {where}: its output size is not a padding")
    return {"type": "conv_transpose2d", **layer, "output_padding": extra}


def _batched(one: dict, two: dict, name: str, where: str, error) -> list[int]:
    """A tensor's shape for one image, checked to keep the batch axis first."""
    single, double = one.get(name), two.get(name)
    if single is None or double is None or double != [2, *single[1:]] or single[0] != 1:
        raise error(f"the living page cannot run the {where}: it does not keep the batch axis")
    return single[1:]


def _constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute:
            attribute = node.attribute[0]
            value = onnx.helper.get_attribute_value(attribute)
            if isinstance(value, onnx.TensorProto):
                value = numpy_helper.to_array(value)
            if attribute.name in CONSTANT_VALUES:
                values[node.output[0]] = np.asarray(value)
    return values


def _shapes(model: onnx.ModelProto, z: str, batch: int, error) -> dict[str, list[int] | None]:
    """Every tensor's shape for a batch of ``batch``, inferred from z's (declared ones not
    believed); None where unknown. The weights' bytes stay out of the copy inferred."""
    graph = model.graph
    probe = onnx.helper.make_model(
        onnx.helper.make_graph(
            list(graph.node),
            graph.name or "decoder",
            [_with_batch(i, batch) if i.name == z else i for i in graph.input],
            [onnx.helper.make_empty_tensor_value_info(o.name) for o in graph.output],
            [_light(t) for t in graph.initializer],
        ),
        opset_imports=list(model.opset_import),
        ir_version=model.ir_version,
    )
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, strict_mode=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise error(f"the ONNX decoder's shapes cannot be inferred: {first}") from None
    shapes = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        kind = value.type.tensor_type
        if value.type.WhichOneof("value") != "tensor_type" or not kind.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.shape.dim]
        shapes[value.name] = None if None in dims else dims
    return shapes


def _with_batch(value: onnx.ValueInfoProto, batch: int) -> onnx.ValueInfoProto:
    copy = onnx.ValueInfoProto()
    copy.CopyFrom(value)
    axis = copy.type.tensor_type.shape.dim[0]
    axis.Clear()
    axis.dim_value = batch
    return copy


def _light(tensor: onnx.TensorProto) -> onnx.TensorProto:
    """An initializer for the shape inference: whole when small (a reshape's target), else its
    type and dims alone."""
    if math.prod(tensor.dims) <= SMALL:
        return tensor
    light = onnx.TensorProto(name=tensor.name, data_type=tensor.data_type)
    light.dims.extend(tensor.dims)
    return light
