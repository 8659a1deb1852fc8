"""The views' grid elements: a mosaic of decoded images as one HoloViews image (grey levels, or
RGB for a colour model), its scale and tick positions, and cells shrunk for the screen. No Panel
here."""

from __future__ import annotations

import holoviews as hv
import numpy as np

from explorer.compute.grids import CELL, PAD
from explorer.figures.png import to_uint8


def grid_element(image: np.ndarray, scale: float, xticks=None, yticks=None, **opts) -> hv.Image:
    """A mosaic (floats in [0, 1], H×W grey or H×W×3 RGB) as one image of 8-bit levels (a
    quarter of the bytes to send), ``scale`` screen px per pixel; ticks as (position, label)
    pairs in pixels."""
    h, w = image.shape[:2]
    levels = to_uint8(image)
    if levels.ndim == 3:
        element, colour = hv.RGB(levels, bounds=(0, 0, w, h)), {}
    else:
        element = hv.Image(levels, bounds=(0, 0, w, h), vdims=["level"])
        colour = {"cmap": "gray", "clim": (0, 255)}
    return element.opts(
        **colour,
        frame_width=round(w * scale),
        frame_height=round(h * scale),
        xaxis="bottom" if xticks else None,
        yaxis="left" if yticks else None,
        xticks=xticks,
        yticks=yticks,
        xlabel="",
        ylabel="",
        toolbar=None,
        default_tools=[],
        tools=[],
        **opts,
    )


def fit_scale(image: np.ndarray, width: int = 640, height: int = 640, most: float = 3.0) -> float:
    """Screen pixels per image pixel so that the image fits width × height (at most ``most``)."""
    h, w = image.shape[:2]
    return min(most, width / w, height / h)


def centres(count: int, cell: int = CELL, pad: int = PAD) -> list[float]:
    """Centres of a mosaic's cells along one axis, in pixels from its first edge."""
    return [pad + k * (cell + pad) + cell / 2 for k in range(count)]


def ticks(labels: list[str], cell: int = CELL) -> list[tuple[float, str]]:
    """(position, label) ticks at the centres of a mosaic's cells ``cell`` pixels across, one
    label each."""
    return list(zip(centres(len(labels), cell), labels, strict=True))


def shrink_factor(shape: tuple[int, int, int], most: int) -> int:
    """By how much (a whole factor) images of ``shape`` (C, H, W) shrink so that neither side
    passes ``most`` pixels: 1 when they fit."""
    return max(1, -(-max(shape[1:]) // max(1, most)))


def shrink(images: np.ndarray, shape: tuple[int, int, int], most: int) -> np.ndarray:
    """Images as shown (…×H×W, or …×H×W×3 for C = 3) averaged over k×k blocks so that neither
    side passes ``most`` pixels (:func:`shrink_factor`); as they are when they fit.

    Why: a grid of large images (up to 512 px a side) would cost the browser its whole
    websocket message limit on every slider step; on screen its cells are small anyway."""
    k = shrink_factor(shape, most)
    if k == 1:
        return images
    channels, h, w = shape
    rows, cols = h // k, w // k
    images = np.asarray(images, dtype=np.float32)
    lead = images.shape[: images.ndim - (2 if channels == 1 else 3)]
    colour = () if channels == 1 else (channels,)
    cut = images[..., : rows * k, : cols * k, :] if colour else images[..., : rows * k, : cols * k]
    blocks = cut.reshape(*lead, rows, k, cols, k, *colour)
    axes = (-3, -1) if not colour else (-4, -2)
    return blocks.mean(axis=axes, dtype=np.float32)


def cell_size(shape: tuple[int, int, int], most: int) -> tuple[int, int]:
    """(height, width) of a cell of images of ``shape`` once :func:`shrink` fits them in
    ``most`` pixels."""
    k = shrink_factor(shape, most)
    return shape[1] // k, shape[2] // k
