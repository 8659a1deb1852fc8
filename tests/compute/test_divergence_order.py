"""The one rule by which the sliders and every view list a model's dimensions
(``divergence.dimension_order``), and the variance behind the active units."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.compute import divergence


def test_without_usage_dimensions_go_by_index_none_greyed():
    order = divergence.dimension_order(20)
    assert order.pages == (tuple(range(16)), (16, 17, 18, 19))
    assert order.dims == list(range(20))
    assert order.inactive == frozenset() and not order.by_kl
    assert order.labels() == ["1–16", "17–20"]  # the dimensions, from 1


def test_by_kl_most_used_first_paged_and_the_inactive_greyed():
    kl = np.array([0.0, 3.0, 0.5, 3.0, 0.0, 1.0])
    active = np.array([False, True, True, True, False, True])
    order = divergence.dimension_order(6, (kl, active), size=4)
    assert order.dims == [1, 3, 5, 2, 0, 4]  # most KL first; a tie goes by index
    assert order.pages == ((1, 3, 5, 2), (0, 4))
    assert order.inactive == frozenset({0, 4})
    assert order.by_kl and order.labels() == ["by KL 1–4", "by KL 5–6"]  # ranks, from 1


def test_a_model_of_one_page_is_still_ordered_by_kl():
    """12 dimensions fit one page: ordering must not depend on the model needing pages."""
    rng = np.random.default_rng(0)
    kl = rng.random(12)
    order = divergence.dimension_order(12, (kl, kl > 0.5))
    assert len(order.pages) == 1
    assert order.dims == list(np.argsort(-kl, kind="stable"))
    assert order.inactive == frozenset(int(d) for d in np.flatnonzero(kl <= 0.5))


def test_mismatched_usage_is_refused():
    with pytest.raises(ValueError, match="3 values for 4"):
        divergence.dimension_order(4, (np.ones(3), np.ones(3, bool)))
    with pytest.raises(ValueError, match="active mask has 3 values for 4"):
        divergence.dimension_order(4, (np.ones(4), np.ones(3, bool)))


def test_active_units_are_the_variance_of_mu_past_the_threshold():
    mu = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.2], [0.0, 1.0, -0.2]])
    variance = divergence.mean_variance(mu)
    np.testing.assert_allclose(variance, mu.var(axis=0))
    np.testing.assert_array_equal(divergence.active_units(mu), variance > 0.01)
    assert list(divergence.active_units(mu)) == [False, True, True]
    near = np.array([[0.095, 0.105], [-0.095, -0.105]])  # variances 0.009025 and 0.011025
    assert list(divergence.active_units(near)) == [False, True]
