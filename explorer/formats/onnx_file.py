"""VAEs as ONNX graphs: a decoder (``NAME.onnx``) and, optionally, an encoder beside it
(``NAME.encoder.onnx``), run by onnxruntime on the CPU behind the methods the explorer calls on a
torch VAE (:class:`OnnxVAE`).

An ONNX file runs no Python, but it is still checked before onnx or onnxruntime reads more than
its graph, because the graph can ask for files and memory:

- **External data** (weights kept in another file, as torch's exporter writes them by default in
  ``NAME.onnx.data``) is read only for a model opened by path, only from regular files in the
  model's own folder named plainly (no folder part, no ``..``, no link), within MAX_MODEL_BYTES
  with the graph. Those bytes are read here and put into the graph: onnxruntime opens no file.
  An upload is one file: it must carry its weights inside.
- **Operators** of the standard domains only; no model-local functions and no control flow
  (a Loop's trip count could come from z).
- **Sizes**: every tensor's shape follows from z's shape alone (the shapes the file declares are
  not believed: inferred at batch 1 and 2 after shape arithmetic is folded), holds at most
  MAX_TENSOR_ELEMENTS per image and grows no faster than the batch; at most MAX_PARAMETERS
  weights, MAX_NODES operators and MAX_FLOPS of work per image; the image is MIN_SIDE to
  MAX_SIDE pixels a side, grey or RGB.

The graphs' conventions:

- decoder: one input z [batch, d] → the first output, the image [batch, C, H, W] (C = 1 or 3)
  or [batch, H, W]; values in [0, 1] (shown clipped), or logits when the metadata property
  ``vae_explorer.output`` is ``sigmoid`` (shown through a sigmoid);
- encoder: one input x, the image as the decoder makes it → (μ, log σ²), two outputs [batch, d]
  or one [batch, 2d] (μ first);
- ``vae_explorer.beta``, ``.epochs`` and ``.dataset`` metadata are shown when present.
"""

from __future__ import annotations

import errno
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import onnxscript.optimizer
import torch
from google.protobuf.message import DecodeError

from explorer.formats.base import CheckpointError, ModelInfo, mb, shown
from explorer.model import OUTPUTS

MAX_MODEL_BYTES = 256 * 2**20  # the graph and its external data, together
MAX_PARAMETERS = 64 * 2**20  # weights (initializers and constants), in elements
MAX_TENSOR_ELEMENTS = 2**23  # any tensor the graph makes, per image: 32 MB of float32
# A batch runs in chunks whose largest tensor holds at most this many values (256 MB of float32):
# a view's grid of 300 images of a big decoder must not ask for tens of GB at once.
MAX_BATCH_ELEMENTS = 2**26
MAX_FLOPS = 4 * 10**9  # multiply-adds ×2 to decode one image: about a second on one core
MAX_NODES = 20_000  # operators in a graph (the zoo's decoder has 12)
MAX_LATENT_DIM = 512  # as for checkpoints: the app gives each dimension three sliders
MIN_SIDE, MAX_SIDE = 8, 512  # the image's height and width
STANDARD_DOMAINS = ("", "ai.onnx")
ENCODER_SUFFIX = ".encoder.onnx"
META = "vae_explorer."  # our metadata properties' prefix
CONTROL_FLOW = ("If", "Loop", "Scan")
# Shape arithmetic: what an exporter computes from a tensor's shape (torch's older exporter, for
# a view). Its results are no longer than its inputs (or the ranks that Shape gives), so these
# alone are folded ahead, and only these may make integer vectors of a size the graph leaves open.
SHAPE_OPS = frozenset(
    [
        "Shape",
        "Slice",
        "Concat",
        "Gather",
        "Unsqueeze",
        "Squeeze",
        "Cast",
        "Identity",
        "Constant",
        "Reshape",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Mod",
        "Neg",
        "Abs",
        "Min",
        "Max",
        "Equal",
        "Where",
    ]
)
FOLD_LIMIT = 64  # the largest constant input folded ahead: shape vectors, not weights
PROBE_BATCH = 2


@dataclass(frozen=True)
class Graph:
    """A checked graph, ready for onnxruntime: its bytes, and its input and output names."""

    model: onnx.ModelProto
    input: str
    outputs: tuple[str, ...]
    output: list[int]  # the first output's shape for one image (batch 1)
    largest: int  # the most values any of its tensors holds, per image

    @property
    def chunk(self) -> int:
        """How many images run at once."""
        return max(1, MAX_BATCH_ELEMENTS // self.largest)


class OnnxVAE:
    """A decoder graph (and maybe an encoder), with the torch VAE's methods the explorer uses:
    ``decode(z)`` → images as shown, N×C×H×W in [0, 1]; ``encode(x)`` → (μ, log σ²).

    Sessions run one thread each (a decode is small; threads would contend with other sessions')
    and are safe to share between threads: onnxruntime's ``run`` is.
    """

    def __init__(self, decoder: Graph, encoder: Graph | None, image_shape, latent_dim, output):
        self.latent_dim = latent_dim
        self.image_shape = tuple(image_shape)  # (C, H, W)
        self.output = output
        self._decoder = decoder
        self._decode_session = _session(decoder)
        self._encoder = encoder
        self._encode_session = _session(encoder) if encoder is not None else None

    @property
    def has_encoder(self) -> bool:
        return self._encode_session is not None

    @property
    def decoder_graph(self) -> onnx.ModelProto:
        """The decoder's graph as checked: weights inside, shape arithmetic folded. Read-only."""
        return self._decoder.model

    def parameters(self) -> Iterator[torch.Tensor]:
        """Where inputs go (the CPU), as a torch module's first parameter says it."""
        yield torch.zeros(0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raw = self._run(self._decode_session, self._decoder, z)[0]
        images = torch.from_numpy(raw.reshape(len(raw), *self.image_shape))
        if self.output == "sigmoid":
            return torch.sigmoid(images)
        return images.clamp(0.0, 1.0)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._encode_session is None:
            raise CheckpointError("this ONNX model has no encoder (NAME.encoder.onnx beside it)")
        outputs = self._run(self._encode_session, self._encoder, x)
        if len(outputs) == 1:
            both = torch.from_numpy(outputs[0])
            return both[:, : self.latent_dim], both[:, self.latent_dim :]
        return torch.from_numpy(outputs[0]), torch.from_numpy(outputs[1])

    def _run(self, session, graph: Graph, tensor: torch.Tensor) -> list[np.ndarray]:
        array = tensor.detach().to("cpu", torch.float32).numpy()
        names = list(graph.outputs)
        chunks = [
            session.run(names, {graph.input: array[start : start + graph.chunk]})
            for start in range(0, max(len(array), 1), graph.chunk)
        ]
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]


def load(path: Path, source: str, *, external: bool = True) -> tuple[OnnxVAE, ModelInfo]:
    """The ONNX VAE at ``path`` (its encoder beside it, when there is one), checked; or
    CheckpointError. ``external``: whether weights may come from other files in its folder."""
    name = shown(path.name)
    folder = path.parent if external else None
    decoder = check_graph(_read(path, name), name, folder)
    encoder_path = path.with_name(path.name.removesuffix(".onnx") + ENCODER_SUFFIX)
    encoder = None
    if path.name.endswith(".onnx") and encoder_path.is_file():
        encoder_name = shown(encoder_path.name)
        encoder = check_graph(_read(encoder_path, encoder_name), encoder_name, folder)
    return _build(decoder, encoder, name, source, path)


def load_bytes(data: bytes, name: str, source: str) -> tuple[OnnxVAE, ModelInfo]:
    """An uploaded ONNX decoder: one file, its weights inside."""
    decoder = check_graph(_parse(data, name), name, folder=None)
    return _build(decoder, None, name, source, Path(name))


def _build(decoder: Graph, encoder: Graph | None, name: str, source: str, path: Path):
    latent_dim = _latent_dim(decoder, name)
    output = _meta(decoder.model).get("output", "linear")
    if output not in OUTPUTS:
        raise CheckpointError(f"{name}: vae_explorer.output must be one of {', '.join(OUTPUTS)}")
    image_shape = _image_shape(decoder, name)
    vae = OnnxVAE(decoder, encoder, image_shape, latent_dim, output)
    _probe(vae, name)
    return vae, _info(decoder.model, source, path, image_shape, latent_dim, output)


# -- reading ------------------------------------------------------------------------------------
def _read(path: Path, name: str) -> onnx.ModelProto:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CheckpointError(f"{name} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        if status.st_size > MAX_MODEL_BYTES:
            raise CheckpointError(f"{name} is too large ({mb(status.st_size)}; {_LIMIT})")
        return _parse(handle.read(), name)


def _parse(data: bytes, name: str) -> onnx.ModelProto:
    if len(data) > MAX_MODEL_BYTES:
        raise CheckpointError(f"{name} is too large ({mb(len(data))}; {_LIMIT})")
    try:
        model = onnx.ModelProto.FromString(bytes(data))
    except (DecodeError, RuntimeError, ValueError):
        raise CheckpointError(f"{name} is not an ONNX model (truncated or corrupt)") from None
    if not model.HasField("graph") or not model.graph.node:
        raise CheckpointError(f"{name} is not an ONNX model (it has no graph)")
    return model


_LIMIT = f"an ONNX model may be at most {MAX_MODEL_BYTES // 2**20} MB with its weights"


def check_graph(model: onnx.ModelProto, name: str, folder: Path | None) -> Graph:
    """``model`` once it is safe to hand to onnxruntime: its operators standard, its external
    data read in from ``folder`` (None: refused), its sizes within the caps; or CheckpointError."""
    if model.functions:
        raise CheckpointError(f"{name} defines its own functions; only standard operators run")
    if len(model.graph.node) > MAX_NODES:
        raise CheckpointError(
            f"{name} has {len(model.graph.node):,} operators; at most {MAX_NODES:,} are run"
        )
    for node in model.graph.node:
        if node.domain not in STANDARD_DOMAINS:
            raise CheckpointError(
                f"{name} uses the operator {shown(node.op_type, 40)} of the domain "
                f"{shown(node.domain, 40)}; only standard ONNX operators run"
            )
        if node.op_type in CONTROL_FLOW or any(
            a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
            for a in node.attribute
        ):
            raise CheckpointError(f"{name} has control flow ({node.op_type}); a decoder needs none")
    _read_external_data(model, name, folder)
    _check_parameters(model, name)
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1 or not model.graph.output:
        raise CheckpointError(f"{name} must take one input (z, or x for an encoder)")
    _check_batch_axis(inputs[0], name)
    # Folded first, so that sizes computed from constants are known to the shape inference.
    onnxscript.optimizer.fold_constants(
        model,
        input_size_limit=FOLD_LIMIT,
        should_fold=lambda node: None if node.op_type in SHAPE_OPS else False,
    )
    largest, output = _check_shapes(model, name)
    return Graph(
        model=model,
        input=inputs[0].name,
        outputs=tuple(o.name for o in model.graph.output),
        output=output,
        largest=largest,
    )


def _external_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of the graph that can hold data: initializers, sparse ones, constants."""
    graph = model.graph
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors


def _read_external_data(model: onnx.ModelProto, name: str, folder: Path | None) -> None:
    """Put each tensor's external data into the graph, read from a plain file in ``folder``."""
    total = model.ByteSize()
    for tensor in _external_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        if folder is None:
            raise CheckpointError(
                f"{name} keeps its weights in another file; an upload must be one file: export "
                "with external_data=False, or with `vae-explorer export-onnx`"
            )
        where = {entry.key: entry.value for entry in tensor.external_data}
        location = where.get("location", "")
        if not location or location != os.path.basename(location) or location in (".", ".."):
            raise CheckpointError(
                f"{name} names weights outside its own folder ({shown(location, 60)}); "
                "only a file beside the model is read"
            )
        tensor.raw_data = _read_slice(folder / location, where, name, MAX_MODEL_BYTES - total)
        total += len(tensor.raw_data)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


def _read_slice(path: Path, where: dict[str, str], name: str, room: int) -> bytes:
    """The bytes an external-data entry names, from a regular file (a link is not followed), if
    there are at most ``room`` of them."""
    shown_as = shown(path.name)
    try:
        # O_NOFOLLOW: a link put in the file's place is refused, not followed, at the open itself.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        reason = "it is a link" if exc.errno == errno.ELOOP else exc.strerror
        raise CheckpointError(
            f"{name}: its weights file {shown_as} cannot be read ({reason})"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CheckpointError(f"{name}: its weights file {shown_as} is not a regular file")
        try:
            offset = int(where.get("offset", "0"))
            length = int(where["length"]) if "length" in where else size - offset
        except ValueError:
            raise CheckpointError(f"{name} has a malformed external-data entry") from None
        if offset < 0 or length < 0 or offset + length > size:
            raise CheckpointError(f"{name} asks for bytes past the end of {shown_as}")
        if length > room:
            raise CheckpointError(f"{name} is too large with its weights ({_LIMIT})")
        handle.seek(offset)
        return handle.read(length)


def _check_parameters(model: onnx.ModelProto, name: str) -> None:
    count = sum(math.prod(t.dims) for t in _external_tensors(model))
    if count > MAX_PARAMETERS:
        raise CheckpointError(
            f"{name} has {count:,} weights; at most {MAX_PARAMETERS:,} are loaded"
        )


def _dims(value: onnx.ValueInfoProto) -> list[int | str | None] | None:
    """A value's shape: an int per known axis, its name per symbolic one, None per unknown."""
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type" or not value.type.tensor_type.HasField("shape"):
        return None
    return [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
        for d in value.type.tensor_type.shape.dim
    ]


def _check_batch_axis(value: onnx.ValueInfoProto, name: str) -> None:
    dims = _dims(value)
    if not dims or isinstance(dims[0], int):
        raise CheckpointError(
            f"{name}'s input has no batch axis of free size; export with a dynamic batch axis "
            '(dynamic_shapes=({0: torch.export.Dim("batch")},)) or use `vae-explorer export-onnx`'
        )
    if any(not isinstance(d, int) or d < 1 for d in dims[1:]):
        raise CheckpointError(f"{name}'s input must have a fixed size but for its batch axis")


def _check_shapes(model: onnx.ModelProto, name: str) -> tuple[int, list[int]]:
    """Every tensor's size known ahead, within MAX_TENSOR_ELEMENTS per image, and growing no
    faster than the batch: (the most values a tensor holds per image, the output's shape)."""
    one, two = _sizes(model, name, 1), _sizes(model, name, 2)
    largest = 1
    for value, (dims, made_by, element_type) in one.items():
        if dims is None or None in dims:
            if _shape_vector(dims, made_by, element_type):
                continue
            raise CheckpointError(
                f"{name}: the size of {shown(value, 40)} cannot be known from the graph; "
                "only decoders whose shapes follow from z's are opened"
            )
        elements = math.prod(dims)
        if elements > MAX_TENSOR_ELEMENTS:
            raise CheckpointError(
                f"{name}: {shown(value, 40)} would hold {elements:,} values per image; "
                f"at most {MAX_TENSOR_ELEMENTS:,}"
            )
        doubled = two.get(value, (None,))[0]
        if doubled is None or None in doubled or math.prod(doubled) > 2 * elements:
            raise CheckpointError(f"{name}: {shown(value, 40)} grows faster than the batch")
        largest = max(largest, elements)
    flops = _flops(model, one)
    if flops > MAX_FLOPS:
        raise CheckpointError(
            f"{name} takes {flops / 1e9:,.1f} GFLOP to decode one image; at most "
            f"{MAX_FLOPS / 1e9:g} (a slider decodes on every move)"
        )
    output = one[model.graph.output[0].name][0] or []
    return largest, output


def _flops(model: onnx.ModelProto, sizes: dict[str, tuple]) -> int:
    """The work of one image in the graph's convolutions and products (2 × multiply-adds), from
    the shapes inferred for a batch of one: what a hostile graph of few weights could ask for."""
    weights = {t.name: list(t.dims) for t in model.graph.initializer}

    def dims(name):
        return weights.get(name) or (sizes.get(name) or (None,))[0] or []

    total = 0
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose", "MatMul", "Gemm") or len(node.input) < 2:
            continue
        inputs, kernel, output = dims(node.input[0]), dims(node.input[1]), dims(node.output[0])
        if not (inputs and kernel and output):
            continue
        if node.op_type == "Conv":  # each output value: Cin/groups × kernel window
            total += 2 * math.prod(output) * math.prod(kernel[1:])
        elif node.op_type == "ConvTranspose":  # each input value: Cout/groups × kernel window
            total += 2 * math.prod(inputs) * math.prod(kernel[1:])
        else:
            transposed = any(a.name == "transA" and a.i for a in node.attribute)
            total += 2 * math.prod(output) * (inputs[0] if transposed else inputs[-1])
    return total


def _sizes(model: onnx.ModelProto, name: str, batch: int) -> dict[str, tuple]:
    """Each tensor's shape (None where not known), the op that makes it and its element type,
    inferred for a batch of ``batch`` from the input alone.

    Shapes the file declares are not believed: a ConstantOfShape whose size comes from z's values
    would take the size its output claims. The weights' bytes stay out of the copy inferred."""
    probe = onnx.ModelProto()
    heavy = [t for t in model.graph.initializer if math.prod(t.dims) > FOLD_LIMIT]
    held = [t.raw_data for t in heavy]
    for tensor in heavy:
        tensor.ClearField("raw_data")
    try:
        probe.CopyFrom(model)
    finally:
        for tensor, data in zip(heavy, held, strict=True):
            tensor.raw_data = data
    del probe.graph.value_info[:]
    for output in probe.graph.output:
        output.type.tensor_type.ClearField("shape")
    weights = {t.name for t in probe.graph.initializer}
    z = next(i for i in probe.graph.input if i.name not in weights)
    z.type.tensor_type.shape.dim[0].Clear()
    z.type.tensor_type.shape.dim[0].dim_value = batch
    try:
        inferred = onnx.shape_inference.infer_shapes(
            probe, check_type=True, strict_mode=True, data_prop=True
        ).graph
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        raise CheckpointError(f"{name} is not a valid ONNX graph: {_first_line(exc)}") from None
    made_by = {output: node.op_type for node in inferred.node for output in node.output}
    sizes = {}
    for value in [*inferred.input, *inferred.value_info, *inferred.output]:
        if value.name not in weights:
            dims = _dims(value)
            known = (
                None
                if dims is None
                else [d if isinstance(d, int) and d > 0 else None for d in dims]
            )
            sizes[value.name] = (known, made_by.get(value.name), value.type.tensor_type.elem_type)
    return sizes


def _shape_vector(dims: list | None, op_type: str | None, element_type: int) -> bool:
    """Whether a tensor is a vector of integers made by shape arithmetic (see SHAPE_OPS)."""
    integer = element_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
    return integer and dims is not None and len(dims) == 1 and op_type in SHAPE_OPS


def _session(graph: Graph) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are not the user's business
    return onnxruntime.InferenceSession(
        graph.model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


# -- what the graphs say -------------------------------------------------------------------------
def _latent_dim(graph: Graph, name: str) -> int:
    z = next(i for i in graph.model.graph.input if i.name == graph.input)
    dims = _dims(z)
    if len(dims) != 2 or not isinstance(dims[1], int) or not 1 <= dims[1] <= MAX_LATENT_DIM:
        raise CheckpointError(
            f"{name}: a decoder takes z as [batch, d] with d in 1..{MAX_LATENT_DIM}, got "
            f"{_shape_text(dims)}"
        )
    return dims[1]


def _image_shape(graph: Graph, name: str) -> tuple[int, int, int]:
    """The image's shape (C, H, W), from the decoder's output for one image."""
    dims = list(graph.output)
    if len(dims) == 3:
        dims = [dims[0], 1, *dims[1:]]
    if len(dims) != 4:
        raise CheckpointError(
            f"{name}: a decoder's output is [batch, C, H, W] or [batch, H, W], got "
            f"{_shape_text(dims)}"
        )
    channels, height, width = dims[1:]
    if channels not in (1, 3):
        raise CheckpointError(f"{name}: images must be grey (1 channel) or RGB (3), not {channels}")
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise CheckpointError(
            f"{name}: images of {height}×{width} pixels; sides must be {MIN_SIDE} to {MAX_SIDE}"
        )
    return channels, height, width


def _probe(vae: OnnxVAE, name: str) -> None:
    """Decode (and encode) a small batch: what the graphs declared must be what they do."""
    try:
        images = vae.decode(torch.zeros(PROBE_BATCH, vae.latent_dim))
    except Exception as exc:  # onnxruntime raises its own kinds, and reshape a ValueError
        raise CheckpointError(f"{name} failed to decode: {_first_line(exc)}") from None
    if images.dtype != torch.float32:
        raise CheckpointError(f"{name} decodes to {images.dtype}; float32 expected")
    if not vae.has_encoder:
        return
    try:
        mu, logvar = vae.encode(images)
    except Exception as exc:  # as above
        raise CheckpointError(
            f"{name}'s encoder does not take the decoder's images: {_first_line(exc)}"
        ) from None
    want = (PROBE_BATCH, vae.latent_dim)
    if tuple(mu.shape) != want or tuple(logvar.shape) != want:
        raise CheckpointError(
            f"{name}'s encoder gives (μ, log σ²) of shapes {list(mu.shape)} and "
            f"{list(logvar.shape)}; expected [batch, {vae.latent_dim}] each"
        )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return shown(text.splitlines()[0] if text else type(exc).__name__, 160)


def _meta(model: onnx.ModelProto) -> dict[str, str]:
    return {
        p.key.removeprefix(META): p.value for p in model.metadata_props if p.key.startswith(META)
    }


def _info(model, source: str, path: Path, image_shape, latent_dim: int, output: str) -> ModelInfo:
    meta = _meta(model)

    def number(key, kind):
        try:
            value = kind(meta[key])
        except (KeyError, ValueError):
            return None
        return value if math.isfinite(value) else None

    return ModelInfo(
        source=source,
        path=str(path),
        format="onnx",
        latent_dim=latent_dim,
        output=output,
        image_shape=tuple(image_shape),
        beta=number("beta", float),
        epochs=number("epochs", int),
        dataset=shown(meta["dataset"]) if "dataset" in meta else None,
    )


def _shape_text(dims) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims or []) + "]"
