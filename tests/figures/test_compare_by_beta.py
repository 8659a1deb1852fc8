"""`vae-explorer figure compare` against the zoo siblings: columns by β, this model in its place;
a model outside the zoo compared with nothing else gets one column."""

from __future__ import annotations

import numpy as np

from explorer import checkpoint
from explorer.cli import figure
from explorer.compute import decoding, grids
from explorer.figures.png import to_uint8


def test_the_default_comparison_is_by_beta():
    this = checkpoint.load("mnist-beta10")
    fig = figure.make_still("compare", this, count=3, seed=5, scale=1)
    draws = grids.prior_draws(12, 3, 5)
    nets = [checkpoint.load(name).model for name in ("mnist-beta0.1", "mnist-beta1")]
    for col, net in enumerate([*nets, this.model]):  # this model, β = 10, last
        expected = to_uint8(decoding.decode(net, draws))
        for row in range(3):
            np.testing.assert_array_equal(fig.cell(row, col), expected[row])


def test_a_model_outside_the_zoo_alone(loaded):
    fig = figure.make_still("compare", loaded, count=2, scale=1)
    assert len(fig.cells) == 2 and len(fig.cells[0]) == 1
