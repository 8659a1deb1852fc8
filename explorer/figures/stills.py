"""Publication figures as PNG: grids of decoded images tiled with numpy, labelled with PIL.

One function per figure returns a :class:`Figure`: an 8-bit ``PIL.Image`` (grey, or RGB for a
colour model) with white margins, the images in a grid with thin white gaps, column labels on
top, row labels on the left and a title, plus where each image lies. Nothing but numpy, torch and
PIL: no plotting library, no browser. Labels are ASCII (the default font has no Greek letters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from explorer.compute import decoding, grids
from explorer.figures.png import to_uint8
from explorer.latent.table import dim_label
from explorer.model import VAE

SCALE = 3  # output pixels per image pixel
GAP = 2  # image pixels between cells
MARGIN = 12  # output pixels around everything
FONT_SIZE = 14
IMAGE = (28, 28)  # the zoo's images: height, width (a model's own: :func:`image_size`)
# Output pixels a side, whatever is asked: checked by layout() before anything is decoded or
# drawn, it bounds the decoded batch too (the options' own caps are the CLI's, explorer.cli.figure).
MAX_SIDE = 4096
LABEL_CHARS = 32  # longer labels (a model's path) keep their end: "...dir/model.pth"


class FigureError(ValueError):
    """Options that do not make a figure; the message is one line, fit for a user."""


@dataclass(frozen=True)
class Figure:
    """A figure and where each of its images lies: ``cells[r][c]`` = (left, top, width, height)."""

    image: Image.Image
    cells: tuple[tuple[tuple[int, int, int, int], ...], ...]

    def cell(self, row: int, col: int) -> np.ndarray:
        """The pixels of one image of the grid (uint8, as drawn: H×W, or H×W×3 in RGB)."""
        left, top, width, height = self.cells[row][col]
        return np.asarray(self.image)[top : top + height, left : left + width]

    def save(self, path: str | Path) -> None:
        self.image.save(path, format="PNG")


def image_size(vae: VAE) -> tuple[int, int]:
    """The (height, width) of the images ``vae`` decodes."""
    return decoding.image_shape(vae)[1:]


def default_scale(size: tuple[int, int], base: int = SCALE) -> int:
    """Output pixels per image pixel for images of ``size`` (H, W) when none is asked: ``base``
    for the zoo's 28 pixels, and as many cells of the same size or a little larger (whole
    pixels) for larger images: 64 → 2 of base 3, 128 and up → 1."""
    return max(1, math.ceil(base * max(IMAGE) / max(size)))


def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_size(text: str, font) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return int(right - left), int(bottom - top)


@dataclass(frozen=True)
class Layout:
    """Where the parts of a :func:`grid` figure go, in output pixels."""

    width: int
    height: int
    left: int  # the first column's left edge
    top: int  # the first row's top edge
    col_w: int
    cell_w: int
    cell_h: int
    step_x: int
    step_y: int
    label_h: int  # room above each image for its cell label


def _fit(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else "..." + text[3 - LABEL_CHARS :]


def layout(
    shape: tuple[int, int, int, int],
    *,
    title: str = "",
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    cell_labels: list[list[str]] | None = None,
    scale: int = SCALE,
    gap: int = GAP,
) -> Layout:
    """The layout of :func:`grid`'s figure of ``shape`` = (rows, cols, H, W) images, worked out
    before anything is decoded or drawn; FigureError when a side would exceed MAX_SIDE."""
    rows, cols, h, w = shape
    font, title_font = _font(), _font(FONT_SIZE + 2)
    line = FONT_SIZE + 6
    cell_w, cell_h = w * scale, h * scale
    above = [t for row in cell_labels or [] for t in row]
    labels = [*(col_labels or []), *above]
    col_w = max([cell_w] + [_text_size(_fit(t), font)[0] + 6 for t in labels])
    label_h = line if cell_labels else 0
    step_x, step_y = col_w + gap * scale, cell_h + gap * scale + label_h
    label_w = max((_text_size(_fit(t), font)[0] for t in row_labels or []), default=0)
    left = MARGIN + (label_w + 8 if row_labels else 0)
    top = MARGIN + (line + 4 if title else 0) + (line if col_labels else 0) + label_h
    width = max(
        left + cols * step_x - gap * scale + MARGIN,
        MARGIN * 2 + _text_size(title, title_font)[0],
    )
    height = top + (rows - 1) * step_y + cell_h + MARGIN
    if width > MAX_SIDE or height > MAX_SIDE:
        raise FigureError(
            f"the figure would be {width:,}x{height:,} pixels, more than {MAX_SIDE:,} a side: "
            "ask for fewer images (--steps, --count, --dims) or a smaller --scale"
        )
    return Layout(width, height, left, top, col_w, cell_w, cell_h, step_x, step_y, label_h)


def grid(
    images: np.ndarray,
    *,
    title: str = "",
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    cell_labels: list[list[str]] | None = None,
    scale: int = SCALE,
    gap: int = GAP,
) -> Figure:
    """rows×cols×H×W images in [0, 1] → one labelled grey figure, or rows×cols×H×W×3 → one RGB
    figure (columns widen to fit their labels); ``cell_labels[r][c]``, if given, is written above
    each image. Labels longer than LABEL_CHARS are cut at the front; FigureError when a side
    would exceed MAX_SIDE."""
    images = np.asarray(images)
    rows, cols, h, w = images.shape[:4]
    mode = "RGB" if images.ndim == 5 else "L"
    at = layout(
        (rows, cols, h, w), title=title, row_labels=row_labels, col_labels=col_labels,
        cell_labels=cell_labels, scale=scale, gap=gap,
    )  # fmt: skip
    font, title_font = _font(), _font(FONT_SIZE + 2)
    canvas = Image.new(mode, (at.width, at.height), "white")
    pixels = to_uint8(images).repeat(scale, axis=2).repeat(scale, axis=3)
    cells = tuple(
        tuple((at.left + c * at.step_x + (at.col_w - at.cell_w) // 2, at.top + r * at.step_y,
               at.cell_w, at.cell_h)
              for c in range(cols))
        for r in range(rows)
    )  # fmt: skip
    for r, row in enumerate(cells):
        for c, (x, y, _, _) in enumerate(row):
            canvas.paste(Image.fromarray(pixels[r, c]), (x, y))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((MARGIN, MARGIN), title, fill=0, font=title_font)
    centres = [at.left + c * at.step_x + at.col_w / 2 for c in range(cols)]
    for c, text in enumerate(col_labels or []):
        y = at.top - at.label_h - 4
        draw.text((centres[c], y), _fit(text), fill=0, font=font, anchor="md")
    for r, row in enumerate(cell_labels or []):
        for c, text in enumerate(row):
            y = at.top + r * at.step_y - 4
            draw.text((centres[c], y), _fit(text), fill=0, font=font, anchor="md")
    for r, text in enumerate(row_labels or []):
        y = at.top + r * at.step_y + at.cell_h / 2
        draw.text((at.left - 8, y), _fit(text), fill=0, font=font, anchor="rm")
    return Figure(canvas, cells)


def _number(value: float) -> str:
    return f"{value:.1f}".replace("-0.0", "0.0")


def traversal(
    vae: VAE, z, *, steps: int = 11, dims=None, name: str = "", scale: int = SCALE
) -> Figure:
    """The beta-VAE figure: each row sweeps one dimension of z across [-3, 3]."""
    dims = list(range(vae.latent_dim)) if dims is None else list(dims)
    labels = {
        "title": f"Latent traversal{f' of {name}' if name else ''}: each row sweeps one dimension",
        "row_labels": [dim_label("z", d) for d in dims],
        "col_labels": [_number(v) for v in grids.sweep(steps)],
        "scale": scale,
    }
    layout((len(dims), steps, *image_size(vae)), **labels)  # refuse oversized before decoding
    return grid(grids.traversal(vae, z, steps, dims), **labels)


def samples(
    vae: VAE, mu, sigma, *, count: int = 64, seed: int = 0, name: str = "", scale: int = SCALE
) -> Figure:
    """``count`` decoded draws of z ~ N(mu, sigma^2), in a near-square grid."""
    cols = int(np.ceil(np.sqrt(count)))
    rows = -(-count // cols)
    what = (
        "the prior N(0, I)"
        if not np.any(mu) and np.all(np.asarray(sigma) == 1)
        else ("N(mu, sigma^2)")
    )
    labels = {
        "title": f"{count} samples of {what}{f', {name}' if name else ''} (seed {seed})",
        "scale": scale,
    }
    layout((rows, cols, *image_size(vae)), **labels)
    images = grids.samples(vae, mu, sigma, count, seed)
    cells = np.ones((rows * cols, *images.shape[1:]), np.float32)
    cells[:count] = images
    return grid(cells.reshape(rows, cols, *images.shape[1:]), **labels)


def interpolation(
    vae: VAE, a, b, *, steps: int = 11, methods=("linear", "spherical"), name: str = "",
    scale: int = SCALE,
) -> Figure:  # fmt: skip
    """From A to B: one row per path (linear, spherical), ``steps`` values of t."""
    t = np.linspace(0.0, 1.0, steps)
    labels = {
        "title": f"Interpolation from A to B{f', {name}' if name else ''}",
        "row_labels": list(methods),
        "col_labels": [
            f"t={v:.1f}" if k in (0, steps - 1) else f"{v:.1f}" for k, v in enumerate(t)
        ],
        "scale": scale,
    }
    layout((len(methods), steps, *image_size(vae)), **labels)
    latents = np.concatenate([grids.interpolate(a, b, t, m) for m in methods])
    images = decoding.decode(vae, latents)
    images = images.reshape(len(methods), steps, *images.shape[1:])
    return grid(images, **labels)


def manifold(
    vae: VAE, z, dims: tuple[int, int], *, n: int = 15, name: str = "", scale: int = SCALE
) -> Figure:
    """The decoded manifold over two dimensions on a grid across [-3, 3] (others from z)."""
    i, j = dims
    values = grids.sweep(n)
    labels = {
        "title": f"Manifold of z{i} (across) and z{j} (up){f', {name}' if name else ''}",
        "row_labels": [_number(v) for v in values[::-1]],
        "col_labels": [_number(v) if k % 2 == 0 else "" for k, v in enumerate(values)],
        "scale": scale,
        "gap": 0,
    }
    layout((n, n, *image_size(vae)), **labels)
    return grid(grids.manifold(vae, z, (i, j), n), **labels)


def compare(nets: dict[str, VAE], latents, *, scale: int = SCALE) -> Figure:
    """The same latent vectors (one per row) decoded by each model (one per column); the models
    decode images of one shape (FigureError otherwise)."""
    shapes = {decoding.image_shape(net) for net in nets.values()}
    if len(shapes) > 1:
        raise FigureError(
            "the models decode images of different shapes: "
            + ", ".join(
                f"{name} {decoding.shape_text(decoding.image_shape(n))}" for name, n in nets.items()
            )
        )
    latents = np.atleast_2d(np.asarray(latents, dtype=np.float32))
    labels = {
        "title": "The same z decoded by each model",
        "row_labels": [f"z #{k}" for k in range(latents.shape[0])],
        "col_labels": list(nets),
        "scale": scale,
    }
    layout((latents.shape[0], len(nets), *image_size(next(iter(nets.values())))), **labels)
    images = grids.decoded_by_each(list(nets.values()), latents)  # models × latents
    return grid(images.swapaxes(0, 1), **labels)  # rows = latents, columns = models
