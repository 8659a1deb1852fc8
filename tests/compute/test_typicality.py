"""z's log density under a sample's aggregate posterior (exact mixture and Gaussian fit), its
percentile among the data's means, and under the prior: against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from explorer.compute import typicality


@pytest.fixture
def posterior():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(40, 5)) * np.array([2.0, 1.0, 0.5, 1.5, 0.2]) + 0.3
    logvar = rng.uniform(-3.0, 0.5, size=(40, 5))
    return mu, logvar


def test_prior_log_density_is_scipys_standard_normal():
    z = np.array([0.5, -1.0, 2.0])
    expected = stats.multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z)
    assert typicality.prior_log_density(z) == pytest.approx(expected)
    assert typicality.prior_log_density(np.zeros(4)) == pytest.approx(-2 * math.log(2 * math.pi))


def test_mixture_log_density_is_scipys_mixture(posterior):
    mu, logvar = posterior
    points = np.random.default_rng(2).normal(size=(7, 5))
    got = typicality.mixture_log_density(points, mu, logvar)
    for x, value in zip(points, got, strict=True):
        each = [
            stats.multivariate_normal(m, np.diag(np.exp(v))).logpdf(x)
            for m, v in zip(mu, logvar, strict=True)
        ]
        assert value == pytest.approx(logsumexp(each) - math.log(len(mu)))


def test_mixture_of_one_unit_component_by_hand():
    # one component N(1, 1) in one dimension: log q(3) = -½ log 2π - 2
    got = typicality.mixture_log_density([[3.0]], [[1.0]], [[0.0]])
    assert got[0] == pytest.approx(-0.5 * math.log(2 * math.pi) - 2.0)


def test_blocks_give_the_same_densities(posterior, monkeypatch):
    mu, logvar = posterior
    whole = typicality.mixture_log_density(mu, mu, logvar)
    monkeypatch.setattr(typicality, "CHUNK", 1)  # one point per block
    np.testing.assert_allclose(typicality.mixture_log_density(mu, mu, logvar), whole)


def test_far_points_stay_finite():
    """logsumexp: a z far from every component has a very low, finite density."""
    got = typicality.mixture_log_density([[40.0, 40.0]], [[0.0, 0.0]], [[-6.0, -6.0]])
    assert np.isfinite(got[0]) and got[0] < -1e5


def test_percentile_is_scipys_strict_rank():
    values = np.sort(np.random.default_rng(3).normal(size=50))
    for v in [-5.0, values[0], values[10], 0.1, values[-1], 5.0]:
        expected = stats.percentileofscore(values, v, kind="strict")
        assert typicality.percentile(v, values) == pytest.approx(expected)


def test_held_out_density_is_scipys_mixture_of_the_others(posterior):
    mu, logvar = posterior
    got = typicality.held_out_log_density(mu, logvar)
    for j in [0, 17, 39]:
        others = [i for i in range(len(mu)) if i != j]
        expected = typicality.mixture_log_density(mu[j], mu[others], logvar[others])[0]
        assert got[j] == pytest.approx(expected)
    # without hold-out each mean's own component lifts it: a different, higher density
    assert np.all(typicality.mixture_log_density(mu, mu, logvar) > got)


def test_held_out_blocks_mask_the_right_component(posterior, monkeypatch):
    mu, logvar = posterior
    whole = typicality.held_out_log_density(mu, logvar)
    monkeypatch.setattr(typicality, "CHUNK", 7 * mu.size)  # blocks of 7 rows
    np.testing.assert_allclose(typicality.held_out_log_density(mu, logvar), whole)


def test_aggregate_places_z_among_the_datas_held_out_means(posterior):
    mu, logvar = posterior
    agg = typicality.Aggregate.of(mu, logvar)
    np.testing.assert_allclose(agg.data_log_q, np.sort(typicality.held_out_log_density(mu, logvar)))
    centre = agg.where(mu.mean(axis=0))
    assert not centre.off_manifold and centre.percentile > 1.0
    assert centre.percentile == pytest.approx(
        stats.percentileofscore(agg.data_log_q, centre.log_q, kind="strict")
    )
    far = agg.where(np.full(5, 4.0))
    assert far.off_manifold and far.percentile == 0.0
    assert far.log_q < agg.data_log_q[0]
    assert far.log_prior == pytest.approx(typicality.prior_log_density(np.full(5, 4.0)))
    assert far.log_q == pytest.approx(agg.log_density(np.full(5, 4.0)))
    assert type(far.percentile) is float and type(far.off_manifold) is bool


def test_gaussian_fit_matches_the_mixtures_moments_and_scipy(posterior):
    mu, logvar = posterior
    fit = typicality.GaussianFit.of(mu, logvar)
    # the mixture's moments, drawn: mean and covariance of many samples of it
    rng = np.random.default_rng(4)
    which = rng.integers(0, len(mu), size=200_000)
    draws = mu[which] + np.exp(0.5 * logvar[which]) * rng.normal(size=(200_000, 5))
    np.testing.assert_allclose(fit.mean, draws.mean(axis=0), atol=0.02)
    np.testing.assert_allclose(fit.covariance, np.cov(draws, rowvar=False), atol=0.04)
    reference = stats.multivariate_normal(fit.mean, fit.covariance)
    points = rng.normal(size=(6, 5))
    np.testing.assert_allclose(fit.log_densities(points), reference.logpdf(points))
    np.testing.assert_allclose(fit.data_log_q, np.sort(reference.logpdf(mu)))
    assert np.allclose(fit.whiten, np.tril(fit.whiten))  # lower triangular, for the page
    far = fit.where(np.full(5, 6.0))
    assert far.off_manifold and far.percentile == 0.0
    assert not fit.where(fit.mean).off_manifold


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError):
        typicality.mixture_log_density(np.zeros((1, 3)), np.zeros((4, 2)), np.zeros((4, 2)))
