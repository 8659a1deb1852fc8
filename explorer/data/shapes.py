"""Coloured 2-D shapes with every factor recorded, made by the package in seconds, offline.

Each image is one shape (square, ellipse, heart or triangle) on black, of a hue, a scale, a
rotation and a position (x, y), all drawn independently and uniformly, and all returned with the
images. It is in the spirit of dSprites (Matthey et al. 2017) and 3D Shapes (Burgess & Kim 2018),
data sets made to measure disentanglement; it resembles them, it is not them.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("square", "ellipse", "heart", "triangle")
FACTORS = ("shape", "hue", "scale", "rotation", "x", "y")
DISCRETE = ("shape",)  # the factors that are categories, not values
SIZE = 64
SUPERSAMPLE = 4  # drawn this many times larger, then reduced: smooth edges
RANGES = {  # each continuous factor's range (scale: of half the image; x, y: of its side)
    "hue": (0.0, 1.0),
    "scale": (0.3, 0.6),
    "rotation": (0.0, 2 * math.pi),
    "x": (0.3, 0.7),
    "y": (0.3, 0.7),
}
MAX_IMAGES = 200_000


@dataclass(frozen=True)
class Shapes:
    """``images`` (uint8 N×S×S×3), ``labels`` (the shape, 0..3) and ``factors`` (N×6 float, in
    the order of FACTORS: the shape's index, then the values drawn)."""

    images: np.ndarray
    labels: np.ndarray
    factors: np.ndarray


def outline(shape: str, points: int = 48) -> np.ndarray:
    """The shape's outline as (x, y) points around the origin, about unit radius."""
    t = np.linspace(0.0, 2 * math.pi, points, endpoint=False)
    if shape == "square":
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * 0.8
        return corners
    if shape == "triangle":
        angles = np.array([90.0, 210.0, 330.0]) * math.pi / 180
        return np.stack([np.cos(angles), np.sin(angles)], 1)
    if shape == "ellipse":
        return np.stack([np.cos(t), 0.6 * np.sin(t)], 1)
    if shape == "heart":  # the classic parametric heart, scaled to about unit radius
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return np.stack([x, y], 1) / 16.0
    raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")


def generate(n: int, seed: int = 0, size: int = SIZE) -> Shapes:
    """``n`` images of ``size``×``size``, their factors drawn from ``seed``."""
    if not 1 <= n <= MAX_IMAGES:
        raise ValueError(f"n must be 1 to {MAX_IMAGES:,}, got {n}")
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, len(SHAPES), n)
    values = {name: rng.uniform(lo, hi, n) for name, (lo, hi) in RANGES.items()}
    outlines = [outline(shape) for shape in SHAPES]
    images = np.empty((n, size, size, 3), np.uint8)
    big = size * SUPERSAMPLE
    for i in range(n):
        angle = values["rotation"][i]
        rotation = np.array(
            [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
        )
        radius = values["scale"][i] * big / 2
        centre = np.array([values["x"][i], values["y"][i]]) * big
        points = outlines[kinds[i]] @ rotation.T * radius + centre
        canvas = Image.new("RGB", (big, big))
        colour = tuple(round(255 * c) for c in colorsys.hsv_to_rgb(values["hue"][i], 0.85, 1.0))
        # y grows downwards in an image: flip, so that "y" is up as in a plot
        ImageDraw.Draw(canvas).polygon([(float(x), float(big - y)) for x, y in points], fill=colour)
        images[i] = np.asarray(canvas.resize((size, size), Image.Resampling.BOX))
    factors = np.stack([kinds.astype(float), *(values[name] for name in FACTORS[1:])], 1)
    return Shapes(images, kinds.astype(np.int64), factors)
