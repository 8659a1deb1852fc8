"""The generated shapes: reproducible from a seed, every factor recorded within its range, and
each factor visible in the pixels it claims to set."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from explorer.data import shapes


def test_a_seed_gives_the_same_images_and_factors():
    a, b = shapes.generate(50, seed=3), shapes.generate(50, seed=3)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.factors, b.factors)
    assert not np.array_equal(a.images, shapes.generate(50, seed=4).images)
    assert a.images.shape == (50, 64, 64, 3) and a.images.dtype == np.uint8
    assert shapes.generate(5, size=32).images.shape == (5, 32, 32, 3)


def test_factors_are_recorded_within_their_ranges():
    made = shapes.generate(400, seed=0)
    assert made.factors.shape == (400, len(shapes.FACTORS))
    assert set(made.labels.tolist()) == {0, 1, 2, 3}
    assert np.array_equal(made.factors[:, 0], made.labels)
    for k, name in enumerate(shapes.FACTORS[1:], start=1):
        lo, hi = shapes.RANGES[name]
        assert lo <= made.factors[:, k].min() and made.factors[:, k].max() <= hi


def test_the_pixels_show_the_factors():
    """The shape's centre of mass is at (x, y), y up; its colour has the hue; its area grows
    with the scale."""
    made = shapes.generate(200, seed=5)
    for image, (_, hue, _, _, x, y) in zip(made.images, made.factors, strict=True):
        mass = image.astype(float).sum(2)
        rows, cols = np.nonzero(mass > 0)
        weights = mass[rows, cols]
        cx = (cols + 0.5) @ weights / weights.sum() / 64
        cy = 1 - (rows + 0.5) @ weights / weights.sum() / 64
        assert abs(cx - x) < 0.08 and abs(cy - y) < 0.08
        brightest = image.reshape(-1, 3)[mass.argmax()] / 255
        drawn_hue = colorsys.rgb_to_hsv(*brightest)[0]
        assert min(abs(drawn_hue - hue), 1 - abs(drawn_hue - hue)) < 0.02
    area = (made.images.sum(3) > 0).sum((1, 2))
    assert np.corrcoef(area, made.factors[:, 2])[0, 1] > 0.7


def test_an_absurd_count_is_refused():
    with pytest.raises(ValueError, match="n must be 1 to"):
        shapes.generate(0)
