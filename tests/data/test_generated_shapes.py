"""The generated shapes: reproducible from a seed, every factor recorded within its range, and
each factor visible in the pixels it claims to set."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from explorer.data import samples, shapes


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


def test_a_shapes_model_gets_a_sample_with_its_factors():
    sample = samples.load_sample("any.pth", "shapes", n=40, image_shape=(3, 32, 32))
    assert sample.images.shape == (40, 32, 32, 3) and sample.shape == (3, 32, 32)
    assert sample.factor_names == shapes.FACTORS and sample.discrete == ("shape",)
    assert sample.factors.shape == (40, 6) and sample.classes == shapes.SHAPES
    values, names, discrete = sample.scored_against()
    assert values is sample.factors and names == shapes.FACTORS and discrete == ("shape",)
    head = sample.head(7)
    assert len(head) == 7 and head.factors.shape == (7, 6)
    assert np.array_equal(head.factors, sample.factors[:7])


def test_a_sample_without_factors_is_scored_against_its_label():
    sample = samples.load_sample("mnist-beta1", "mnist-5k", n=30)
    assert sample.factors is None
    values, names, discrete = sample.scored_against()
    assert values.shape == (30, 1) and names == ("label",) and discrete == ("label",)
    assert np.array_equal(values[:, 0], sample.labels)
