"""Images as 8-bit levels and PNG bytes (grey or RGB), for the CLI, the app's downloads and
figures."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MAX_SCALE = 64  # largest PNG upscaling factor: 28 px → 1792 px
MAX_SIDE = 8192  # pixels a side of a scaled PNG: a 512 px image at most 16 times


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] → 8-bit levels (0 black, 255 white; each channel of a colour image),
    rounded."""
    image = np.asarray(image, dtype=np.float32)
    if not np.isfinite(image).all():
        raise ValueError("the image holds NaN or infinite values")
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """An image as shown, in [0, 1] → a PNG, each pixel drawn as a scale×scale block: H×W as
    8-bit grey (mode L), H×W×3 as 8-bit RGB."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be an integer from 1 to {MAX_SCALE}, got {scale!r}")
    pixels = to_uint8(image)
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError(f"expected a 2-d image (H×W) or an H×W×3 one, got shape {pixels.shape}")
    if max(pixels.shape[:2]) * scale > MAX_SIDE:
        raise ValueError(
            f"scale {scale} makes a {pixels.shape[1] * scale}x{pixels.shape[0] * scale} image; "
            f"at most {MAX_SIDE} pixels a side"
        )
    pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)  # nearest neighbour
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
