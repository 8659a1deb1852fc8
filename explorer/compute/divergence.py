"""What a model uses: KL per dimension, active units, and the one rule by which every view lists
its dimensions (:func:`dimension_order`). Pure torch and numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.compute.decoding import writable
from explorer.model import kl_divergence

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active when Var_x(E_q[z_d]) > 0.01
PAGE_SIZE = 16  # dimensions shown at once (sliders, traversal rows); larger models page through


def kl_per_dimension(mu, logvar) -> np.ndarray:
    """Mean over the data of KL(q(z_d|x) ‖ N(0, 1)) for each dimension d (nats, ≥ 0)."""
    kl = kl_divergence(torch.as_tensor(writable(mu)), torch.as_tensor(writable(logvar)))
    return kl.mean(0).clamp_min(0.0).numpy().astype(np.float64)


def gaussian_kl(mu, sigma, floor: float = 0.01) -> np.ndarray:
    """KL(N(μ_d, σ_d²) ‖ N(0, 1)) per dimension; σ below ``floor`` counts as ``floor`` (a point
    mass has infinite KL)."""
    mu = np.asarray(mu, dtype=np.float64)
    var = np.maximum(np.asarray(sigma, dtype=np.float64), floor) ** 2
    return np.maximum(0.5 * (var + mu**2 - 1.0 - np.log(var)), 0.0)


def mean_variance(mu) -> np.ndarray:
    """Var_x[μ_d]: the variance over the data of each dimension's posterior mean (rows of ``mu``
    are images). What :func:`active_units` compares with its threshold."""
    return np.asarray(mu, dtype=np.float64).var(axis=0)


def active_units(mu, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which dimensions are active: the variance over the data of the posterior mean exceeds
    ``threshold`` (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders")."""
    return mean_variance(mu) > threshold


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


@dataclass(frozen=True)
class DimensionOrder:
    """How every view lists a model's dimensions: ``pages`` of at most PAGE_SIZE (one page at a
    time on screen), the ``inactive`` ones to grey, and whether they go by KL."""

    pages: tuple[tuple[int, ...], ...]
    inactive: frozenset[int]
    by_kl: bool

    @property
    def dims(self) -> list[int]:
        """Every dimension, in order."""
        return [d for page in self.pages for d in page]

    def labels(self) -> list[str]:
        """One name per page: its dimensions ("1–16", from 1) or, by KL, their ranks
        ("by KL 1–16")."""
        names, start = [], 0
        for page in self.pages:
            first, last = (
                (start + 1, start + len(page)) if self.by_kl else (page[0] + 1, page[-1] + 1)
            )
            names.append(f"{'by KL ' if self.by_kl else ''}{first}–{last}")
            start += len(page)
        return names


def dimension_order(n: int, usage=None, size: int = PAGE_SIZE) -> DimensionOrder:
    """The one rule by which the sliders and every view list dimensions 0 … n-1. Without
    ``usage``: in index order, none greyed. With ``usage`` = (KL per dimension, active mask),
    as when "Order by KL" is ticked: most KL first (:func:`by_kl`) and the inactive ones greyed.
    Either way cut into pages of ``size``."""
    kl, active = (None, None) if usage is None else usage
    pages = tuple(tuple(page) for page in dimension_pages(n, kl, size))
    if active is not None and len(active) != n:
        raise ValueError(f"the active mask has {len(active)} values for {n} dimensions")
    inactive = frozenset() if active is None else frozenset(d for d in range(n) if not active[d])
    return DimensionOrder(pages, inactive, usage is not None)
