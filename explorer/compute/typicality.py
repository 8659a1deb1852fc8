"""How typical a latent vector is: its log density under the aggregate posterior of a data
sample (the equal-weight mixture of the images' q(z|x)), that density's percentile among the
data's own posterior means, and its log density under the prior N(0, I). Numpy only.

Two forms of the aggregate posterior:

- :class:`Aggregate`, the exact mixture over the sample (the app): N Gaussians
  N(μ_i, diag exp(logvar_i)), summed by logsumexp.
- :class:`GaussianFit`, one Gaussian with the mixture's mean and full covariance (the living
  page, which carries a few numbers instead of the whole sample): mean = mean of the μ_i,
  covariance = covariance of the μ_i + the mean posterior variance on the diagonal (the law of
  total variance), so it matches the mixture's first two moments exactly.

Each keeps the log densities of the sample's own posterior means, sorted, computed once per
model (under the mixture, each mean held out of it: :func:`held_out_log_density`); a z is
placed among them by :func:`percentile`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

OFF_MANIFOLD_PERCENTILE = 1.0  # below this percentile of the data, z is off the data's manifold
# what the app and the living page say there (class names.OFF_MANIFOLD)
WARNING = "No training image maps near here: the image is the decoder's guess."
LOG_2PI = math.log(2 * math.pi)
CHUNK = 1 << 22  # elements of one block of point × component × dimension terms


class Typicality(NamedTuple):
    """Where z stands: log q(z), its percentile among the data's means, log p(z) under the
    prior, and whether it lies below OFF_MANIFOLD_PERCENTILE."""

    log_q: float
    percentile: float
    log_prior: float
    off_manifold: bool


def prior_log_density(z) -> np.ndarray:
    """log N(z; 0, I) of each row of ``z`` (…×D)."""
    z = np.asarray(z, dtype=np.float64)
    return -0.5 * (z.shape[-1] * LOG_2PI + np.square(z).sum(axis=-1))


def mixture_log_density(points, mu, logvar) -> np.ndarray:
    """log (1/N) Σ_i N(x; μ_i, diag exp(logvar_i)) of each row x of ``points`` (M×D), the
    mixture's N components given as rows of ``mu`` and ``logvar`` (N×D)."""
    return _mixture(points, mu, logvar, held_out=False)


def held_out_log_density(mu, logvar) -> np.ndarray:
    """log density of each μ_j under the mixture of the OTHER components (N − 1 of them).

    Why not the whole mixture: with narrow posteriors (σ ≈ 0.1–0.3) μ_j's own component
    dominates its density, so every data mean would look far more typical than any point
    between them, a z = 0 included. Held out, μ_j is measured as a new z would be."""
    return _mixture(mu, mu, logvar, held_out=len(mu) > 1)


def _mixture(points, mu, logvar, held_out: bool) -> np.ndarray:
    """The mixture's log density at each point, by logsumexp over blocks of rows (within CHUNK
    elements of point × component × dimension terms); ``held_out``: point i is component i,
    which is left out."""
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    mu = np.asarray(mu, dtype=np.float64)
    logvar = np.asarray(logvar, dtype=np.float64)
    if mu.shape != logvar.shape or mu.ndim != 2 or points.shape[1] != mu.shape[1]:
        raise ValueError(f"points {points.shape}, mu {mu.shape}, logvar {logvar.shape}")
    n, d = mu.shape
    precision = np.exp(-logvar)
    constant = -0.5 * (d * LOG_2PI + logvar.sum(axis=1))  # per component
    rows = max(1, CHUNK // max(1, n * d))
    out = np.empty(len(points))
    for start in range(0, len(points), rows):
        block = points[start : start + rows, None, :]  # B×1×D against N×D
        log_n = constant - 0.5 * (np.square(block - mu) * precision).sum(axis=2)  # B×N
        if held_out:
            own = np.arange(start, start + len(block))
            log_n[own - start, own] = -np.inf
        top = log_n.max(axis=1)
        out[start : start + rows] = top + np.log(np.exp(log_n - top[:, None]).sum(axis=1))
    return out - math.log(n - 1 if held_out else n)


def percentile(value: float, sorted_values: np.ndarray) -> float:
    """The share of ``sorted_values`` (ascending) strictly below ``value``, in percent (as
    ``scipy.stats.percentileofscore(..., kind="strict")``)."""
    return 100.0 * np.searchsorted(sorted_values, value, side="left") / len(sorted_values)


def _where(z, log_q: float, data_log_q: np.ndarray) -> Typicality:
    p = float(percentile(log_q, data_log_q))
    log_prior = float(prior_log_density(z))
    return Typicality(float(log_q), p, log_prior, bool(p < OFF_MANIFOLD_PERCENTILE))


@dataclass(frozen=True)
class Aggregate:
    """The exact aggregate posterior of a sample, and its means' own log densities (sorted)."""

    mu: np.ndarray  # N×D float64
    logvar: np.ndarray  # N×D float64
    data_log_q: np.ndarray  # N, each mean held out, ascending

    @classmethod
    def of(cls, mu, logvar) -> Aggregate:
        """The mixture of a sample's posteriors; each mean's held-out density computed here
        (:func:`held_out_log_density`, N² terms: once per model, off the event loop)."""
        mu = np.asarray(mu, dtype=np.float64)
        logvar = np.asarray(logvar, dtype=np.float64)
        data = np.sort(held_out_log_density(mu, logvar))
        return cls(mu, logvar, data)

    def log_density(self, z) -> float:
        return float(mixture_log_density(z, self.mu, self.logvar)[0])

    def where(self, z) -> Typicality:
        """z (D) against the sample: log q(z), its percentile, log p(z), off the manifold."""
        return _where(z, self.log_density(z), self.data_log_q)


@dataclass(frozen=True)
class GaussianFit:
    """One Gaussian N(mean, covariance) fitted to a sample's aggregate posterior by its moments.
    ``whiten`` (W = L⁻¹ where covariance = L Lᵀ) and ``log_det`` make a density one
    triangular product: log N(z) = -½ (D log 2π + log_det + |W (z − mean)|²)."""

    mean: np.ndarray  # D
    covariance: np.ndarray  # D×D
    whiten: np.ndarray  # D×D, lower triangular
    log_det: float
    data_log_q: np.ndarray  # N, the sample's means under the fit, ascending

    @classmethod
    def of(cls, mu, logvar) -> GaussianFit:
        mu = np.asarray(mu, dtype=np.float64)
        variance = np.exp(np.asarray(logvar, dtype=np.float64)).mean(axis=0)
        mean = mu.mean(axis=0)
        covariance = np.atleast_2d(np.cov(mu, rowvar=False, bias=True)) + np.diag(variance)
        lower = np.linalg.cholesky(covariance)
        whiten = np.linalg.solve(lower, np.eye(len(mean)))
        log_det = 2.0 * float(np.log(np.diag(lower)).sum())
        fit = cls(mean, covariance, whiten, log_det, np.empty(0))
        data = np.sort(fit.log_densities(mu))
        return cls(mean, covariance, whiten, log_det, data)

    def log_densities(self, points) -> np.ndarray:
        """log N(x; mean, covariance) of each row of ``points`` (…×D)."""
        y = (np.asarray(points, dtype=np.float64) - self.mean) @ self.whiten.T
        return -0.5 * (len(self.mean) * LOG_2PI + self.log_det + np.square(y).sum(axis=-1))

    def where(self, z) -> Typicality:
        return _where(z, float(self.log_densities(z)), self.data_log_q)
