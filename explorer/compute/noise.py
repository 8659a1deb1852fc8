"""ε ~ N(0, I) from a seed, drawn the same way here and in the living page's JavaScript.

The generator is mulberry32 (a 32-bit counter hashed to a uniform) and the Box–Muller transform:
a dozen lines in either language, integer arithmetic identical bit for bit, so a seed gives the
same ε in the app, the command line and a page opened from a file (``explorer/pages/js/noise.js``).
Good enough to place a sample in a latent space; not a generator for statistics.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.latent.table import DRAWN_SEED_BOUNDS

MASK = 0xFFFFFFFF


def uniforms(seed: int, count: int) -> list[float]:
    """``count`` floats in [0, 1) from mulberry32 seeded with ``seed`` (taken modulo 2³²)."""
    state = seed & MASK
    out = []
    for _ in range(count):
        state = (state + 0x6D2B79F5) & MASK
        t = ((state ^ (state >> 15)) * (1 | state)) & MASK
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & MASK)) & MASK) ^ t
        out.append(((t ^ (t >> 14)) & MASK) / 4294967296)
    return out


def standard_normal(seed: int, n: int) -> np.ndarray:
    """n draws of N(0, 1) (float32): Box–Muller on pairs of uniforms, cosine then sine."""
    u = uniforms(seed, 2 * ((n + 1) // 2))
    eps = []
    for k in range(0, len(u), 2):
        radius = math.sqrt(-2.0 * math.log(1.0 - u[k]))  # 1 - u lies in (0, 1]
        angle = 2.0 * math.pi * u[k + 1]
        eps += [radius * math.cos(angle), radius * math.sin(angle)]
    return np.asarray(eps[:n], dtype=np.float32)


def next_seed(seed: int) -> int:
    """The seed that Resample moves to in the living page: the next draw, scaled to the seeds
    the app draws (DRAWN_SEED_BOUNDS: short enough to read aloud)."""
    return DRAWN_SEED_BOUNDS.low + int(uniforms(seed, 1)[0] * drawn_seed_count())


def drawn_seed_count() -> int:
    """How many seeds Resample draws from."""
    return int(DRAWN_SEED_BOUNDS.high - DRAWN_SEED_BOUNDS.low + 1)
