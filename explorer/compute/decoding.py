"""One latent vector → one image, and images as PNG: shared by the CLI and the app."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image

from explorer.model import VAE

MAX_SCALE = 64  # largest PNG upscaling factor: 28 px → 1792 px


def parse_vector(text: str, length: int | None = None) -> list[float]:
    """``"0.5, -1, 2"`` → ``[0.5, -1.0, 2.0]``; ValueError with a one-line message otherwise.

    Every value must be a finite number; with ``length``, there must be exactly that many.
    """
    parts = [part.strip() for part in text.split(",")]
    if parts == [""]:
        raise ValueError("no values given: expected comma-separated numbers, e.g. 0.5,-1,2")
    values = []
    for i, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"value {i} ({part!r}) is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"value {i} ({part!r}) is not a finite number")
        values.append(value)
    if length is not None and len(values) != length:
        raise ValueError(f"expected {length} values (the model's latent size), got {len(values)}")
    return values


def decode_image(model: VAE, z) -> np.ndarray:
    """One latent vector (sequence, array or tensor of ``latent_dim`` finite numbers) → the image
    as shown: 28×28 float32 in [0, 1]. Leaves the model as it is (use one in eval mode)."""
    if isinstance(z, torch.Tensor):
        z = z.detach().cpu()
    # Checked in numpy: for one small vector torch's per-call cost is several times numpy's.
    z = np.asarray(z, dtype=np.float32)
    if z.shape != (model.latent_dim,):
        raise ValueError(f"z must have shape ({model.latent_dim},), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("z must hold finite numbers")
    weight = next(model.parameters())
    with torch.inference_mode():  # a third less overhead than no_grad for one small image
        batch = torch.as_tensor(z[None], dtype=weight.dtype, device=weight.device)
        image = model.decode(batch)[0, 0]
    return image.cpu().numpy().astype(np.float32, copy=False)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] → 8-bit grey levels (0 black, 255 white), rounded."""
    image = np.asarray(image, dtype=np.float32)
    if not np.isfinite(image).all():
        raise ValueError("the image holds NaN or infinite values")
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A 2-d image in [0, 1] → an 8-bit grey PNG, each pixel drawn as a scale×scale block."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be an integer from 1 to {MAX_SCALE}, got {scale!r}")
    pixels = to_uint8(image)
    if pixels.ndim != 2:
        raise ValueError(f"expected a 2-d image, got shape {pixels.shape}")
    pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)  # nearest neighbour
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
