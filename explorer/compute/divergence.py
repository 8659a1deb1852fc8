"""What a model uses: KL per dimension, active units, and its dimensions paged most used first.
Pure torch and numpy."""

from __future__ import annotations

import numpy as np
import torch

from explorer.model import kl_divergence

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active when Var_x(E_q[z_d]) > 0.01
PAGE_SIZE = 16  # dimensions shown at once (sliders, traversal rows); larger models page through


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


def dimension_pages(n: int, kl=None, size: int = PAGE_SIZE) -> list[list[int]]:
    """The dimensions 0 … n-1 cut into pages of ``size`` (the last may be shorter): in index
    order, or, given ``kl`` (one value per dimension), largest KL first as :func:`by_kl` orders
    them."""
    if size < 1:
        raise ValueError(f"a page needs at least one dimension, got size {size}")
    order = list(range(n)) if kl is None else by_kl(kl)
    if len(order) != n:
        raise ValueError(f"kl has {len(order)} values for {n} dimensions")
    return [order[start : start + size] for start in range(0, n, size)]
