"""A VAE given as a live Python object: a notebook's own ``nn.Module``, or any object with
``decode(z)`` and, optionally, ``encode(x)``; and the operator's factory named on the command
line (``--model package.module:factory``), the only code this project ever imports by name.

Code is trusted only from those two places: the person at the notebook, and the operator. No
name that reaches the server from a browser is ever imported (:func:`import_factory` is called by
the command line alone).

Outputs are adapted from the common shapes: a tensor, a tuple (its first item), pythae's
``.reconstruction``, diffusers' ``.sample``; an encoder's (μ, log σ²) from a pair, diffusers'
``.latent_dist`` (``mean``, ``logvar``) or pythae's ``embedding`` and ``log_covariance``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from explorer import checkpoint
from explorer.formats.base import Checkpoint, CheckpointError, ModelInfo, shown
from explorer.model import OUTPUTS

MIN_SIDE, MAX_SIDE = 8, 512  # as for ONNX: the image's height and width
MAX_LATENT_DIM = 512
PROBE_BATCH = 2


class ModuleVAE:
    """A live VAE behind the methods the explorer calls on its own: ``decode(z)`` → images as
    shown, N×C×H×W in [0, 1]; ``encode(x)`` → (μ, log σ²). Runs without gradients."""

    def __init__(self, vae: object, latent_dim: int, output: str):
        self.vae = vae
        self.latent_dim = latent_dim
        self.output = output
        self.image_shape = (1, 1, 1)  # (C, H, W): set by wrap(), from a decode

    @property
    def has_encoder(self) -> bool:
        return callable(getattr(self.vae, "encode", None))

    def parameters(self) -> Iterator[torch.Tensor]:
        """The module's own parameters (where inputs must go), or a CPU tensor."""
        if isinstance(self.vae, nn.Module):
            yield from self.vae.parameters()
        yield torch.zeros(0)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        images = _tensor(self.vae.decode(z), ("reconstruction", "sample"), "decode(z)")
        if images.dim() == 3:
            images = images[:, None]
        images = images.float()
        return torch.sigmoid(images) if self.output == "sigmoid" else images.clamp(0.0, 1.0)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.has_encoder:
            raise CheckpointError("this model has no encode(x)")
        out = self.vae.encode(x)
        out = getattr(out, "latent_dist", out)  # diffusers
        for mu_name, logvar_name in (("mean", "logvar"), ("embedding", "log_covariance")):
            if hasattr(out, mu_name) and hasattr(out, logvar_name):
                out = (getattr(out, mu_name), getattr(out, logvar_name))
                break
        if not isinstance(out, (tuple, list)) or len(out) < 2:
            raise CheckpointError("encode(x) must give (μ, log σ²)")
        return _tensor(out[0], (), "encode(x)"), _tensor(out[1], (), "encode(x)")


def _tensor(value: object, fields: tuple[str, ...], call: str) -> torch.Tensor:
    """A tensor from what a model returned: itself, a tuple's first item, or a named field."""
    for name in fields:
        value = getattr(value, name, value)
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    if not isinstance(value, torch.Tensor):
        raise CheckpointError(f"{call} gave a {type(value).__name__}, not a tensor")
    return value.detach()


def wrap(
    vae: object, name: str = "module", *, latent_dim: int | None = None, output: str = "linear"
):
    """``vae`` as a checkpoint the explorer opens (:class:`explorer.checkpoint.Checkpoint`).

    ``latent_dim`` defaults to the object's ``latent_dim`` (or ``config.latent_dim``, or
    ``latent_size``); ``output``: "linear" for values in [0, 1] (shown clipped), "sigmoid" for
    logits. The image's shape comes from a decode of two zero vectors."""
    if not callable(getattr(vae, "decode", None)):
        raise CheckpointError(f"{shown(name)} has no decode(z): it is not a VAE")
    if output not in OUTPUTS:
        raise CheckpointError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    latent_dim = latent_dim if latent_dim is not None else _latent_dim_of(vae)
    if not isinstance(latent_dim, int) or not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise CheckpointError(
            f"{shown(name)}: say its latent size (latent_dim=…, 1 to {MAX_LATENT_DIM})"
        )
    if isinstance(vae, nn.Module):
        vae.eval()
    model = ModuleVAE(vae, latent_dim, output)
    device = next(model.parameters()).device
    try:
        images = model.decode(torch.zeros(PROBE_BATCH, latent_dim, device=device))
    except CheckpointError:
        raise
    except Exception as exc:  # the user's code: any error, said in one line
        raise CheckpointError(f"{shown(name)}: decode(z) failed: {_first_line(exc)}") from None
    if images.dim() != 4 or images.shape[0] != PROBE_BATCH:
        raise CheckpointError(
            f"{shown(name)}: decode(z) must give [batch, C, H, W] or [batch, H, W], got "
            f"{list(images.shape)}"
        )
    channels, height, width = (int(n) for n in images.shape[1:])
    if channels not in (1, 3):
        raise CheckpointError(f"{shown(name)}: images must be grey or RGB, not {channels} channels")
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise CheckpointError(
            f"{shown(name)}: images of {height}×{width}; sides must be {MIN_SIDE} to {MAX_SIDE}"
        )
    model.image_shape = (channels, height, width)
    info = ModelInfo(
        source=name,
        path=name,
        format="module",
        latent_dim=latent_dim,
        output=output,
        image_shape=model.image_shape,
    )
    return Checkpoint(model=model, info=info)


def _latent_dim_of(vae: object) -> int | None:
    for path in ("latent_dim", "config.latent_dim", "latent_size", "config.latent_channels"):
        value = vae
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return shown(f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__)


@functools.lru_cache(maxsize=8)
def import_factory(spec: str, weights: str | None = None, output: str = "linear"):
    """The operator's model, once per process: ``package.module:factory`` imported and called
    (trusted: named on the command line), its weights loaded from ``weights`` (a safetensors
    file, or a .pth read with weights_only=True) when given. Never call this with a name that
    came from a browser."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CheckpointError(f"--model takes package.module:factory, got {shown(spec)}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise CheckpointError(f"--model {shown(spec)}: {_first_line(exc)}") from None
    try:
        vae = factory() if callable(factory) and not isinstance(factory, nn.Module) else factory
    except Exception as exc:  # the operator's code
        raise CheckpointError(
            f"--model {shown(spec)}: the factory failed: {_first_line(exc)}"
        ) from None
    if weights is not None:
        _load_weights(vae, Path(weights))
    return wrap(vae, spec, output=output)


def _load_weights(vae: object, path: Path) -> None:
    if not isinstance(vae, nn.Module):
        raise CheckpointError("--weights needs a factory that makes a torch nn.Module")
    name = shown(path.name)
    if path.suffix == ".safetensors":
        try:
            state = safetensors.torch.load_file(path)
        except Exception as exc:  # safetensors' own error kinds
            raise CheckpointError(f"{name} cannot be read: {_first_line(exc)}") from None
    else:
        payload = checkpoint.read(checkpoint.resolve(str(path)))
        state = payload
        if isinstance(payload, dict):
            for key in ("model_state_dict", "state_dict"):
                if isinstance(payload.get(key), dict):
                    state = payload[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{name} holds no state dict (tensors by name)")
    try:
        vae.load_state_dict(state)
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{name} does not fit the model: {_first_line(exc)}") from None
