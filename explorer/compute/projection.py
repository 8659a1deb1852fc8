"""The plane of the first two principal components of the data's posterior means: coordinates
of a latent point on it, and a point moved so that its coordinates are given. Pure numpy."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Plane:
    """A plane in latent space: an ``origin`` (d) and two orthonormal ``axes`` (2×d); how much of
    the data's variance each axis carries (``explained``, fractions)."""

    origin: np.ndarray
    axes: np.ndarray
    explained: tuple[float, float]

    def coordinates(self, z) -> np.ndarray:
        """Where ``z`` (d, or N×d) projects onto the plane: (2,) or N×2."""
        return (np.asarray(z, dtype=np.float64) - self.origin) @ self.axes.T

    def moved(self, z, point) -> np.ndarray:
        """``z`` moved within the plane's directions alone so that its coordinates are
        ``point``: what lies off the plane stays as it was (float32)."""
        delta = np.asarray(point, dtype=np.float64) - self.coordinates(z)
        return (np.asarray(z, dtype=np.float64) + delta @ self.axes).astype(np.float32)

    def grid(self, z, values) -> np.ndarray:
        """n × n × d points: z moved to coordinates (values[c], values[n−1−r]) at row r, column
        c, so that the top row has the largest y, as in a plot (:func:`grids.manifold_latents`)."""
        values = np.asarray(values, dtype=np.float64)
        n = values.size
        x, y = np.meshgrid(values, values[::-1])
        delta = np.stack([x, y], axis=-1) - self.coordinates(z)
        z = np.asarray(z, dtype=np.float64)
        return (z + delta.reshape(n * n, 2) @ self.axes).reshape(n, n, -1).astype(np.float32)


def principal_plane(points) -> Plane:
    """The plane through the mean of ``points`` (N×d, N ≥ 2, d ≥ 2) along their first two
    principal components (by SVD of the centred points), each axis signed so that its largest
    entry is positive (the same data give the same plane)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < 2 or points.shape[1] < 2:
        raise ValueError(f"principal components need N ≥ 2 points of d ≥ 2, got {points.shape}")
    origin = points.mean(axis=0)
    _, singular, vt = np.linalg.svd(points - origin, full_matrices=False)
    axes = vt[:2].copy()
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    axes *= np.where(signs == 0, 1.0, signs)[:, None]
    total = float((singular**2).sum())
    share = (singular[:2] ** 2 / total) if total > 0 else np.zeros(2)
    return Plane(origin, axes, (float(share[0]), float(share[1])))
