"""Where a view's gesture puts the sliders' values: an encoded image's posterior as μ and σ, a
click on the 2-D map as two dimensions of a vector. Values are rounded as the sliders show them
and clamped to the :class:`~explorer.latent.vector.Bounds` the caller gives (the sliders' own).
Pure Python and numpy."""

from __future__ import annotations

import numpy as np

from explorer.latent.vector import Bounds


def bounded(values, bounds: Bounds, decimals: int) -> tuple[list[float], int]:
    """``values`` rounded to ``decimals`` and clamped to ``bounds``, and how many lay outside
    the bounds (±inf too: an encoder's σ can overflow). ValueError if one is NaN."""
    values = np.asarray(values, dtype=np.float64).ravel()
    outside = int(((values < bounds.low) | (values > bounds.high)).sum())
    inside = np.clip(values, bounds.low, bounds.high)
    return [_fit(v, bounds, decimals) for v in inside], outside


def posterior_values(
    mu, sigma, mu_bounds: Bounds, sigma_bounds: Bounds, decimals: int = 4
) -> tuple[list[float], list[float], int]:
    """One image's q(z|x) as slider values: (μ, σ, how many values were clamped to the bounds)."""
    mu, mu_out = bounded(mu, mu_bounds, decimals)
    sigma, sigma_out = bounded(sigma, sigma_bounds, decimals)
    return mu, sigma, mu_out + sigma_out


def placed(values, dims, point, bounds: Bounds, decimals: int = 2) -> list[float]:
    """``values`` with ``values[dims[k]]`` set to ``point[k]``, rounded and clamped to
    ``bounds``; the other values as they are. ValueError if a point is no finite number."""
    out = [float(v) for v in values]
    for dim, value in zip(dims, point, strict=True):
        out[dim] = _fit(value, bounds, decimals)
    return out


def _fit(value, bounds: Bounds, decimals: int) -> float:
    fitted = bounds.clamp(round(float(value), decimals))
    if fitted is None:
        raise ValueError(f"{value!r} is not a finite number")
    return fitted
