"""Typicality on the living page: the Gaussian fit of the aggregate posterior that travels in the
file, evaluated by pages/js/typicality.js in headless Chromium offline, against
``typicality.GaussianFit`` in Python; the off-manifold warning far out, none at z = 0."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import open_offline
from pagejs import FIND, IMAGE

from explorer import names
from explorer.compute import decoding, typicality
from explorer.data import samples
from explorer.latent.space import LatentModel
from explorer.pages import living

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
Z_SHOWN = f"() => Array.from(({FIND})('{names.BARS_SOURCE}').data.z)"
SHOWN = "() => window.vaeTypicalityShown"


@pytest.fixture(scope="module")
def fit():
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=0)
    sample = samples.load_sample("mnist-beta1", None)
    return typicality.GaussianFit.of(*decoding.posterior(model.vae, sample.images))


def page_for(browser, tmp_path, z: list[float]):
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=0)
    model.param.update(mode="deterministic", z_set=z)
    path = living.export_html(model, tmp_path / "live.html")
    page, log = open_offline(browser, path, viewport={"width": 1300, "height": 1000})
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.wait_for_function(f"() => ({SHOWN})() !== undefined", timeout=30000)
    return page, log


def check_against_python(page, fit) -> typicality.Typicality:
    z = np.asarray(page.evaluate(Z_SHOWN), dtype=np.float64)
    shown = page.evaluate(SHOWN)
    expected = fit.where(z)
    assert shown["logq"] == pytest.approx(expected.log_q, rel=1e-9, abs=1e-9)
    assert shown["logp"] == pytest.approx(expected.log_prior, rel=1e-9, abs=1e-9)
    assert shown["percentile"] == pytest.approx(expected.percentile)
    assert shown["off"] is expected.off_manifold
    return expected


def test_the_fit_travels_as_json_the_script_reads(fit):
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=0)
    fitted, sample = living.typicality_fit(model)
    data = json.loads(living.fit_json(fitted, sample))
    np.testing.assert_allclose(data["mean"], fit.mean)
    assert [len(row) for row in data["whiten"]] == list(range(1, 13))  # lower triangle
    assert data["data"] == sorted(data["data"]) and len(data["data"]) == len(sample)
    assert "Gaussian fit" in data["form"]


def test_far_out_warns_and_follows_a_slider(browser, tmp_path, fit):
    page, log = page_for(browser, tmp_path, [4.0] * 12)
    warning = page.locator(f"#{names.OFF_MANIFOLD}")
    assert check_against_python(page, fit).off_manifold
    assert warning.is_visible() and warning.inner_text() == typicality.WARNING
    line = page.locator(f"#{names.TYPICALITY}").inner_text()
    assert "percentile 0 of the data" in line and "Gaussian fit" in line
    before = page.evaluate(SHOWN)["logq"]
    handle = page.locator(f".{names.z_slider(0)} .noUi-handle").first
    handle.focus()
    handle.press("Home")  # z₀ = −4: a new density, still far out
    page.wait_for_function(f"(b) => ({SHOWN})().logq !== b", arg=before, timeout=10000)
    check_against_python(page, fit)
    assert log["errors"] == [] and log["refused"] == []


def test_z_zero_does_not_warn(browser, tmp_path, fit):
    page, log = page_for(browser, tmp_path, [0.0] * 12)
    where = check_against_python(page, fit)
    assert not where.off_manifold and where.percentile > 1
    assert not page.locator(f"#{names.OFF_MANIFOLD}").is_visible()
    assert log["errors"] == [] and log["refused"] == []
