"""Images as 8-bit grey levels and PNG bytes, for the CLI, the app's downloads and figures."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MAX_SCALE = 64  # largest PNG upscaling factor: 28 px → 1792 px


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
