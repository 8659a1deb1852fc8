"""Running the decoder and the encoder: latents → images, images → q(z|x). Pure torch and numpy.

:func:`decode_image` is the one-vector path every slider move takes; :func:`decode` runs a whole
grid in one forward pass.

An image *as shown* is float32 in [0, 1], H×W when grey and H×W×3 when RGB (channels last, as
PIL, HoloViews and the browser take them); the networks take and give N×C×H×W.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.model import VAE


def image_shape(model) -> tuple[int, int, int]:
    """The (C, H, W) of the images ``model`` decodes: ours, or any of explorer.formats'."""
    return tuple(model.image_shape)


def shape_text(shape) -> str:
    """An image shape (C, H, W) as a reader says it: "28×28 grey", "64×64 RGB"."""
    channels, height, width = shape
    return f"{height}×{width} {'grey' if channels == 1 else 'RGB'}"


def decode_image(model: VAE, z) -> np.ndarray:
    """One latent vector (sequence, array or tensor of ``latent_dim`` finite numbers) → the image
    as shown (H×W, or H×W×3), float32 in [0, 1]. Leaves the model as it is (use one in eval
    mode)."""
    if isinstance(z, torch.Tensor):
        z = z.detach().cpu()
    z = np.asarray(z, dtype=np.float32)
    if z.shape != (model.latent_dim,):
        raise ValueError(f"z must have shape ({model.latent_dim},), got {z.shape}")
    return decode(model, z[None])[0]


def decode(model: VAE, z) -> np.ndarray:
    """Latents (N×latent) → images as shown (N×H×W or N×H×W×3, float32 in [0, 1]), one forward
    pass."""
    # Checked in numpy: for one small vector torch's per-call cost is several times numpy's.
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise ValueError(f"z must have shape (N, {model.latent_dim}), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("z must hold finite numbers")
    with torch.inference_mode():  # a third less overhead than no_grad for one small image
        images = model.decode(_tensor(model, z))
    images = images[:, 0] if images.shape[1] == 1 else images.permute(0, 2, 3, 1)
    return images.cpu().numpy().astype(np.float32, copy=False)


def _tensor(model: VAE, array) -> torch.Tensor:
    weight = next(model.parameters())
    return torch.as_tensor(writable(array), dtype=weight.dtype, device=weight.device)


def writable(array) -> np.ndarray:
    """``array`` as numpy, copied if read-only (results shared across sessions are): torch warns
    on a tensor over memory it may not write, once, into the server's log."""
    array = np.asarray(array)
    return array if array.flags.writeable else array.copy()


def as_images(images, shape: tuple[int, int, int] = (1, 28, 28)) -> np.ndarray:
    """Images of ``shape`` (C, H, W) as shown (N×H×W, or N×H×W×3), float32 in [0, 1]: from
    uint8 (0–255) or floats in [0, 1], one image or many, grey ones with or without a channel
    axis (N×1×H×W too)."""
    channels, height, width = shape
    images = np.asarray(images)
    shown = (height, width) if channels == 1 else (height, width, channels)
    if images.ndim == 4 and channels == 1 and images.shape[1] == 1:
        images = images[:, 0]
    if images.shape == shown:
        images = images[None]
    if images.shape[1:] != shown:
        raise ValueError(
            f"expected images of shape (N, {', '.join(map(str, shown))}), got {images.shape}"
        )
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    if not np.isfinite(images).all():
        raise ValueError("images hold NaN or infinite values")
    return np.clip(images, 0.0, 1.0)


def posterior(model: VAE, images) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of each image as (μ, log σ²), each N×latent float32, one forward pass."""
    shape = image_shape(model)
    x = as_images(images, shape)
    x = x[:, None] if shape[0] == 1 else x.transpose(0, 3, 1, 2)  # N×C×H×W, as networks take
    with torch.inference_mode():
        mu, logvar = model.encode(_tensor(model, x))
    return mu.cpu().numpy().astype(np.float32), logvar.cpu().numpy().astype(np.float32)


def encode(model: VAE, images) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of each image as (μ, σ), each N×latent float32."""
    mu, logvar = posterior(model, images)
    return mu, np.exp(0.5 * logvar).astype(np.float32)
