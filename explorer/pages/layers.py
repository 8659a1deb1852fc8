"""A decoder as a list of plain layers, for the living page's JavaScript forward pass.

``decoder_layers(vae)`` takes any VAE the explorer opens: ours and a live ``nn.Module`` are
traced with ``torch.fx`` (so any chain of supported layers works, however the module is
written), an ONNX decoder's graph is read node by node (:mod:`explorer.pages.onnx_layers`). It
folds each BatchNorm (and per-channel affine step) into the layer before it, ends in the image as
shown, C×H×W (sigmoid, or the clip to [0, 1] of a linear output), and checks the result against
the model's own decode before returning it. Each layer is a dict: ``{"type": "linear", ...}``
with its weights as float32 arrays; :func:`to_json` encodes those as base64 for the page.

Supported in torch: Linear, Conv2d and ConvTranspose2d (groups 1, dilation 1), BatchNorm1d/2d,
ReLU, LeakyReLU, Sigmoid, Tanh, view/reshape/flatten/unflatten, and Dropout/Identity (no-ops at
inference); in ONNX, their operators (``onnx_layers.SUPPORTED``). Anything else raises
:class:`LayerError` naming the layer or operator.
"""

from __future__ import annotations

import base64
import copy
import operator

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from explorer.formats.module import ModuleVAE
from explorer.model import VAE

SUPPORTED = (
    "Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, ReLU, LeakyReLU, Sigmoid, Tanh, "
    "view/reshape/flatten/unflatten, Dropout, Identity"
)
TOLERANCE = 1e-5  # the exported layers against the model's decode, on random z
ACTIVATIONS = {
    F.relu: "relu",
    torch.relu: "relu",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    torch.tanh: "tanh",
    F.tanh: "tanh",
}
RESHAPES = {"view", "reshape", "flatten", "unflatten"}
NO_OPS = (nn.Dropout, nn.Identity)


class LayerError(ValueError):
    """A decoder the living page cannot run; the message names the layer, in one line."""


def decoder_layers(vae) -> list[dict]:
    """The decoder of ``vae`` (eval mode, on the CPU) as plain layers, BatchNorm folded, ending
    in the image as shown (C×H×W); checked against the model's decode to within
    :data:`TOLERANCE`. ``vae``: ours, a live module (ModuleVAE) or an ONNX decoder (OnnxVAE)."""
    if isinstance(vae, VAE):
        steps, output = _traced(vae.decoder, vae.latent_dim), vae.config.output
    elif isinstance(vae, ModuleVAE):
        if not isinstance(vae.vae, nn.Module):
            raise LayerError(
                "the living page runs torch modules and ONNX decoders; this model's decode(z) "
                f"belongs to a {type(vae.vae).__name__}, plain Python"
            )
        steps, output = _traced(_Decode(vae.vae), vae.latent_dim), vae.output
    elif getattr(vae, "decoder_graph", None) is not None:  # an OnnxVAE, as onnx_file checked it
        from explorer.pages import onnx_layers  # onnx's import: only when a page needs it

        steps, output = onnx_layers.graph_layers(vae.decoder_graph, LayerError), vae.output
    else:
        raise LayerError(f"the living page cannot run a {type(vae).__name__}")
    shape = list(vae.image_shape)
    made = forward(steps, np.zeros((1, vae.latent_dim), np.float32)).shape[1:]
    if list(made) != shape and np.prod(made) == np.prod(shape):  # [H, W] for a grey image
        steps.append({"type": "reshape", "shape": shape})
    layers = _folded(steps)
    layers.append({"type": "sigmoid"} if output == "sigmoid" else {"type": "clip"})
    _check_against_model(vae, layers)
    return layers


def forward(layers: list[dict], z: np.ndarray) -> np.ndarray:
    """The layers applied to z (N×latent) with torch's functional ops: the reference the
    JavaScript reproduces. Returns the images as shown (N×…, float32)."""
    h = torch.as_tensor(np.asarray(z, np.float32))
    for layer in layers:
        kind = layer["type"]
        w = torch.as_tensor(layer["weight"]) if "weight" in layer else None
        b = torch.as_tensor(layer["bias"]) if "bias" in layer else None
        if kind == "linear":
            h = F.linear(h, w, b)
        elif kind == "conv2d":
            h = F.conv2d(h, w, b, stride=layer["stride"], padding=layer["padding"])
        elif kind == "conv_transpose2d":
            h = F.conv_transpose2d(
                h, w, b, layer["stride"], layer["padding"], layer["output_padding"]
            )
        elif kind in ("batchnorm", "affine"):
            shape = (1, -1) + (1,) * (h.dim() - 2)
            h = h * w.view(shape) + b.view(shape)
        elif kind == "reshape":
            h = h.reshape(h.shape[0], *layer["shape"])
        elif kind == "leaky_relu":
            h = F.leaky_relu(h, layer["slope"])
        elif kind == "clip":
            h = h.clamp(0.0, 1.0)
        else:
            h = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[kind](h)
    return h.numpy()


def to_json(layers: list[dict]) -> list[dict]:
    """The layers with every array as ``{"shape": [...], "base64": ...}`` (float32, little
    endian), for a page."""

    def encode(value):
        if isinstance(value, np.ndarray):
            data = value.astype("<f4").tobytes()
            return {"shape": list(value.shape), "base64": base64.b64encode(data).decode()}
        return value

    return [{key: encode(value) for key, value in layer.items()} for layer in layers]


def parameter_count(layers: list[dict]) -> int:
    return sum(v.size for layer in layers for v in layer.values() if isinstance(v, np.ndarray))


# -- tracing ---------------------------------------------------------------------------------
_FOLDABLE = ("linear", "conv2d", "conv_transpose2d")
_AFFINE = ("batchnorm", "affine")  # y = x·weight + bias per channel


class _Decode(nn.Module):
    """A live module's decode(z) as a forward to trace, its output adapted as the explorer
    adapts it (a tuple's first item, pythae's .reconstruction, diffusers' .sample)."""

    def __init__(self, vae: nn.Module):
        super().__init__()
        self.vae = vae

    def forward(self, z):
        out = self.vae.decode(z)
        if isinstance(out, tuple | list):
            out = out[0]
        if not isinstance(out, torch.Tensor | fx.Proxy):
            for field in ("reconstruction", "sample"):
                out = getattr(out, field, out)
        return out


def _traced(decoder: nn.Module, latent_dim: int) -> list[dict]:
    """A torch decoder's chain as layer dicts, not yet folded."""
    decoder = _cpu_copy(decoder)
    graph = _trace(decoder)
    example = torch.randn(2, latent_dim, generator=torch.Generator().manual_seed(0))
    try:
        ShapeProp(graph).propagate(example)
    except Exception as exc:  # the user's module, run by fx: any error, in one line
        raise LayerError(f"cannot trace the decoder into layers: {_first_line(exc)}") from exc
    steps: list[dict] = []
    previous = None
    for node in graph.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        _check_chain(node, previous)
        previous = node
        shape = tuple(node.meta["tensor_meta"].shape[1:])
        layer = _layer(graph, node, shape)
        if layer is not None:
            steps.append(layer)
    return steps


def _folded(steps: list[dict]) -> list[dict]:
    """The steps with each per-channel affine one folded into a layer just before it, and
    reshapes in a row made one."""
    layers: list[dict] = []
    for layer in steps:
        if layer["type"] in _AFFINE and layers and layers[-1]["type"] in _FOLDABLE:
            _fold(layers[-1], layer)
        elif layer["type"] == "reshape" and layers and layers[-1]["type"] == "reshape":
            layers[-1] = layer  # one reshape does both
        else:
            layers.append(layer)
    return layers


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cpu_copy(decoder: nn.Module) -> nn.Module:
    """A float32 CPU copy in eval mode (the app's model is shared and may sit on a GPU)."""
    return copy.deepcopy(decoder).to("cpu", torch.float32).eval()


def _trace(decoder: nn.Module) -> fx.GraphModule:
    try:
        return fx.symbolic_trace(decoder)
    except Exception as exc:  # fx raises many types for control flow it cannot follow
        raise LayerError(f"cannot trace the decoder into layers: {_first_line(exc)}") from exc


def _check_chain(node: fx.Node, previous: fx.Node | None) -> None:
    """Each step must take the previous step's output (a plain chain: no skips, no sums)."""
    inputs = [arg for arg in node.all_input_nodes]
    expected = previous if previous is not None else "the input"
    if len(inputs) != 1 or (previous is not None and inputs[0] is not previous):
        raise LayerError(
            f"the decoder is not a plain chain of layers at {node.name!r} (it takes "
            f"{', '.join(i.name for i in inputs) or 'no tensor'}, not {expected}); the living "
            "page runs chains only"
        )


def _layer(graph: fx.GraphModule, node: fx.Node, shape: tuple[int, ...]) -> dict | None:
    """One traced step as a layer dict, or None for a step that changes nothing."""
    if node.op == "call_module":
        module = graph.get_submodule(node.target)
        if isinstance(module, nn.Flatten | nn.Unflatten):
            return {"type": "reshape", "shape": list(shape)}
        return _module_layer(module, node.target)
    if node.op == "call_function" and node.target in ACTIVATIONS:
        return {"type": ACTIVATIONS[node.target]}
    if node.op == "call_function" and node.target is F.leaky_relu:
        slope = node.args[1] if len(node.args) > 1 else node.kwargs.get("negative_slope", 0.01)
        return {"type": "leaky_relu", "slope": float(slope)}
    if node.op == "call_function" and node.target is torch.flatten:
        return {"type": "reshape", "shape": list(shape)}
    if node.op == "call_method" and node.target in RESHAPES:
        return {"type": "reshape", "shape": list(shape)}
    if node.op == "call_method" and node.target in ("relu", "sigmoid", "tanh"):
        return {"type": node.target}
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "?")
    if node.target is operator.getitem or node.op == "get_attr":
        name = f"{node.op} {node.name}"
    raise LayerError(f"the living page cannot run {name!r} in the decoder; it runs {SUPPORTED}")


def _module_layer(module: nn.Module, name: str) -> dict | None:
    def array(tensor):
        return tensor.detach().numpy().astype(np.float32).copy()

    def bias(out: int):
        return array(module.bias) if module.bias is not None else np.zeros(out, np.float32)

    if isinstance(module, NO_OPS):
        return None
    if isinstance(module, nn.Linear):
        return {"type": "linear", "weight": array(module.weight), "bias": bias(module.out_features)}
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        kind = "conv2d" if isinstance(module, nn.Conv2d) else "conv_transpose2d"
        if module.groups != 1 or tuple(module.dilation) != (1, 1):
            raise LayerError(f"{name}: grouped or dilated convolutions are not supported")
        if isinstance(module.padding, str) or module.padding_mode != "zeros":
            raise LayerError(f"{name}: only numeric zero padding is supported")
        layer = {
            "type": kind,
            "weight": array(module.weight),
            "bias": bias(module.out_channels),
            "stride": list(module.stride),
            "padding": list(module.padding),
        }
        if kind == "conv_transpose2d":
            layer["output_padding"] = list(module.output_padding)
        return layer
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        if module.running_mean is None:
            raise LayerError(f"{name}: BatchNorm without running statistics is not supported")
        scale = module.running_var.add(module.eps).rsqrt()
        if module.affine:
            shift = module.bias - module.running_mean * scale * module.weight
            scale = scale * module.weight
        else:
            shift = -module.running_mean * scale
        return {"type": "batchnorm", "weight": array(scale), "bias": array(shift)}
    if isinstance(module, nn.ReLU | nn.Sigmoid | nn.Tanh):
        return {"type": type(module).__name__.lower()}
    if isinstance(module, nn.LeakyReLU):
        return {"type": "leaky_relu", "slope": float(module.negative_slope)}
    raise LayerError(
        f"the living page cannot run {name} ({type(module).__name__}); it runs {SUPPORTED}"
    )


def _fold(layer: dict, norm: dict) -> None:
    """BatchNorm (y = x·scale + shift per channel) folded into the layer before it."""
    scale, shift = norm["weight"], norm["bias"]
    if layer["type"] == "conv_transpose2d":  # weight: in × out × kh × kw
        layer["weight"] = layer["weight"] * scale[None, :, None, None]
    else:  # linear: out × in; conv2d: out × in × kh × kw
        layer["weight"] = layer["weight"] * scale.reshape(-1, *([1] * (layer["weight"].ndim - 1)))
    layer["bias"] = layer["bias"] * scale + shift


def _check_against_model(vae, layers: list[dict]) -> None:
    z = torch.randn(8, vae.latent_dim, generator=torch.Generator().manual_seed(1)) * 2
    device = next(vae.parameters()).device
    with torch.no_grad():
        expected = vae.decode(z.to(device)).cpu()
    got = forward(layers, z.numpy())
    if got.shape != tuple(expected.shape):
        raise LayerError(f"the exported layers give {got.shape}, the decoder {expected.shape}")
    error = float(np.abs(got - expected.numpy()).max())
    if not error <= TOLERANCE:
        raise LayerError(f"the exported layers differ from the decoder by {error:.2g}")
