"""Batch computations on a VAE for the exploration views and figures. Pure torch/numpy, no Panel.

Every function that runs the network does so under ``torch.no_grad()`` in one forward pass per
grid, and returns numpy arrays: latents as float32 (N×latent), images as float32 in [0, 1]
(…×28×28). :func:`mosaic` tiles a grid of images into one image, so that a view shows a grid as
ONE image element. :func:`load_sample` finds the small data sample that goes with a model.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from explorer import zoo
from explorer.data import datasets
from explorer.model import VAE, kl_divergence

SPAN = (-3.0, 3.0)  # the range swept by traversals and maps: the μ sliders' range
ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active when Var_x(E_q[z_d]) > 0.01
SAMPLE_SIZE = 256  # images of a data sample


# -- running the network ------------------------------------------------------------------------
def _tensor(model: VAE, array) -> torch.Tensor:
    weight = next(model.parameters())
    return torch.as_tensor(np.asarray(array), dtype=weight.dtype, device=weight.device)


def decode(model: VAE, z) -> np.ndarray:
    """Latents (N×latent) → images as shown (N×28×28 float32 in [0, 1]), one forward pass."""
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise ValueError(f"z must have shape (N, {model.latent_dim}), got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("z must hold finite numbers")
    with torch.no_grad():
        images = model.decode(_tensor(model, z))[:, 0]
    return images.cpu().numpy().astype(np.float32, copy=False)


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
    with torch.no_grad():
        mu, logvar = model.encode(_tensor(model, x))
    return mu.cpu().numpy().astype(np.float32), logvar.cpu().numpy().astype(np.float32)


def encode(model: VAE, images) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of each image as (μ, σ), each N×latent float32."""
    mu, logvar = posterior(model, images)
    return mu, np.exp(0.5 * logvar).astype(np.float32)


# -- latent grids (no network) -----------------------------------------------------------------
def sweep(steps: int, span: tuple[float, float] = SPAN) -> np.ndarray:
    """``steps`` evenly spaced values across ``span``, ends included."""
    if steps < 2:
        raise ValueError(f"a sweep needs at least 2 steps, got {steps}")
    return np.linspace(span[0], span[1], steps, dtype=np.float32)


def traversal_latents(z, values, dims=None) -> np.ndarray:
    """rows × len(values) × latent: row r is z with dimension ``dims[r]`` set to each value."""
    z = np.asarray(z, dtype=np.float32)
    dims = list(range(z.size)) if dims is None else list(dims)
    values = np.asarray(values, dtype=np.float32)
    grid = np.broadcast_to(z, (len(dims), values.size, z.size)).copy()
    for row, dim in enumerate(dims):
        grid[row, :, dim] = values
    return grid


def manifold_latents(z, dims: tuple[int, int], values) -> np.ndarray:
    """n × n × latent over two dimensions: column c sets ``dims[0]`` (x) to ``values[c]``; row r
    sets ``dims[1]`` (y) to ``values[n-1-r]``, so the top row is the largest y, as in a plot."""
    i, j = dims
    if i == j:
        raise ValueError(f"a map needs two different dimensions, got {i} and {j}")
    z = np.asarray(z, dtype=np.float32)
    values = np.asarray(values, dtype=np.float32)
    n = values.size
    grid = np.broadcast_to(z, (n, n, z.size)).copy()
    grid[:, :, i] = values[None, :]
    grid[:, :, j] = values[::-1, None]
    return grid


def sample_latents(mu, sigma, k: int, seed: int) -> np.ndarray:
    """k draws of z ~ N(μ, σ²) (k×latent), reproducible from ``seed``."""
    mu = np.asarray(mu, dtype=np.float32)
    sigma = np.asarray(sigma, dtype=np.float32)
    eps = torch.randn(k, mu.size, generator=torch.Generator().manual_seed(seed)).numpy()
    return (mu + sigma * eps).astype(np.float32)


def lerp(a, b, t) -> np.ndarray:
    """Points (1 − t)·A + t·B for each t (len(t)×latent)."""
    a, b, t = _path_args(a, b, t)
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; for latents, White 2016, "Sampling Generative
    Networks"): along the great circle between the directions of A and B, the norm following
    the same weights. Falls back to :func:`lerp` when A and B are (anti)parallel or zero."""
    a, b, t = _path_args(a, b, t)
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0:
        return lerp(a[0], b[0], t[:, 0])
    omega = np.arccos(np.clip(float(a[0] @ b[0]) / norms, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return lerp(a[0], b[0], t[:, 0])
    path = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return path.astype(np.float32)


INTERPOLATIONS = {"linear": lerp, "spherical": slerp}


def interpolate(a, b, t, method: str = "linear") -> np.ndarray:
    """The points at ``t`` (scalars in [0, 1]) on the linear or spherical path from A to B."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"method must be one of {', '.join(INTERPOLATIONS)}, got {method!r}")
    return INTERPOLATIONS[method](a, b, t)


def _path_args(a, b, t):
    a = np.asarray(a, dtype=np.float64).reshape(1, -1)
    b = np.asarray(b, dtype=np.float64).reshape(1, -1)
    if a.shape != b.shape:
        raise ValueError(f"A and B differ in size: {a.shape[1]} and {b.shape[1]}")
    return a, b, np.atleast_1d(np.asarray(t, dtype=np.float64)).reshape(-1, 1)


# -- grids of images ----------------------------------------------------------------------------
def traversal(model: VAE, z, steps: int = 11, dims=None, span=SPAN) -> np.ndarray:
    """The β-VAE figure: rows × steps × 28 × 28, row r sweeping dimension ``dims[r]`` of z."""
    grid = traversal_latents(z, sweep(steps, span), dims)
    return decode(model, grid.reshape(-1, grid.shape[-1])).reshape(*grid.shape[:2], 28, 28)


def samples(model: VAE, mu, sigma, k: int, seed: int) -> np.ndarray:
    """k images decoded from z ~ N(μ, σ²) (k×28×28)."""
    return decode(model, sample_latents(mu, sigma, k, seed))


def manifold(model: VAE, z, dims: tuple[int, int], n: int = 15, span=SPAN) -> np.ndarray:
    """The decoded manifold over two dimensions: n × n × 28 × 28, top row = largest y."""
    grid = manifold_latents(z, dims, sweep(n, span))
    return decode(model, grid.reshape(-1, grid.shape[-1])).reshape(n, n, 28, 28)


# -- what the model uses ------------------------------------------------------------------------
def kl_per_dimension(mu, logvar) -> np.ndarray:
    """Mean over the data of KL(q(z_d|x) ‖ N(0, 1)) for each dimension d (nats, ≥ 0)."""
    kl = kl_divergence(torch.as_tensor(mu), torch.as_tensor(logvar))
    return kl.mean(0).clamp_min(0.0).numpy().astype(np.float64)


def gaussian_kl(mu, sigma, floor: float = 0.01) -> np.ndarray:
    """KL(N(μ_d, σ_d²) ‖ N(0, 1)) per dimension; σ below ``floor`` counts as ``floor`` (a point
    mass has infinite KL)."""
    mu = np.asarray(mu, dtype=np.float64)
    var = np.maximum(np.asarray(sigma, dtype=np.float64), floor) ** 2
    return np.maximum(0.5 * (var + mu**2 - 1.0 - np.log(var)), 0.0)


def active_units(mu, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which dimensions are active: the variance over the data of the posterior mean exceeds
    ``threshold`` (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders")."""
    mu = np.asarray(mu, dtype=np.float64)
    return mu.var(axis=0) > threshold


def by_kl(kl) -> list[int]:
    """Dimensions ordered by KL, largest first (ties by index)."""
    kl = np.asarray(kl, dtype=np.float64)
    return sorted(range(kl.size), key=lambda d: (-kl[d], d))


# -- tiling -------------------------------------------------------------------------------------
def mosaic(images, ncols: int | None = None, pad: int = 1, fill: float = 0.5) -> np.ndarray:
    """Tile images (rows×cols×H×W, or N×H×W with ``ncols``) into one 2-d image, ``pad`` pixels
    of ``fill`` between and around them. Missing cells of a last row are left as ``fill``."""
    images = np.asarray(images)
    if images.ndim == 3:
        ncols = ncols or images.shape[0]
        nrows = -(-images.shape[0] // ncols)
        cells = np.full((nrows * ncols, *images.shape[1:]), fill, dtype=images.dtype)
        cells[: images.shape[0]] = images
        images = cells.reshape(nrows, ncols, *images.shape[1:])
    if images.ndim != 4:
        raise ValueError(f"expected rows×cols×H×W or N×H×W images, got shape {images.shape}")
    rows, cols, h, w = images.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), fill, dtype=images.dtype)
    for r in range(rows):
        top = pad + r * (h + pad)
        for c in range(cols):
            left = pad + c * (w + pad)
            out[top : top + h, left : left + w] = images[r, c]
    return out


def cell_at(x: float, y: float, shape: tuple[int, int], cell: int, pad: int) -> tuple[int, int]:
    """The (row, col) of the mosaic cell under image pixel (x, y) (x right, y down), clamped.

    Raises ValueError unless x and y are finite numbers."""
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"a cell needs a finite point, got ({x}, {y})")
    rows, cols = shape
    row = int(min(max(y // (cell + pad), 0), rows - 1))
    col = int(min(max(x // (cell + pad), 0), cols - 1))
    return row, col


# -- drawings ----------------------------------------------------------------------------------
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


def strokes_to_image(xs, ys, size: int = 28, width: float = 2.5, oversample: int = 8) -> np.ndarray:
    """Freehand strokes → a size×size float32 image in [0, 1], white on black.

    ``xs[k]``, ``ys[k]`` are the coordinates of stroke k in image pixels, y upwards from the
    bottom edge (a plot's axes); the pen is round and ``width`` pixels wide. Drawn ``oversample``
    times larger, then averaged down (anti-aliased). What is not a finite number is skipped
    (check a browser's strokes with :func:`checked_strokes` first: it also bounds the cost);
    points far off the canvas are pulled to within one canvas of it.
    """
    big = size * oversample
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    radius = width * oversample / 2
    for stroke_x, stroke_y in zip(xs, ys, strict=False):
        x, y = _coordinates(stroke_x), _coordinates(stroke_y)
        n = min(x.size, y.size)
        keep = np.isfinite(x[:n]) & np.isfinite(y[:n])
        x = np.clip(x[:n][keep], -size, 2 * size) * oversample
        y = (size - np.clip(y[:n][keep], -size, 2 * size)) * oversample
        points = list(zip(x.tolist(), y.tolist(), strict=True))
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(2 * radius)))
        for px, py in points:  # round caps and joints
            draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=255)
    small = canvas.resize((size, size), Image.Resampling.BOX)
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


def center_like_mnist(image, box: int = 20) -> np.ndarray:
    """Fit the drawing's ink into a box×box square (aspect kept) and move its centre of mass to
    the image centre: how MNIST's digits were prepared (LeCun et al.). Blank images pass as is."""
    image = np.asarray(image, dtype=np.float32)
    rows, cols = np.nonzero(image > 0.05)
    if rows.size == 0:
        return image
    crop = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = box / max(crop.shape)
    h, w = (max(1, round(n * scale)) for n in crop.shape)
    resized = Image.fromarray(crop).resize((w, h), Image.Resampling.LANCZOS)
    size = image.shape[0]
    out = np.zeros_like(image)
    top, left = (size - h) // 2, (size - w) // 2
    out[top : top + h, left : left + w] = np.clip(np.asarray(resized), 0.0, 1.0)
    total = out.sum()
    cy, cx = (np.indices(out.shape) * out).reshape(2, -1).sum(1) / total
    dy, dx = round(size / 2 - 0.5 - cy), round(size / 2 - 0.5 - cx)
    dy = int(np.clip(dy, -top, size - top - h))
    dx = int(np.clip(dx, -left, size - left - w))
    return np.roll(out, (dy, dx), axis=(0, 1))


# -- data samples -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """A few images of a model's data set (uint8 N×28×28), their labels and class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # where they came from, for the user

    def __len__(self) -> int:
        return int(self.images.shape[0])


def sample_file(name: str) -> Path:
    """The data sample bundled with a zoo model."""
    return zoo.ZOO_DIR / f"{name}.sample.npz"


def load_sample(
    source: str, dataset: str | None, data_dir: str | Path | None = None, n: int = SAMPLE_SIZE
) -> Sample | None:
    """The zoo model's bundled sample, else the first ``n`` images of ``dataset`` (read from
    ``data_dir`` or where datasets.load finds it: its test split, or mnist-5k's only one); None when
    there is none."""
    classes_of = dataset if dataset in datasets.CLASSES else None
    if source in zoo.NAMES and sample_file(source).is_file():
        with np.load(sample_file(source)) as npz:
            images, labels = npz["images"][:n], npz["labels"][:n]
        name = classes_of or ("fashion-mnist" if source.startswith("fashion") else "mnist")
        return Sample(images, labels, datasets.CLASSES[name], f"{source} bundled sample")
    if classes_of is None:
        return None
    split = "train" if dataset == "mnist-5k" else "test"
    try:
        loaded = datasets.load(dataset, data_dir, split=split).head(n)
    except datasets.DataError:
        return None
    return Sample(
        loaded.images.numpy(), loaded.labels.numpy(), loaded.classes, f"{dataset} {split} split"
    )
