"""Running the decoder and the encoder: latents → images, images → q(z|x). Pure torch and numpy.

:func:`decode_image` is the one-vector path every slider move takes; :func:`decode` runs a whole
grid in one forward pass.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.model import VAE


def decode_image(model: VAE, z) -> np.ndarray:
    """One latent vector (sequence, array or tensor of ``latent_dim`` finite numbers) → the image
    as shown: 28×28 float32 in [0, 1]. Leaves the model as it is (use one in eval mode)."""
    if isinstance(z, torch.Tensor):
        z = z.detach().cpu()
    z = np.asarray(z, dtype=np.float32)
    if z.shape != (model.latent_dim,):
        raise ValueError(f"z must have shape ({model.latent_dim},), got {z.shape}")
    return decode(model, z[None])[0]


def decode(model: VAE, z) -> np.ndarray:
    """Latents (N×latent) → images as shown (N×28×28 float32 in [0, 1]), one forward pass."""
    # Checked in numpy: for one small vector torch's per-call cost is several times numpy's.
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise ValueError(f"z must have shape (N, {model.latent_dim}), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("z must hold finite numbers")
    with torch.inference_mode():  # a third less overhead than no_grad for one small image
        images = model.decode(_tensor(model, z))[:, 0]
    return images.cpu().numpy().astype(np.float32, copy=False)


def _tensor(model: VAE, array) -> torch.Tensor:
    weight = next(model.parameters())
    return torch.as_tensor(np.asarray(array), dtype=weight.dtype, device=weight.device)


def as_images(images) -> np.ndarray:
    """Images as N×28×28 float32 in [0, 1]: from uint8 (0–255) or floats in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    if not np.isfinite(images).all():
        raise ValueError("images hold NaN or infinite values")
    return np.clip(images, 0.0, 1.0)


def posterior(model: VAE, images) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of each image as (μ, log σ²), each N×latent float32, one forward pass."""
    x = as_images(images)[:, None]
    with torch.inference_mode():
        mu, logvar = model.encode(_tensor(model, x))
    return mu.cpu().numpy().astype(np.float32), logvar.cpu().numpy().astype(np.float32)


def encode(model: VAE, images) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of each image as (μ, σ), each N×latent float32."""
    mu, logvar = posterior(model, images)
    return mu, np.exp(0.5 * logvar).astype(np.float32)
