"""The data images nearest a latent vector: the k posterior means of a data sample closest to z,
by Euclidean distance in latent space. Numpy only."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

K = 8  # neighbours shown by default


class Nearest(NamedTuple):
    """Indices into the sample, nearest first, and their distances to z."""

    indices: np.ndarray  # int, k
    distances: np.ndarray  # float64, k, ascending


def nearest(z, means, k: int = K) -> Nearest:
    """The ``k`` rows of ``means`` (N×D posterior means) nearest ``z`` (D), nearest first; a tie
    goes to the lower index, so that the strip does not flicker between equals. Fewer than
    ``k`` when the sample holds fewer. ValueError when the sizes disagree."""
    z = np.asarray(z, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or z.shape != (means.shape[1],):
        raise ValueError(f"z of shape {z.shape} against means of shape {means.shape}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    distances = np.sqrt(np.square(means - z).sum(axis=1))
    k = min(k, len(means))
    if k < len(means):  # a partial sort first: only the k nearest need ordering
        candidates = np.argpartition(distances, k - 1)[:k]
        # argpartition may keep any of several equal k-th distances: take every row tied with it
        candidates = np.flatnonzero(distances <= distances[candidates].max())
    else:
        candidates = np.arange(len(means))
    order = candidates[np.lexsort((candidates, distances[candidates]))][:k]
    return Nearest(order, distances[order])
