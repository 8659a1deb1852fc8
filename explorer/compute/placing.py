"""Where a view's gesture puts the sliders' values: an encoded image's posterior as μ and σ, a
click on the 2-D map as two dimensions of a vector. Values are rounded as the sliders show them
and clipped to bounds the caller gives (the sliders' own). Pure Python and numpy."""

from __future__ import annotations

import numpy as np


def bounded(values, bounds: tuple[float, float], decimals: int) -> tuple[list[float], int]:
    """``values`` rounded to ``decimals`` and clipped to ``bounds``, and how many lay outside
    the bounds."""
    values = np.asarray(values, dtype=np.float64).ravel()
    outside = int(((values < bounds[0]) | (values > bounds[1])).sum())
    return [_fit(v, bounds, decimals) for v in values], outside


def posterior_values(
    mu, sigma, mu_bounds: tuple[float, float], sigma_bounds: tuple[float, float], decimals: int = 4
) -> tuple[list[float], list[float], int]:
    """One image's q(z|x) as slider values: (μ, σ, how many values were clipped to the bounds)."""
    mu, mu_out = bounded(mu, mu_bounds, decimals)
    sigma, sigma_out = bounded(sigma, sigma_bounds, decimals)
    return mu, sigma, mu_out + sigma_out


def placed(values, dims, point, bounds: tuple[float, float], decimals: int = 2) -> list[float]:
    """``values`` with ``values[dims[k]]`` set to ``point[k]``, rounded and clipped to
    ``bounds``; the other values as they are."""
    out = [float(v) for v in values]
    for dim, value in zip(dims, point, strict=True):
        out[dim] = _fit(value, bounds, decimals)
    return out


def _fit(value, bounds: tuple[float, float], decimals: int) -> float:
    return float(min(max(round(float(value), decimals), bounds[0]), bounds[1]))
