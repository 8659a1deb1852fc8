"""A drawing from the browser → an image the encoder can take (28×28 for MNIST's models, or the
model's own size): checked, drawn, centred."""

from __future__ import annotations

import math
import numbers

import numpy as np
from PIL import Image, ImageDraw

# A drawing from a browser, at most: a digit takes a few strokes of a few hundred points. Each
# point costs ~3-8 µs to draw (8 µs for points scattered at random), on the server's one event
# loop, so 5,000 points block every session for at most ~40 ms.
MAX_STROKES = 200
MAX_POINTS = 5_000


def checked_strokes(xs, ys) -> list[tuple[np.ndarray, np.ndarray]]:
    """A browser's freehand strokes (``xs[k]``, ``ys[k]``: the points of stroke k) as float
    arrays, or ValueError unless they are sequences of sequences of finite numbers, of equal
    lengths, at most MAX_STROKES strokes and MAX_POINTS points in all.

    Counts come first, before anything is converted: a huge payload costs a few len() calls.
    """
    if not (_sequence(xs) and _sequence(ys)) or len(xs) != len(ys):
        raise ValueError("strokes must be two lists of the same length")
    if len(xs) > MAX_STROKES:
        raise ValueError(f"{len(xs)} strokes: at most {MAX_STROKES}")
    points = 0
    for x, y in zip(xs, ys, strict=True):
        if not (_sequence(x) and _sequence(y)) or len(x) != len(y):
            raise ValueError("each stroke must be two lists of coordinates of the same length")
        points += len(x)
        if points > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS} points")
    strokes = []
    for x, y in zip(xs, ys, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 1 or y.ndim != 1 or x.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
            raise ValueError("stroke coordinates must be numbers")
        x, y = x.astype(np.float64), y.astype(np.float64)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("stroke coordinates must be finite")
        strokes.append((x, y))
    return strokes


def _sequence(value) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)


def strokes_to_image(
    xs, ys, size: int | tuple[int, int] = 28, width: float = 2.5, oversample: int = 8
) -> np.ndarray:
    """Freehand strokes → a float32 image in [0, 1], white on black, ``size`` pixels a side (or
    ``(height, width)``).

    ``xs[k]``, ``ys[k]`` are the coordinates of stroke k in image pixels, y upwards from the
    bottom edge (a plot's axes); the pen is round and ``width`` pixels wide. Drawn ``oversample``
    times larger, then averaged down (anti-aliased). What is not a finite number is skipped
    (check a browser's strokes with :func:`checked_strokes` first: it also bounds the cost);
    points far off the canvas are pulled to within one canvas of it.
    """
    height, wide = (size, size) if isinstance(size, int) else size
    canvas = Image.new("L", (wide * oversample, height * oversample), 0)
    draw = ImageDraw.Draw(canvas)
    radius = width * oversample / 2
    for stroke_x, stroke_y in zip(xs, ys, strict=False):
        x, y = _coordinates(stroke_x), _coordinates(stroke_y)
        n = min(x.size, y.size)
        keep = np.isfinite(x[:n]) & np.isfinite(y[:n])
        x = np.clip(x[:n][keep], -wide, 2 * wide) * oversample
        y = (height - np.clip(y[:n][keep], -height, 2 * height)) * oversample
        points = list(zip(x.tolist(), y.tolist(), strict=True))
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(2 * radius)))
        for px, py in points:  # round caps and joints
            draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=255)
    small = canvas.resize((wide, height), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def _coordinates(values) -> np.ndarray:
    """One stroke's coordinates as floats, NaN for what is not a number."""
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        items = np.asarray(values, dtype=object).ravel()
    except ValueError:  # nested unevenly: no coordinates at all
        return np.empty(0)
    return np.array([_float_or_nan(v) for v in items], dtype=np.float64)


def _float_or_nan(value) -> float:
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            return math.nan
    return math.nan


def center_like_mnist(image, box: int | None = None) -> np.ndarray:
    """Fit the drawing's ink into a box×box square (aspect kept; by default 20/28 of the image's
    shorter side, 20 px of 28) and move its centre of mass to the image centre: how MNIST's
    digits were prepared (LeCun et al.). Blank images pass as is."""
    image = np.asarray(image, dtype=np.float32)
    height, width = image.shape
    box = box if box is not None else max(1, round(min(height, width) * 20 / 28))
    rows, cols = np.nonzero(image > 0.05)
    if rows.size == 0:
        return image
    crop = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = box / max(crop.shape)
    h, w = (max(1, round(n * scale)) for n in crop.shape)
    resized = Image.fromarray(crop).resize((w, h), Image.Resampling.LANCZOS)
    out = np.zeros_like(image)
    top, left = (height - h) // 2, (width - w) // 2
    out[top : top + h, left : left + w] = np.clip(np.asarray(resized), 0.0, 1.0)
    total = out.sum()
    cy, cx = (np.indices(out.shape) * out).reshape(2, -1).sum(1) / total
    dy, dx = round(height / 2 - 0.5 - cy), round(width / 2 - 0.5 - cx)
    dy = int(np.clip(dy, -top, height - top - h))
    dx = int(np.clip(dx, -left, width - left - w))
    return np.roll(out, (dy, dx), axis=(0, 1))


def pen_width(size: int | tuple[int, int], width: float = 2.5) -> float:
    """The pen's width in image pixels for a drawing of ``size``: ``width`` of 28 px, in
    proportion for other sizes, so that a stroke covers as much of the image."""
    side = size if isinstance(size, int) else min(size)
    return width * side / 28


def as_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """A grey drawing (H×W) as a model of ``channels`` takes it: as it is, or grey in each of
    three channels (H×W×3)."""
    return image if channels == 1 else np.repeat(image[..., None], channels, axis=-1)
