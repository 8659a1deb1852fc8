"""Grids of latents and of the images they decode to: traversals, samples, maps, interpolation
paths (their end points and angle), the mosaic that tiles a grid into one image (so a view shows a
grid as ONE element), the mosaics the app's views show (the comparison of models too, which the
CLI's figure shares), and the cell of a mosaic under a point (and back)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.compute.decoding import decode
from explorer.latent.table import MU
from explorer.model import VAE

SPAN = MU.bounds  # the range swept by traversals and maps: the μ sliders' range
CELL = 28  # the side of the zoo's images, in pixels; a model's own: decoding.image_shape
MIN_SIDE = 8  # the shortest side of a model's image (explorer.formats): a last axis of 3 after
# an axis this long is a colour channel, not an image 3 pixels wide
PAD = 1  # pixels between the cells of a view's mosaic


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
    if np.linalg.norm(a) * np.linalg.norm(b) == 0:
        return lerp(a[0], b[0], t[:, 0])
    omega = angle(a[0], b[0])
    if np.sin(omega) < 1e-6:
        return lerp(a[0], b[0], t[:, 0])
    path = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return path.astype(np.float32)


def angle(a, b) -> float:
    """The angle between A and B in radians, in [0, π] (π/2 when either is zero)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    norms = max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return float(np.arccos(np.clip(float(a @ b) / norms, -1.0, 1.0)))


def path_ends(a, b, z, follow: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The end points of an interpolation from the current ``z``: A as set, else (unset, or of
    another size than z) a draw of N(0, I); B the current z while it ``follow``s it, else as
    set (or z, when unset or of another size)."""
    z = np.asarray(z, dtype=np.float32)
    if a is None or np.size(a) != z.size:
        a = rng.standard_normal(z.size).astype(np.float32)
    if follow or b is None or np.size(b) != z.size:
        b = z
    return a, b


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


def traversal(model: VAE, z, steps: int = 11, dims=None, span=SPAN) -> np.ndarray:
    """The β-VAE figure: rows × steps × H × W (× 3 in colour), row r sweeping dimension
    ``dims[r]`` of z."""
    grid = traversal_latents(z, sweep(steps, span), dims)
    images = decode(model, grid.reshape(-1, grid.shape[-1]))
    return images.reshape(*grid.shape[:2], *images.shape[1:])


def samples(model: VAE, mu, sigma, k: int, seed: int) -> np.ndarray:
    """k images decoded from z ~ N(μ, σ²) (k × H × W, × 3 in colour)."""
    return decode(model, sample_latents(mu, sigma, k, seed))


def manifold(model: VAE, z, dims: tuple[int, int], n: int = 15, span=SPAN) -> np.ndarray:
    """The decoded manifold over two dimensions: n × n × H × W (× 3 in colour), top row =
    largest y."""
    grid = manifold_latents(z, dims, sweep(n, span))
    images = decode(model, grid.reshape(-1, grid.shape[-1]))
    return images.reshape(n, n, *images.shape[1:])


def interpolation(model: VAE, a, b, steps: int = 11, t=None, method: str = "linear") -> np.ndarray:
    """Images along the path from A to B by ``method``: ``steps`` evenly spaced t, ends included,
    then, given ``t``, the image at t (steps [+ 1] × H × W [× 3], one forward pass)."""
    ts = np.linspace(0.0, 1.0, steps)
    if t is not None:
        ts = np.append(ts, t)
    return decode(model, interpolate(a, b, ts, method))


def traversal_image(model: VAE, z, dims, steps: int = 11) -> np.ndarray:
    """The traversal of z over ``dims`` (one row each, ``steps`` values across SPAN) as one
    mosaic."""
    return mosaic(traversal(model, z, steps, dims), pad=PAD)


def manifold_image(model: VAE, z, dims: tuple[int, int], n: int) -> np.ndarray:
    """The decoded manifold over ``dims``, n × n cells, as one mosaic without padding (top row:
    largest y), so that its pixels map onto the plane of the two dimensions."""
    return mosaic(manifold(model, z, dims, n), pad=0)


def triptych(model: VAE, z, shown=None, reconstruction=None) -> np.ndarray:
    """Three cells in one mosaic: an input image, its reconstruction (both blank until given)
    and the image of z, each as shown (of the model's shape, grey or RGB)."""
    decoded = decode(model, np.asarray(z, dtype=np.float32)[None])[0]
    blank = np.zeros_like(decoded)
    cells = [
        shown if shown is not None else blank,
        reconstruction if reconstruction is not None else blank,
        decoded,
    ]
    return mosaic(np.stack(cells), pad=PAD, rgb=decoded.ndim == 3)


def side_by_side(models, z) -> np.ndarray:
    """z decoded by each network, in one row."""
    return mosaic(decoded_by_each(models, np.asarray(z, dtype=np.float32)[None])[:, 0], pad=PAD)


def prior_draws(latent_dim: int, k: int, seed: int) -> np.ndarray:
    """k draws of the prior N(0, I) (k×latent), reproducible from ``seed``: the same draws for
    every model of that latent size, so that a comparison of models is fair. Drawn one at a
    time, so that asking for more keeps the first ones (one batch of k would not)."""
    generator = torch.Generator().manual_seed(seed)
    draws = [torch.randn(latent_dim, generator=generator) for _ in range(k)]
    return torch.stack(draws).numpy() if draws else np.zeros((0, latent_dim), np.float32)


def decoded_by_each(models, latents) -> np.ndarray:
    """The same latents decoded by each network: models × len(latents) × H × W (× 3 in colour;
    networks of one image shape), one forward pass per network."""
    latents = np.atleast_2d(np.asarray(latents, dtype=np.float32))
    return np.stack([decode(model, latents) for model in models])


def by_beta(betas: dict) -> list:
    """The keys of ``betas`` (key → β, or None where unknown) by β, smallest first; those of
    unknown β last; ties keep their order."""
    known = sorted((key for key, beta in betas.items() if beta is not None), key=betas.get)
    return [*known, *(key for key, beta in betas.items() if beta is None)]


def compare_image(models, z, draws) -> np.ndarray:
    """One row per network: z, then each of the prior ``draws``, decoded by it (a mosaic)."""
    latents = np.concatenate([np.asarray(z, dtype=np.float32)[None], np.atleast_2d(draws)])
    return mosaic(decoded_by_each(models, latents), pad=PAD)


def mosaic(
    images, ncols: int | None = None, pad: int = 1, fill: float = 0.5, *, rgb: bool | None = None
) -> np.ndarray:
    """Tile images (rows×cols×H×W, or N×H×W with ``ncols``; in colour each with a last axis of
    3) into one image (H'×W', or H'×W'×3), ``pad`` pixels of ``fill`` between and around them.
    Missing cells of a last row are left as ``fill``. ``rgb`` says whether the images are
    colour; by default they are when a last axis of 3 follows one of at least MIN_SIDE."""
    images = np.asarray(images)
    if rgb is None:
        rgb = images.ndim >= 4 and images.shape[-1] == 3 and images.shape[-2] >= MIN_SIDE
    channels = images.shape[-1:] if rgb else ()
    if images.ndim == 3 + len(channels):
        ncols = ncols or images.shape[0]
        nrows = -(-images.shape[0] // ncols)
        cells = np.full((nrows * ncols, *images.shape[1:]), fill, dtype=images.dtype)
        cells[: images.shape[0]] = images
        images = cells.reshape(nrows, ncols, *images.shape[1:])
    if images.ndim != 4 + len(channels):
        shapes = "rows×cols×H×W×3 or N×H×W×3" if rgb else "rows×cols×H×W or N×H×W"
        raise ValueError(f"expected {shapes} images, got shape {images.shape}")
    rows, cols, h, w = images.shape[:4]
    out = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, *channels), fill, dtype=images.dtype
    )
    for r in range(rows):
        top = pad + r * (h + pad)
        for c in range(cols):
            left = pad + c * (w + pad)
            out[top : top + h, left : left + w] = images[r, c]
    return out


def _sides(cell) -> tuple[int, int]:
    """A cell's (height, width): ``cell`` is one side (square) or (H, W)."""
    return (cell, cell) if np.ndim(cell) == 0 else (int(cell[0]), int(cell[1]))


def cell_at(x: float, y: float, shape: tuple[int, int], cell, pad: int) -> tuple[int, int]:
    """The (row, col) of the mosaic cell under image pixel (x, y) (x right, y down), clamped;
    ``cell`` is the images' side, or their (H, W).

    Raises ValueError unless x and y are finite numbers."""
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"a cell needs a finite point, got ({x}, {y})")
    rows, cols = shape
    height, width = _sides(cell)
    row = int(min(max(y // (height + pad), 0), rows - 1))
    col = int(min(max(x // (width + pad), 0), cols - 1))
    return row, col


def cell_bounds(index: int, ncols: int, cell, pad: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels (x right, y down) of image ``index`` of a mosaic in rows
    of ``ncols``, as :func:`mosaic` tiles it (``cell``: a side, or (H, W)): the inverse of
    :func:`cell_index`."""
    height, width = _sides(cell)
    row, col = divmod(index, ncols)
    left, top = pad + col * (width + pad), pad + row * (height + pad)
    return left, top, left + width, top + height


def cell_index(x: float, y: float, count: int, ncols: int, cell, pad: int) -> int | None:
    """The index of the image under pixel (x, y) (x right, y down) of a mosaic of ``count``
    images in rows of ``ncols`` (as :func:`mosaic` tiles them; ``cell``: a side, or (H, W)), or
    None past the last image.

    Raises ValueError unless x and y are finite numbers."""
    rows = -(-count // ncols)
    row, col = cell_at(x, y, (rows, ncols), cell, pad)
    index = row * ncols + col
    return index if index < count else None
