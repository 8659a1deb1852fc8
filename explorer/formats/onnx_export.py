"""Write a VAE as ONNX files that :mod:`explorer.formats.onnx_file` opens: ``NAME.onnx`` (the
decoder) and ``NAME.encoder.onnx`` (the encoder, when the model has one), each one self-contained
file (its weights inside, so it also goes as an upload) with a free batch axis.

Sharing a model is then sharing a file: a checkpoint of ours, the original app's, or a
researcher's own module (:func:`export`). Every file is opened again as the explorer opens it, and
its decode compared with torch's, before it is called written.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from explorer.formats import onnx_file
from explorer.formats.base import CheckpointError, ModelInfo, shown
from explorer.formats.module import ModuleVAE
from explorer.model import VAE

TOLERANCE = 1e-4  # the largest difference from torch's decode a written file may show
CHECK_BATCH = 3


class _Decoder(nn.Module):
    """decode(z) as a module's forward, the raw output (logits for a sigmoid model)."""

    def __init__(self, vae: VAE | ModuleVAE):
        super().__init__()
        self.vae = vae.vae if isinstance(vae, ModuleVAE) else vae

    def forward(self, z):
        if isinstance(self.vae, VAE):
            return self.vae.decode_raw(z)
        out = self.vae.decode(z)
        for field in ("reconstruction", "sample"):
            out = getattr(out, field, out)
        return out[0] if isinstance(out, (tuple, list)) else out


class _Encoder(nn.Module):
    """encode(x) as a module's forward: (μ, log σ²)."""

    def __init__(self, vae: VAE | ModuleVAE):
        super().__init__()
        self.vae = vae.vae if isinstance(vae, ModuleVAE) else vae

    def forward(self, x):
        mu, logvar = self.vae.encode(x)[:2]
        return mu, logvar


def encoder_path(path: Path) -> Path:
    """Where the encoder of the decoder at ``path`` goes (and is looked for)."""
    return path.with_name(path.name.removesuffix(".onnx") + onnx_file.ENCODER_SUFFIX)


def export(vae: VAE | ModuleVAE, path: str | Path, info: ModelInfo | None = None) -> list[Path]:
    """Write ``vae`` (ours, or a live module wrapped by :func:`explorer.formats.module.wrap`) as
    ``path`` and, if it encodes, the encoder beside it; the files written. ``info`` adds β,
    epochs and data set as metadata. CheckpointError when a graph cannot be written or does not
    decode as torch does."""
    path = Path(path)
    if path.suffix != ".onnx":
        raise CheckpointError(f"{shown(path.name)}: an ONNX model's file name ends in .onnx")
    if isinstance(vae, ModuleVAE) and not isinstance(vae.vae, nn.Module):
        raise CheckpointError("only a torch nn.Module can be written as ONNX")
    latent_dim = vae.latent_dim
    output = vae.config.output if isinstance(vae, VAE) else vae.output
    device = next(vae.parameters()).device
    z = torch.zeros(2, latent_dim, device=device)
    _write(_Decoder(vae).eval(), z, path, _metadata(output, info), "z")
    written = [path]
    has_encoder = vae.has_encoder
    if has_encoder:
        with torch.no_grad():
            x = vae.decode(z)
        _write(_Encoder(vae).eval(), x, encoder_path(path), {}, "x")
        written.append(encoder_path(path))
    _check(vae, path, latent_dim, has_encoder)
    return written


def _metadata(output: str, info: ModelInfo | None) -> dict[str, str]:
    meta = {"output": output}
    if info is not None:
        facts = {"beta": info.beta, "epochs": info.epochs, "dataset": info.dataset}
        meta.update({key: str(value) for key, value in facts.items() if value is not None})
    return {onnx_file.META + key: value for key, value in meta.items()}


def _write(module: nn.Module, example: torch.Tensor, path: Path, meta: dict, name: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's advice is not the user's business
            torch.onnx.export(
                module,
                (example,),
                path,
                input_names=[name],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                external_data=False,
                verbose=False,
            )
    except Exception as exc:  # torch.export's many error kinds, on the user's module
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"cannot write {shown(path.name)} as ONNX: {shown(first)}") from None
    model = onnx.load(path)
    onnx.helper.set_model_props(model, meta)
    onnx.save(model, path)


def _check(vae: VAE | ModuleVAE, path: Path, latent_dim: int, has_encoder: bool) -> None:
    """The written files, opened as the explorer opens them, decode (and encode) as torch does."""
    opened, _ = onnx_file.load(path, str(path))
    z = torch.randn(CHECK_BATCH, latent_dim, generator=torch.Generator().manual_seed(0))
    device = next(vae.parameters()).device
    with torch.no_grad():
        want = vae.decode(z.to(device)).cpu()
    got = opened.decode(z)
    if got.shape != want.shape or (got - want).abs().max() > TOLERANCE:
        raise CheckpointError(f"{shown(path.name)} does not decode as the model does")
    if has_encoder and opened.has_encoder:
        with torch.no_grad():
            mu = vae.encode(want.to(device))[0].cpu()
        if (opened.encode(want)[0] - mu).abs().max() > TOLERANCE:
            raise CheckpointError(f"{shown(encoder_path(path).name)} does not encode as it does")
