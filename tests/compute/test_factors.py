"""Mutual information between latent dimensions and factors, and MIG (Chen et al. 2018), checked
on codes whose answer is known: a copy of the factors, a mixture of them, and noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer.compute import factors

N = 4000


@pytest.fixture(scope="module")
def truth():
    rng = np.random.default_rng(0)
    shape = rng.integers(0, 4, N)
    values = rng.uniform(0, 1, (N, 2))
    return np.column_stack([shape, values])


def test_information_of_labels_with_themselves_is_their_entropy():
    labels = np.repeat(np.arange(4), 8)
    assert factors.entropy(labels) == pytest.approx(math.log(4))
    assert factors.mutual_information(labels, labels) == pytest.approx(math.log(4))
    independent = np.tile(np.repeat(np.arange(4), 2), 4)  # every pair of values equally often
    assert factors.mutual_information(labels, independent) == pytest.approx(0.0, abs=1e-12)


def test_discretize_bins_each_column_over_its_range():
    values = np.column_stack([np.linspace(0, 1, 100), np.linspace(-5, 5, 100)])
    binned = factors.discretize(values, bins=20)
    assert binned.min() == 0 and binned.max() == 19
    assert np.bincount(binned[:, 0]).tolist() == [5] * 20


def test_codes_that_copy_the_factors_score_a_mig_near_one(truth):
    """z1 = x, z2 = noise, z3 = the shape with noise, z4 = y: each factor has its own dimension."""
    rng = np.random.default_rng(1)
    codes = np.column_stack([
        truth[:, 1], rng.normal(size=N), truth[:, 0] + 0.05 * rng.normal(size=N), truth[:, 2],
    ])  # fmt: skip
    scores = factors.scores(codes, truth, ("shape", "x", "y"), discrete=("shape",))
    assert scores.best == (2, 0, 3)
    assert scores.mig > 0.8
    assert scores.to_dict()["best_dimension"] == {"shape": "z3", "x": "z1", "y": "z4"}


def test_codes_that_mix_two_factors_score_a_low_gap_for_them(truth):
    """z1 = x + y and z2 = x − y: both dimensions know x and y alike, so neither stands out."""
    x, y = truth[:, 1], truth[:, 2]
    codes = np.column_stack([x + y, x - y, truth[:, 0]])
    scores = factors.scores(codes, truth, ("shape", "x", "y"), discrete=("shape",))
    gaps = dict(zip(scores.names, scores.gaps, strict=True))
    assert gaps["shape"] > 0.8
    assert gaps["x"] < 0.2 and gaps["y"] < 0.2
