"""Which latent dimension carries which factor: the mutual information between each dimension's
posterior mean and each factor, and the mutual information gap (MIG) of Chen et al. (2018),
"Isolating Sources of Disentanglement in VAEs", computed as disentanglement_lib does: values in
20-bin histograms, then for each factor the gap between its two most informative dimensions over
its entropy, averaged over factors. Pure numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 20  # disentanglement_lib's discretization of codes (and here of continuous factors)


def discretize(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each column in ``bins`` equal-width bins over its range (disentanglement_lib's
    _histogram_discretize): N×K floats → N×K ints in 0..bins-1."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(values.shape, dtype=np.int64)
    for k in range(values.shape[1]):
        edges = np.histogram(values[:, k], bins)[1]
        out[:, k] = np.digitize(values[:, k], edges[:-1]) - 1
    return out


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two integer label vectors, from their joint counts."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    seen = joint > 0
    return float((joint[seen] * np.log(joint[seen] / outer[seen])).sum())


def entropy(labels: np.ndarray) -> float:
    """H(labels) in nats."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


@dataclass(frozen=True)
class FactorScores:
    """The matrix (dimensions × factors, nats), the MIG (mean, and per factor), and each factor's
    most informative dimension."""

    names: tuple[str, ...]
    mi: np.ndarray
    gaps: np.ndarray
    best: tuple[int, ...]

    @property
    def mig(self) -> float:
        return float(self.gaps.mean())

    def to_dict(self) -> dict:
        return {
            "factors": list(self.names),
            "mutual_information": np.round(self.mi, 4).tolist(),
            "mig": round(self.mig, 4),
            "gap_per_factor": dict(zip(self.names, np.round(self.gaps, 4).tolist(), strict=True)),
            "best_dimension": {
                name: f"z{d + 1}" for name, d in zip(self.names, self.best, strict=True)
            },
        }


def scores(codes: np.ndarray, factors: np.ndarray, names, discrete=()) -> FactorScores:
    """Scores of posterior means ``codes`` (N×D) against ``factors`` (N×K, named ``names``); the
    factors named in ``discrete`` are taken as they are (e.g. a shape's index or a label), the
    others binned as the codes are."""
    names = tuple(names)
    codes_binned = discretize(codes)
    factors = np.asarray(factors)
    columns = [
        factors[:, k].astype(np.int64) if name in discrete else discretize(factors[:, [k]])[:, 0]
        for k, name in enumerate(names)
    ]
    mi = np.array([[mutual_information(codes_binned[:, d], f) for f in columns]
                   for d in range(codes.shape[1])])  # fmt: skip
    gaps = []
    for k, column in enumerate(columns):
        top = np.sort(mi[:, k])[::-1]
        second = top[1] if len(top) > 1 else 0.0
        h = entropy(column)
        gaps.append((top[0] - second) / h if h > 0 else 0.0)
    best = tuple(int(np.argmax(mi[:, k])) for k in range(len(names)))
    return FactorScores(names, mi, np.array(gaps), best)
