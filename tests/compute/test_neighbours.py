"""The k posterior means nearest z (``neighbours.nearest``), against a brute-force sort."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.compute import neighbours


def test_nearest_are_the_k_smallest_distances_in_order():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(300, 12))
    z = rng.normal(size=12)
    found = neighbours.nearest(z, means)
    distances = np.linalg.norm(means - z, axis=1)
    expected = np.argsort(distances, kind="stable")[: neighbours.K]
    assert found.indices.tolist() == expected.tolist()
    np.testing.assert_allclose(found.distances, distances[expected])
    assert np.all(np.diff(found.distances) >= 0)


def test_hand_computed_distances_and_ties_go_to_the_lower_index():
    means = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [10.0, 0.0]])
    found = neighbours.nearest([0.0, 0.0], means, k=3)
    assert found.indices.tolist() == [1, 2, 3]  # three at distance 1, by index
    assert found.distances.tolist() == [1.0, 1.0, 1.0]
    found = neighbours.nearest([0.0, 0.0], means, k=4)
    assert found.indices.tolist() == [1, 2, 3, 0] and found.distances[-1] == 5.0


def test_a_tie_at_the_cut_keeps_the_lower_index():
    means = np.array([[0.0, 2.0], [0.0, 1.0], [2.0, 0.0], [-2.0, 0.0], [0.0, -2.0]])
    found = neighbours.nearest([0.0, 0.0], means, k=2)
    assert found.indices.tolist() == [1, 0]  # four at distance 2: the first of them


def test_fewer_images_than_k_gives_them_all():
    found = neighbours.nearest([0.0], np.array([[2.0], [-1.0]]), k=8)
    assert found.indices.tolist() == [1, 0]
    assert found.distances.tolist() == [1.0, 2.0]


def test_mismatched_sizes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        neighbours.nearest(np.zeros(3), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="k"):
        neighbours.nearest(np.zeros(4), np.zeros((5, 4)), k=0)
