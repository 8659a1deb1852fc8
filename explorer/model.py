"""The variational autoencoder: network, reparameterization and loss. Pure torch: no I/O.

The layer names and shapes are those of the original Streamlit app's network, so its
checkpoints load with a plain ``load_state_dict``:

    encoder: conv1 (1→16) → bn1 → ReLU → conv2 (16→32) → bn2 → ReLU → conv3 (32→64) → bn3 → ReLU
             → flatten (64·4·4) → fc_mu, fc_logvar
    decoder: fc (latent→64·4·4) → view 64×4×4 → deconv1 (64→32) → bn1 → ReLU
             → deconv2 (32→16) → bn2 → ReLU → deconv3 (16→1) → output

Every convolution is 3×3, stride 2, padding 1 (28 → 14 → 7 → 4 and back).
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
    image_size: int = 28  # images are image_size × image_size, one channel

    def __post_init__(self):
        if not _is_int(self.latent_dim) or not 1 <= self.latent_dim <= 4096:
            raise ValueError(f"latent_dim must be an integer in 1..4096, got {self.latent_dim!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if not _is_int(self.image_size) or self.image_size != 28:
            raise ValueError(f"only 28×28 images are supported, got {self.image_size}")

    def to_dict(self) -> dict:
        return asdict(self)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int in Python


FEATURES = 64 * 4 * 4  # encoder output, flattened


class Encoder(nn.Module):
    """x (N×1×28×28 in [0, 1]) → (μ, log σ²) of q(z|x)."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc_mu = nn.Linear(FEATURES, latent_dim)
        self.fc_logvar = nn.Linear(FEATURES, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = F.relu(self.bn3(self.conv3(h))).flatten(1)
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    """z (N×latent) → the network's raw output (N×1×28×28): logits or linear values."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.fc = nn.Linear(latent_dim, FEATURES)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=0)
        self.bn1 = nn.BatchNorm2d(32)
        self.deconv2 = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.deconv3 = nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 64, 4, 4)
        h = F.relu(self.bn1(self.deconv1(h)))
        h = F.relu(self.bn2(self.deconv2(h)))
        return self.deconv3(h)


class VAE(nn.Module):
    """Convolutional VAE for 28×28 grey images (Kingma & Welling, 2014)."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.latent_dim)
        self.decoder = Decoder(config.latent_dim)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images it decodes and encodes."""
        return (1, self.config.image_size, self.config.image_size)

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
        """z → images as shown, in [0, 1] (N×1×28×28)."""
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
