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


class ColourConv(nn.Module):
    """z → an RGB side×side image in [0, 1] (N×3×H×W) through ConvTranspose and BatchNorm, and
    back to (μ, log σ²) through a strided Conv; ``encoder=False``: a decoder alone."""

    latent_dim = SHAPED_LATENT

    def __init__(self, side: int = 64, seed: int = 1):
        super().__init__()
        torch.manual_seed(seed)
        start = side // 4
        self.decoder = nn.Sequential(
            nn.Linear(SHAPED_LATENT, 16 * start * start), nn.Unflatten(1, (16, start, start)),
            nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Sigmoid(),
        )  # fmt: skip
        self.decoder[3].running_mean.uniform_(-0.3, 0.3)  # images that differ visibly with z
        self.decoder[3].running_var.uniform_(0.5, 1.5)
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 4, 4, 4), nn.ReLU(), nn.Flatten(),
            nn.Linear(4 * (side // 4) ** 2, 2 * SHAPED_LATENT),
        )  # fmt: skip
        self.eval()

    def decode(self, z):
        return self.decoder(z)

    def encode(self, x):
        both = self.encoder(x)
        return both[:, :SHAPED_LATENT], both[:, SHAPED_LATENT:]


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


def export_colour_onnx(folder, side: int = 64, encoder: bool = True, name: str = "colour"):
    """:class:`ColourConv` as a researcher exports it: ``NAME.onnx`` (z → [batch, 3, H, W]), and
    with ``encoder`` ``NAME.encoder.onnx`` beside it; one self-contained file each (the older
    exporter, a free batch axis). Returns the decoder's path."""
    import warnings
    from pathlib import Path

    net = ColourConv(side)
    path = Path(folder) / f"{name}.onnx"
    graphs = [(net.decoder, path, torch.zeros(2, SHAPED_LATENT))]
    if encoder:
        graphs.append(
            (_Encoder(net), path.with_suffix(".encoder.onnx"), torch.rand(2, 3, side, side))
        )
    for module, out, example in graphs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, (example,), out, input_names=["input"], dynamo=False,
                dynamic_axes={"input": {0: "batch"}},
            )  # fmt: skip
    return path


class _Encoder(nn.Module):
    """A :class:`ColourConv`'s encoder as one module with two outputs (μ, log σ²)."""

    def __init__(self, net: ColourConv):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.encode(x)


class ConvVAE(nn.Module):
    """z → a ``channels``×side×side image in [0, 1] (1: grey, 3: RGB; side a multiple of 4)
    through ConvTranspose and BatchNorm, and back to (μ, log σ²) through a strided Conv. In eval
    mode; its BatchNorm has running statistics of its own, as a trained one would."""

    latent_dim = LATENT

    def __init__(self, side: int = 64, channels: int = 3, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        start = side // 4
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, 16 * start * start), nn.Unflatten(1, (16, start, start)),
            nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, channels, 4, 2, 1), nn.Sigmoid(),
        )  # fmt: skip
        self.decoder[3].running_mean.uniform_(-0.3, 0.3)
        self.decoder[3].running_var.uniform_(0.5, 1.5)
        with torch.no_grad():  # vivid: pixels across [0, 1], and channels of their own tint
            self.decoder[5].weight.mul_(8)
            self.decoder[5].bias.copy_(torch.linspace(-1.5, 1.5, channels))
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 4, 4, 4), nn.ReLU(), nn.Flatten(),
            nn.Linear(4 * start * start, 2 * LATENT),
        )  # fmt: skip
        self.eval()

    def decode(self, z):
        return self.decoder(z)

    def encode(self, x):
        both = self.encoder(x)
        return both[:, :LATENT], both[:, LATENT:]


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


def to_onnx(vae: ConvVAE, path):
    """Write ``vae`` as a researcher exports theirs with torch.onnx.export: the decoder at
    ``path`` (NAME.onnx), the encoder beside it (NAME.encoder.onnx), a free batch axis, one
    self-contained file each. Returns ``path``."""
    import warnings
    from pathlib import Path

    path = Path(path)
    side = vae.decoder[1].unflattened_size[1] * 4
    channels = vae.decoder[-2].out_channels
    halves = [
        (_Half(vae, "decode"), torch.zeros(2, LATENT), path),
        (_Half(vae, "encode"), torch.rand(2, channels, side, side),
         path.with_name(path.stem + ".encoder.onnx")),
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module, example, where in halves:
            torch.onnx.export(
                module.eval(), (example,), where, input_names=["input"], dynamo=False,
                dynamic_axes={"input": {0: "batch"}},
            )  # fmt: skip
    return path
