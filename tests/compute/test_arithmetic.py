"""Latent arithmetic (``explorer.compute.arithmetic``) and the principal plane of the 2-D map
(``explorer.compute.projection``), on numbers whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.compute import arithmetic, projection


def test_class_means_average_each_label_and_mark_a_missing_class():
    mu = np.array([[0.0, 2.0], [2.0, 4.0], [10.0, -1.0], [5.0, 5.0]])
    means, counts = arithmetic.class_means(mu, [0, 0, 2, 2], 4)
    np.testing.assert_allclose(means[0], [1.0, 3.0])
    np.testing.assert_allclose(means[2], [7.5, 2.0])
    assert np.isnan(means[1]).all() and np.isnan(means[3]).all()
    assert counts.tolist() == [2, 0, 2, 0]
    assert means.dtype == np.float32


def test_class_means_refuse_labels_that_do_not_fit():
    with pytest.raises(ValueError, match="3 labels"):
        arithmetic.class_means(np.zeros((4, 2)), [0, 1, 2], 3)


def test_towards_runs_from_a_to_b():
    a, b = np.array([1.0, -1.0]), np.array([3.0, 1.0])
    path = arithmetic.towards(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], a)
    np.testing.assert_allclose(path[-1], b)
    np.testing.assert_allclose(path[2], [2.0, 0.0])
    np.testing.assert_allclose(arithmetic.towards(a, b, 0.25)[0], [1.5, -0.5])


def test_analogy_is_a_minus_b_plus_c():
    out = arithmetic.analogy([1, 2, 3], [1, 0, 1], [0, 5, 0])
    np.testing.assert_allclose(out, [0, 7, 2])


def test_default_analogy_is_a_seven_and_two_different_ones():
    classes = tuple(str(d) for d in range(10))
    labels = np.array([3, 1, 7, 1, 7, 1])
    a, b, c = arithmetic.default_terms(labels, classes)
    assert (a, b, c) == (2, 1, 3)


def test_default_analogy_without_those_classes_still_picks_three_images():
    classes = ("cat", "dog")
    a, b, c = arithmetic.default_terms([0, 0, 1, 1], classes)
    assert labels_of([0, 0, 1, 1], (a, b, c)) == [0, 1, 1] and b != c
    assert arithmetic.default_terms([0], ("only",)) == (0, 0, 0)  # one image: all three


def labels_of(labels, indices):
    return [labels[k] for k in indices]


def test_principal_plane_finds_the_directions_of_most_variance():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((500, 2)) * [5.0, 2.0]
    basis = np.linalg.qr(rng.standard_normal((6, 6)))[0][:, :2].T  # 2 orthonormal rows in 6-d
    points = scores @ basis + 0.01 * rng.standard_normal((500, 6)) + 3.0
    plane = projection.principal_plane(points)
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-9)
    assert abs(plane.axes[0] @ basis[0]) == pytest.approx(1.0, abs=1e-3)
    assert abs(plane.axes[1] @ basis[1]) == pytest.approx(1.0, abs=1e-3)
    assert plane.explained[0] > plane.explained[1] > 0.1 and sum(plane.explained) <= 1
    np.testing.assert_allclose(plane.origin, points.mean(axis=0))
    again = projection.principal_plane(points[::-1])  # the same data: the same signs
    np.testing.assert_allclose(again.axes, plane.axes, atol=1e-9)


def test_principal_plane_needs_two_points_of_two_dimensions():
    with pytest.raises(ValueError, match="N ≥ 2"):
        projection.principal_plane(np.zeros((1, 4)))


def test_moved_puts_z_at_the_point_and_keeps_what_lies_off_the_plane():
    rng = np.random.default_rng(1)
    plane = projection.principal_plane(rng.standard_normal((50, 5)) * [3, 2, 1, 0.5, 0.1])
    z = rng.standard_normal(5).astype(np.float32)
    moved = plane.moved(z, (1.5, -0.5))
    np.testing.assert_allclose(plane.coordinates(moved), [1.5, -0.5], atol=1e-5)
    off = np.eye(5) - plane.axes.T @ plane.axes  # the projection off the plane
    np.testing.assert_allclose(off @ moved, off @ z, atol=1e-5)


def test_grid_rows_run_top_down_and_columns_left_right():
    plane = projection.Plane(np.zeros(3), np.array([[1.0, 0, 0], [0, 1.0, 0]]), (0.5, 0.3))
    grid = plane.grid([9.0, 9.0, 7.0], [-1.0, 0.0, 1.0])
    assert grid.shape == (3, 3, 3)
    np.testing.assert_allclose(grid[0, 2], [1.0, 1.0, 7.0])  # top right: largest x and y
    np.testing.assert_allclose(grid[2, 0], [-1.0, -1.0, 7.0])
