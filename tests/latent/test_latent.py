"""LatentModel logic without a browser: change a parameter, check the model followed."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from explorer import checkpoint
from explorer.compute import noise
from explorer.compute.decoding import decode_image
from explorer.latent.space import LatentModel
from explorer.latent.table import DRAWN_SEED_BOUNDS, SEED_BOUNDS


@pytest.fixture
def model(ckpt12) -> LatentModel:
    return LatentModel(checkpoint=str(ckpt12), rng_seed=7)


def reference_image(path, z) -> np.ndarray:
    net = checkpoint.load(path).model
    return decode_image(net, np.asarray(z, dtype=np.float32))


def test_loads_and_decodes(model, ckpt12):
    assert model.message == ""
    assert model.info.latent_dim == 12
    assert model.mu == [0.0] * 12 and model.sigma == [1.0] * 12
    assert model.image.shape == (28, 28) and model.image.dtype == np.float32
    assert model.image.min() >= 0.0 and model.image.max() <= 1.0
    np.testing.assert_allclose(model.image, reference_image(ckpt12, model.z), atol=1e-6)


def test_sample_mode_is_mu_plus_sigma_eps(model):
    eps = noise.standard_normal(model.seed, 12)
    model.mu = [0.5] * 12
    model.sigma = [2.0] * 12
    np.testing.assert_allclose(model.z, 0.5 + 2.0 * eps, atol=1e-6)


def test_sigma_zero_is_deterministic(model):
    model.param.update(mu=[0.25] * 12, sigma=[0.0] * 12)
    first = model.image.copy()
    model.param.trigger("resample")
    np.testing.assert_allclose(model.z, [0.25] * 12, atol=1e-7)
    np.testing.assert_array_equal(model.image, first)


def test_slider_move_changes_image(model):
    before = model.image.copy()
    model.set_value("mu", 3, 2.5)
    assert model.mu[3] == 2.5
    assert not np.array_equal(before, model.image)


def test_prior_mode_ignores_mu(model):
    model.mode = "prior"
    z = model.z.copy()
    model.mu = [3.0] * 12
    np.testing.assert_array_equal(model.z, z)
    eps = noise.standard_normal(model.seed, 12)
    np.testing.assert_allclose(z, eps, atol=1e-7)


def test_deterministic_mode_uses_z_exactly(model, ckpt12):
    model.mode = "deterministic"
    values = [(-1) ** i * 0.1 * i for i in range(12)]
    model.z_set = values
    np.testing.assert_allclose(model.z, values, atol=1e-7)
    np.testing.assert_allclose(model.image, reference_image(ckpt12, values), atol=1e-6)


def test_resample_changes_seed_and_z(model):
    seed, z = model.seed, model.z.copy()
    model.param.trigger("resample")
    assert model.seed != seed
    assert not np.allclose(model.z, z)


def test_drawn_seeds_are_short_but_any_seed_works(model):
    """Resample draws seeds one can read aloud; a seed typed or linked may be any in bounds."""
    seeds = set()
    for _ in range(200):
        model.param.trigger("resample")
        seeds.add(model.seed)
    assert len(seeds) > 150
    assert all(DRAWN_SEED_BOUNDS.holds(seed) for seed in seeds)
    assert DRAWN_SEED_BOUNDS.high == 99_999 and SEED_BOUNDS.high > DRAWN_SEED_BOUNDS.high
    model.seed = SEED_BOUNDS.high
    np.testing.assert_allclose(model.z, noise.standard_normal(SEED_BOUNDS.high, 12), atol=1e-6)


def test_switching_to_the_prior_draws_a_new_seed(model):
    """At μ = 0, σ = 1 the prior at the same seed gives sample mode's z: switching to it draws a
    new seed, so that the image changes, and decodes once, with that seed."""
    seed, image = model.seed, model.image.copy()
    images = []
    model.param.watch(lambda event: images.append(event.new), "image")
    model.mode = "prior"
    assert model.seed != seed and DRAWN_SEED_BOUNDS.holds(model.seed)
    assert len(images) == 1 and images[0] is model.image
    assert not np.array_equal(model.image, image)
    np.testing.assert_allclose(model.z, noise.standard_normal(model.seed, 12), atol=1e-7)
    seed = model.seed
    model.mode = "prior"  # already there: nothing new
    model.param.update(mode="prior")
    assert model.seed == seed
    model.mode = "deterministic"
    assert model.seed == seed
    model.mode = "prior"
    assert model.seed != seed


@pytest.mark.parametrize("seed", [0, 31337])
def test_a_seed_given_with_the_prior_wins(model, seed):
    """A link or a JSON state sets mode and seed together: its seed is kept, even the old one."""
    model.param.update(mode="prior", seed=seed)
    assert model.mode == "prior" and model.seed == seed
    np.testing.assert_allclose(model.z, noise.standard_normal(seed, 12), atol=1e-7)


def test_same_seed_reproduces_image(ckpt12):
    a = LatentModel(checkpoint=str(ckpt12), seed=1234, mu=[0.3] * 12, sigma=[0.7] * 12)
    b = LatentModel(checkpoint=str(ckpt12), rng_seed=99)
    b.param.update(seed=1234, mu=[0.3] * 12, sigma=[0.7] * 12)
    np.testing.assert_array_equal(a.image, b.image)


def test_sessions_have_independent_generators(ckpt12):
    a = LatentModel(checkpoint=str(ckpt12))
    b = LatentModel(checkpoint=str(ckpt12))
    a.param.trigger("resample")
    assert b.seed == 0 and a.seed != 0
    a.mu = [1.0] * 12
    assert b.mu == [0.0] * 12


def test_reset_and_randomize(model):
    model.param.trigger("randomize_mu")
    assert any(v != 0 for v in model.mu)
    assert all(-3 <= v <= 3 for v in model.mu)
    model.sigma = [0.5] * 12
    model.param.trigger("reset")
    assert model.mu == [0.0] * 12 and model.sigma == [1.0] * 12 and model.z_set == [0.0] * 12


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mu", 3.5),
        ("mu", -3.01),
        ("sigma", -0.1),
        ("sigma", 2.5),
        ("mu", float("nan")),
        ("z_set", 10**400),  # past float's range: refused by its size, no OverflowError
    ],
)
def test_bounds_enforced(model, name, value):
    values = list(getattr(model, name))
    values[0] = value
    with pytest.raises(ValueError):
        setattr(model, name, values)
    assert getattr(model, name)[0] != value or np.isnan(value)


def test_bounds_messages_name_the_position(model):
    with pytest.raises(ValueError, match=re.escape("mu[1] = 3.5 is outside [-3, 3]")):
        model.mu = [0.0, 3.5] + [0.0] * 10
    with pytest.raises(ValueError, match=re.escape("sigma[0] = nan is not a finite number")):
        model.sigma = [math.nan] + [1.0] * 11
    with pytest.raises(ValueError, match=re.escape("z_set[0] = an integer of 401 digits")):
        model.z_set = [10**400] + [0.0] * 11
    assert model.mu == [0.0] * 12 and model.sigma == [1.0] * 12


@pytest.mark.parametrize("mode", ["sample", "prior", "deterministic"])
def test_place_puts_two_dimensions_of_z_on_a_point(model, mode):
    """A click on the 2-D map: μ there with σ = 0 in sample mode (z lands on the point), else z
    set exactly, from the prior's z too; rounded as the sliders show and clamped to their
    bounds; the other dimensions stay as they were."""
    model.param.update(mode=mode, mu=[0.5] * 12, sigma=[0.7] * 12, z_set=[0.25] * 12)
    before = model.current_z()
    model.place((4, 9), (1.234, -9.0))
    z = model.current_z()
    low = -3.0 if mode == "sample" else -4.0  # μ's bound, or z's
    assert z[4] == pytest.approx(1.23) and z[9] == low
    np.testing.assert_allclose(np.delete(z, [4, 9]), np.delete(before, [4, 9]), atol=1e-6)
    if mode == "sample":
        assert model.sigma[4] == model.sigma[9] == 0.0 and model.sigma[0] == 0.7
        assert model.z_set == [0.25] * 12
    else:
        assert model.mode == "deterministic" and model.mu == [0.5] * 12
    with pytest.raises(ValueError, match="not a finite number"):
        model.place((0, 1), (math.nan, 0.0))
    np.testing.assert_array_equal(model.current_z(), z)  # refused whole


def test_set_posterior_samples_from_it_within_the_sliders_bounds(model):
    """An encoded image's q(z|x) = N(μ, σ²): sample mode, values rounded as the sliders show
    them and clamped; it says how many lay outside."""
    model.mode = "prior"
    mu = np.array([0.123456, -3.5, 3.2] + [0.0] * 9, np.float32)
    sigma = np.array([0.5, 2.5, 1.99999] + [1.0] * 9, np.float32)
    assert model.set_posterior(mu, sigma) == 3  # two μ beyond ±3, one σ above 2
    assert model.mode == "sample"
    assert model.mu[:3] == [0.1235, -3.0, 3.0] and model.sigma[:3] == [0.5, 2.0, 2.0]
    np.testing.assert_allclose(
        model.z, np.add(model.mu, np.multiply(model.sigma, model.epsilon())), atol=1e-6
    )
    assert model.set_posterior(np.zeros(12), np.ones(12)) == 0
    assert model.mu == [0.0] * 12 and model.sigma == [1.0] * 12
    with pytest.raises(ValueError, match="not a finite number"):
        model.set_posterior(np.zeros(12), np.full(12, np.nan))
    assert model.sigma == [1.0] * 12


def test_seed_bounds(model):
    with pytest.raises(ValueError):
        model.seed = -1


def test_checkpoint_change_resizes_lists(model, ckpt20):
    model.mu = [0.5] * 12
    model.checkpoint = str(ckpt20)
    assert model.info.latent_dim == 20
    assert model.mu == [0.5] * 12 + [0.0] * 8
    assert model.sigma == [1.0] * 20
    assert model.z.shape == (20,)


def test_same_latent_size_keeps_values(model, checkpoint_factory):
    other = checkpoint_factory("other.pth", 12, seed=5)
    model.mu = [0.7] * 12
    before = model.image.copy()
    model.checkpoint = str(other)
    assert model.mu == [0.7] * 12
    assert not np.array_equal(before, model.image)


def test_failed_load_keeps_previous_model(model, tmp_path):
    image, info = model.image.copy(), model.info
    model.checkpoint = str(tmp_path / "missing.pth")
    assert "not found" in model.message and "\n" not in model.message
    assert model.info is info
    np.testing.assert_array_equal(model.image, image)
    model.set_value("mu", 0, 1.0)  # still working
    assert not np.array_equal(model.image, image)
    model.checkpoint = str(info.path)
    assert model.message == ""


def test_statistics(model):
    model.param.update(mu=[float(i % 3) for i in range(12)], sigma=[0.5] * 12)
    stats = model.statistics()
    mu = [i % 3 for i in range(12)]
    assert stats["mu_mean"] == pytest.approx(np.mean(mu))
    assert stats["mu_std"] == pytest.approx(np.std(mu))
    assert stats["sigma_mean"] == pytest.approx(0.5)
    assert stats["sigma_std"] == pytest.approx(0.0)
    z = model.z.astype(np.float64)
    assert stats["z_mean"] == pytest.approx(z.mean())
    assert stats["z_std"] == pytest.approx(z.std())
    assert stats["z_min"] == pytest.approx(float(model.z.min()))
    assert stats["z_max"] == pytest.approx(float(model.z.max()))
    assert all(isinstance(value, float) for value in stats.values())


@pytest.mark.parametrize("mode", ["prior", "deterministic"])
def test_statistics_show_only_what_applies(model, mode):
    """μ and σ do not make z in prior or set-z mode: no figures of them, only z's."""
    model.param.update(mu=[1.0] * 12, mode=mode)
    stats = model.statistics()
    assert sorted(stats) == ["z_max", "z_mean", "z_min", "z_std"]
    assert stats["z_mean"] == pytest.approx(float(model.z.astype(np.float64).mean()))


def test_unbuilt_or_bad_initial_checkpoint_gives_message(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    model = LatentModel(checkpoint=str(bad))
    assert model.message and model.image is None
