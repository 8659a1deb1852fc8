"""The variational autoencoder: network, reparameterization and loss. Pure torch: no I/O.

One conv family for C×N×N images (C = 1 or 3, N from 16 to 128), whose depth and widths follow
from N: stride-2 3×3 convolutions with padding 1 halve the side (rounding up) until it is at most
4, with 16, 32, 64, … channels. At 1×28×28 it is the original Streamlit app's network exactly,
layer names and shapes included, so its checkpoints load with a plain ``load_state_dict``:

    encoder: conv1 (1→16) → bn1 → ReLU → conv2 (16→32) → bn2 → ReLU → conv3 (32→64) → bn3 → ReLU
             → flatten (64·4·4) → fc_mu, fc_logvar
    decoder: fc (latent→64·4·4) → view 64×4×4 → deconv1 (64→32) → bn1 → ReLU
             → deconv2 (32→16) → bn2 → ReLU → deconv3 (16→1) → output

(28 → 14 → 7 → 4 and back; each transposed convolution's output padding restores the side.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

OUTPUTS = ("sigmoid", "linear")


@dataclass(frozen=True)
class VAEConfig:
    """Everything that defines the network; saved in every checkpoint."""

    latent_dim: int = 12  # size of z
    # "sigmoid": the decoder ends in a sigmoid and trains with binary cross-entropy (ours).
    # "linear": no output activation, trained with MSE, shown clipped to [0, 1] (the original app).
    output: str = "sigmoid"
    image_size: int = 28  # images are image_size × image_size
    channels: int = 1  # 1: grey; 3: RGB

    def __post_init__(self):
        if not _is_int(self.latent_dim) or not 1 <= self.latent_dim <= 4096:
            raise ValueError(f"latent_dim must be an integer in 1..4096, got {self.latent_dim!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if not _is_int(self.image_size) or not MIN_SIZE <= self.image_size <= MAX_SIZE:
            raise ValueError(
                f"image_size must be an integer in {MIN_SIZE}..{MAX_SIZE}, got {self.image_size!r}"
            )
        if self.channels not in (1, 3) or not _is_int(self.channels):
            raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {self.channels!r}")

    @property
    def sides(self) -> list[int]:
        """The image's side after each convolution, from image_size down to at most 4."""
        sides = [self.image_size]
        while sides[-1] > 4:
            sides.append((sides[-1] + 1) // 2)
        return sides

    @property
    def widths(self) -> list[int]:
        """The channels after each convolution: 16, 32, 64, …"""
        return [16 * 2**i for i in range(len(self.sides) - 1)]

    @property
    def features(self) -> int:
        """The encoder's output, flattened: the last width × the last side²."""
        return self.widths[-1] * self.sides[-1] ** 2

    def to_dict(self) -> dict:
        return asdict(self)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int in Python


MIN_SIZE, MAX_SIZE = 16, 128  # the image sides this family is built for


class Encoder(nn.Module):
    """x (N×C×S×S in [0, 1]) → (μ, log σ²) of q(z|x)."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.depth = len(config.widths)
        inputs = [config.channels, *config.widths[:-1]]
        for i, (cin, cout) in enumerate(zip(inputs, config.widths, strict=True), start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 3, stride=2, padding=1))
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
        self.fc_mu = nn.Linear(config.features, config.latent_dim)
        self.fc_logvar = nn.Linear(config.features, config.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x
        for i in range(1, self.depth + 1):
            h = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(h)))
        h = h.flatten(1)
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    """z (N×latent) → the network's raw output (N×C×S×S): logits or linear values."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        widths, sides = config.widths, config.sides
        self.depth = len(widths)
        self.start = (widths[-1], sides[-1], sides[-1])  # the view the fc's output takes
        self.fc = nn.Linear(config.latent_dim, config.features)
        outputs = [*widths[::-1][1:], config.channels]
        for i, (cin, cout) in enumerate(zip(widths[::-1], outputs, strict=True), start=1):
            side_in, side_out = sides[-i], sides[-i - 1]
            padding = side_out - 2 * side_in + 1  # restores the side the convolution halved
            deconv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=padding)
            setattr(self, f"deconv{i}", deconv)
            if i < self.depth:
                setattr(self, f"bn{i}", nn.BatchNorm2d(cout))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, *self.start)
        for i in range(1, self.depth):
            h = F.relu(getattr(self, f"bn{i}")(getattr(self, f"deconv{i}")(h)))
        return getattr(self, f"deconv{self.depth}")(h)


class VAE(nn.Module):
    """Convolutional VAE for C×N×N images (Kingma & Welling, 2014)."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def has_encoder(self) -> bool:
        """Always: as explorer.formats' models say whether they can encode."""
        return True

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images it decodes and encodes."""
        return (self.config.channels, self.config.image_size, self.config.image_size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior q(z|x) as (μ, log σ²)."""
        return self.encoder(x)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = μ + σ·ε with ε ~ N(0, I): differentiable in μ and σ."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's raw output: logits ("sigmoid") or pixel values ("linear")."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z → images as shown, in [0, 1] (N×C×S×S)."""
        return self.to_image(self.decode_raw(z))

    def to_image(self, raw: torch.Tensor) -> torch.Tensor:
        """The decoder's raw output as shown: sigmoid, or the original's clip to [0, 1]."""
        if self.config.output == "sigmoid":
            return torch.sigmoid(raw)
        return raw.clamp(0.0, 1.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (raw reconstruction, μ, log σ²)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        return self.decode_raw(z), mu, logvar

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num_samples`` images decoded from z ~ N(0, I) (the original app's method)."""
        device = next(self.parameters()).device
        z = torch.randn(num_samples, self.latent_dim, generator=generator)
        return self.decode(z.to(device))

    def init_weights(self) -> VAE:
        """The original app's initialisation, so that a training run starts where its runs did:
        Kaiming normal (fan_out, ReLU) for the convolutions, N(0, 0.01) for the linear layers,
        BatchNorm as identity, every bias 0. A new VAE otherwise has PyTorch's per-layer default.
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
            else:
                continue
            nn.init.zeros_(module.bias)
        return self


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) ‖ N(0, I)) per image and dimension (N×latent).

    -½ (1 + log σ² − μ² − σ²): Kingma & Welling, "Auto-Encoding Variational Bayes" (2014),
    Appendix B.
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


@dataclass(frozen=True)
class Loss:
    """Loss terms, each summed over pixels / dimensions and averaged over the batch."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def vae_loss(
    config: VAEConfig,
    x: torch.Tensor,
    raw: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
) -> Loss:
    """Reconstruction + β·KL, per image (the β-VAE objective; Higgins et al., 2017)."""
    n = x.shape[0]
    if config.output == "sigmoid":
        rec = F.binary_cross_entropy_with_logits(raw, x, reduction="sum") / n
    else:
        rec = F.mse_loss(raw, x, reduction="sum") / n
    kl = kl_divergence(mu, logvar).sum() / n
    return Loss(total=rec + beta * kl, reconstruction=rec, kl=kl)
