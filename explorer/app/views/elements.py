"""The views' grid elements: a mosaic of decoded images as one grey HoloViews image, its scale and
tick positions. No Panel here."""

from __future__ import annotations

import holoviews as hv
import numpy as np

from explorer.compute.grids import CELL, PAD
from explorer.figures.png import to_uint8


def grid_element(image: np.ndarray, scale: float, xticks=None, yticks=None, **opts) -> hv.Image:
    """A mosaic (floats in [0, 1]) as one grey image of 8-bit levels (a quarter of the bytes to
    send), ``scale`` screen px per pixel; ticks as (position, label) pairs in pixels."""
    h, w = image.shape
    return hv.Image(to_uint8(image), bounds=(0, 0, w, h), vdims=["level"]).opts(
        cmap="gray",
        clim=(0, 255),
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
    h, w = image.shape
    return min(most, width / w, height / h)


def centres(count: int, cell: int = CELL, pad: int = PAD) -> list[float]:
    """Centres of a mosaic's cells along one axis, in pixels from its first edge."""
    return [pad + k * (cell + pad) + cell / 2 for k in range(count)]


def ticks(labels: list[str]) -> list[tuple[float, str]]:
    """(position, label) ticks at the centres of a mosaic's cells, one label each."""
    return list(zip(centres(len(labels)), labels, strict=True))
