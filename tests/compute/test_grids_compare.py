"""explorer.compute.grids for comparing models: their order by β, the same prior draws decoded by
each, and the cell of a mosaic as a box (the inverse of the cell under a point)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import checkpoint
from explorer.compute import decoding, grids


@pytest.fixture(scope="module")
def nets(ckpt12, tmp_path_factory):
    from conftest import make_checkpoint

    other = make_checkpoint(tmp_path_factory.mktemp("other") / "other.pth", 12, seed=7)
    return [checkpoint.load(ckpt12).model, checkpoint.load(other).model]


def test_by_beta_smallest_first_unknown_last_ties_kept():
    betas = {"b10": 10.0, "none1": None, "b1": 1.0, "b0.1": 0.1, "b1-again": 1.0, "none2": None}
    assert grids.by_beta(betas) == ["b0.1", "b1", "b1-again", "b10", "none1", "none2"]
    assert grids.by_beta({0: 4.0, 1: 0.5}) == [1, 0]
    assert grids.by_beta({}) == []


def test_prior_draws_are_the_seeds_and_the_same_for_every_model():
    draws = grids.prior_draws(12, 5, seed=9)
    assert draws.shape == (5, 12) and draws.dtype == np.float32
    np.testing.assert_array_equal(draws, grids.prior_draws(12, 5, seed=9))
    assert not np.array_equal(draws, grids.prior_draws(12, 5, seed=10))
    for n in (12, 32):  # asking for more draws keeps the first ones
        np.testing.assert_array_equal(
            grids.prior_draws(n, 8, seed=9)[:4], grids.prior_draws(n, 4, seed=9)
        )
    assert abs(grids.prior_draws(12, 256, seed=0).std() - 1) < 0.05  # N(0, I)


def test_compare_image_one_row_per_model_z_then_the_draws(nets):
    z = np.linspace(-1, 1, 12, dtype=np.float32)
    draws = grids.prior_draws(12, 3, seed=1)
    image = grids.compare_image(nets, z, draws)
    assert image.shape == (2 * 29 + 1, 4 * 29 + 1)
    latents = np.concatenate([z[None], draws])
    each = grids.decoded_by_each(nets, latents)
    assert each.shape == (2, 4, 28, 28)
    for row, net in enumerate(nets):
        np.testing.assert_array_equal(each[row], decoding.decode(net, latents))
        for col in range(4):
            top, left = 1 + 29 * row, 1 + 29 * col
            np.testing.assert_array_equal(image[top : top + 28, left : left + 28], each[row, col])
    assert not np.array_equal(each[0], each[1])  # two models: two readings of the same z


def test_cell_bounds_is_the_inverse_of_cell_index():
    count, ncols = 37, 8
    for index in range(count):
        left, top, right, bottom = grids.cell_bounds(index, ncols, 28, 1)
        assert (right - left, bottom - top) == (28, 28)
        for x, y in [(left, top), (right - 0.5, bottom - 0.5), ((left + right) / 2, top + 3)]:
            assert grids.cell_index(x, y, count, ncols, 28, 1) == index
    assert grids.cell_bounds(0, ncols, 28, 1) == (1, 1, 29, 29)
    assert grids.cell_bounds(9, ncols, 28, 1) == (30, 30, 58, 58)
