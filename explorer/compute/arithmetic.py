"""Latent arithmetic over a labelled data sample: class means of the posterior means, the path
from one class mean to another, and analogies a − b + c (the moves of Latent Space Cartography,
Liu et al. 2019). Pure numpy."""

from __future__ import annotations

import numpy as np


def class_means(mu, labels, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the posterior means ``mu`` (N×d) of each label 0..count−1, as (count×d
    float32 means, count image counts); a class with no image gets a row of NaN."""
    mu = np.asarray(mu, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64).ravel()
    if mu.ndim != 2 or labels.size != mu.shape[0]:
        raise ValueError(f"{labels.size} labels for posterior means of shape {mu.shape}")
    inside = (labels >= 0) & (labels < count)
    counts = np.bincount(labels[inside], minlength=count)
    sums = np.zeros((count, mu.shape[1]))
    np.add.at(sums, labels[inside], mu[inside])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means.astype(np.float32), counts


def towards(a, b, ts) -> np.ndarray:
    """The points (1 − t)·a + t·b, one row per t (len(ts)×d, float32)."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    ts = np.atleast_1d(np.asarray(ts, dtype=np.float32))[:, None]
    return ((1 - ts) * a + ts * b).astype(np.float32)


def analogy(a, b, c) -> np.ndarray:
    """a − b + c: what c is when it changes as a differs from b (float32)."""
    return np.asarray(a, np.float32) - np.asarray(b, np.float32) + np.asarray(c, np.float32)


def default_terms(labels, classes, prefer: tuple[str, str] = ("7", "1")) -> tuple[int, int, int]:
    """Indices (a, b, c) of three sample images for the analogy a − b + c: a of class
    ``prefer[0]``, b and c two images of class ``prefer[1]`` (for digits, a 7 given the style in
    which one 1 differs from another); other classes where those are missing, so that any
    labelled sample gives three images, and c differs from b whenever the sample has two."""
    labels = np.asarray(labels).astype(np.int64).ravel()
    if labels.size == 0:
        raise ValueError("an analogy needs at least one image")

    def first_of(name: str) -> int | None:
        if name not in classes:
            return None
        found = np.flatnonzero(labels == classes.index(name))
        return int(found[0]) if found.size else None

    a = first_of(prefer[0])
    a = 0 if a is None else a
    b = first_of(prefer[1])
    if b is None or labels[b] == labels[a]:
        others = np.flatnonzero(labels != labels[a])
        b = int(others[0]) if others.size else a
    same = np.flatnonzero(labels == labels[b])
    later = same[same != b]
    c = int(later[0]) if later.size else next((k for k in range(labels.size) if k != b), b)
    return a, b, c
