"""VAE code as an operator names it on the command line (``--model tests.formats.factories:…``),
and as a notebook passes it in: small torch modules and plain objects, grey 28×28."""

from __future__ import annotations

import torch
from torch import nn

LATENT = 4


class GreyMLP(nn.Module):
    """z → a 28×28 grey image in [0, 1] (N×1×28×28), and back to (μ, log σ²)."""

    latent_dim = LATENT

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.decoder = nn.Sequential(nn.Linear(LATENT, 64), nn.Tanh(), nn.Linear(64, 784))
        self.encoder = nn.Linear(784, 2 * LATENT)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z)).view(-1, 1, 28, 28)

    def encode(self, x):
        both = self.encoder(x.flatten(1))
        return both[:, :LATENT], both[:, LATENT:]


def grey_mlp() -> GreyMLP:
    return GreyMLP()


def failing():
    raise RuntimeError("no GPU here")


# -- models of other shapes (the views that follow the model's shape: tests/app) ---------------
SHAPED_LATENT = 6


class GreyMLP32(nn.Module):
    """z → a grey 32×32 image in [0, 1] (N×1×32×32), and back to (μ, log σ²)."""

    latent_dim = SHAPED_LATENT

    def __init__(self, seed: int = 4):
        super().__init__()
        torch.manual_seed(seed)
        self.decoder = nn.Sequential(
            nn.Linear(SHAPED_LATENT, 64), nn.Tanh(), nn.Linear(64, 32 * 32)
        )
        self.encoder = nn.Linear(32 * 32, 2 * SHAPED_LATENT)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z)).view(-1, 1, 32, 32)

    def encode(self, x):
        both = self.encoder(x.flatten(1))
        return both[:, :SHAPED_LATENT], both[:, SHAPED_LATENT:]


class DecoderOnly:
    """A decoder alone (no encode): z → a grey 32×32 image, as a plain object."""

    latent_dim = SHAPED_LATENT

    def __init__(self):
        self.net = GreyMLP32()

    def decode(self, z):
        return self.net.decode(z)


class ConvVAE(nn.Module):
    """z → a ``channels``×side×side image in [0, 1] (1: grey, 3: RGB; side a multiple of 4)
    through ConvTranspose and BatchNorm, and back to (μ, log σ²) through a strided Conv. In eval
    mode; its BatchNorm has running statistics of its own, as a trained one would. ``vivid``:
    pixels spread across [0, 1], each channel with a tint of its own."""

    def __init__(
        self, side: int = 64, channels: int = 3, seed: int = 0, latent: int = LATENT,
        vivid: bool = True,
    ):  # fmt: skip
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim = latent
        start = side // 4
        self.decoder = nn.Sequential(
            nn.Linear(latent, 16 * start * start), nn.Unflatten(1, (16, start, start)),
            nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, channels, 4, 2, 1), nn.Sigmoid(),
        )  # fmt: skip
        self.decoder[3].running_mean.uniform_(-0.3, 0.3)  # images that differ visibly with z
        self.decoder[3].running_var.uniform_(0.5, 1.5)
        if vivid:
            with torch.no_grad():
                self.decoder[5].weight.mul_(8)
                self.decoder[5].bias.copy_(torch.linspace(-1.5, 1.5, channels))
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 4, 4, 4), nn.ReLU(), nn.Flatten(),
            nn.Linear(4 * start * start, 2 * latent),
        )  # fmt: skip
        self.eval()

    def decode(self, z):
        return self.decoder(z)

    def encode(self, x):
        both = self.encoder(x)
        return both[:, : self.latent_dim], both[:, self.latent_dim :]


def colour_conv64() -> ConvVAE:
    """An RGB 64×64 ConvVAE."""
    return ConvVAE(64, 3)


def grey_conv32() -> ConvVAE:
    """A grey 32×32 ConvVAE."""
    return ConvVAE(32, 1, seed=1)


class _Half(nn.Module):
    """One half of a VAE as a module torch.onnx.export takes: its decode or its encode."""

    def __init__(self, vae: nn.Module, method: str):
        super().__init__()
        self.vae, self.method = vae, method

    def forward(self, x):
        return getattr(self.vae, self.method)(x)


def export_colour_onnx(folder, side: int = 64, encoder: bool = True, name: str = "colour"):
    """An RGB ConvVAE of SHAPED_LATENT dimensions as a researcher exports it: ``NAME.onnx``
    (z → [batch, 3, H, W]), and with ``encoder`` ``NAME.encoder.onnx`` beside it. Returns the
    decoder's path."""
    from pathlib import Path

    net = ConvVAE(side, 3, seed=1, latent=SHAPED_LATENT, vivid=False)
    return to_onnx(net, Path(folder) / f"{name}.onnx", encoder=encoder)


def to_onnx(vae: ConvVAE, path, encoder: bool = True):
    """Write ``vae`` as a researcher exports theirs with torch.onnx.export: the decoder at
    ``path`` (NAME.onnx), the encoder beside it (NAME.encoder.onnx), a free batch axis, one
    self-contained file each (the older exporter). Returns ``path``."""
    import warnings
    from pathlib import Path

    path = Path(path)
    side = vae.decoder[1].unflattened_size[1] * 4
    channels = vae.decoder[-2].out_channels
    halves = [
        (_Half(vae, "decode"), torch.zeros(2, vae.latent_dim), path),
        (_Half(vae, "encode"), torch.rand(2, channels, side, side),
         path.with_name(path.stem + ".encoder.onnx")),
    ][: 2 if encoder else 1]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module, example, where in halves:
            torch.onnx.export(
                module.eval(), (example,), where, input_names=["input"], dynamo=False,
                dynamic_axes={"input": {0: "batch"}},
            )  # fmt: skip
    return path
