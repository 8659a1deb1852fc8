"""Where z stands (explorer.app.whereami), server side without a browser: the strip holds the
sample's images nearest z, the typicality line and warning follow z, a strip image loads its
posterior, and a model of another latent size (or with no sample) changes it without an error."""

from __future__ import annotations

import html

import numpy as np
import pytest
from conftest import make_checkpoint

from explorer.app.views.session import SessionData
from explorer.app.whereami import WhereAmI
from explorer.compute import decoding, neighbours, typicality
from explorer.data import samples


@pytest.fixture
def where(model):
    return WhereAmI(model, SessionData(model))  # no server: it prepares at once


def text(model) -> str:
    return html.unescape(model.text)


def test_the_strip_shows_the_images_nearest_z(where, model):
    sample = samples.load_sample("mnist-beta1", None)
    mu, _ = decoding.posterior(model.vae, sample.images)
    expected = neighbours.nearest(model.z, mu).indices
    assert where.shown.tolist() == expected.tolist()
    shown = np.asarray(where.plot.source.data["image"][0])[::-1]  # rows as Bokeh holds them
    first = decoding.as_images(sample.images[expected[0]], sample.shape)[0]
    np.testing.assert_array_equal(shown[1:29, 1:29], np.round(first * 255).astype(np.uint8))
    captions = text(where._caption)
    label = sample.classes[int(sample.labels[expected[0]])]
    assert captions.count("<br>") == neighbours.K and f">{label}<br>" in captions
    model.set_value("mu", 0, 3.0)
    assert where.shown.tolist() == neighbours.nearest(model.z, mu).indices.tolist()
    assert where.shown.tolist() != expected.tolist()


def test_typicality_follows_z_and_warns_far_out(where, model):
    model.param.update(mode="deterministic", z_set=[4.0] * 12)
    line = text(where._typicality)
    assert "percentile 0 of the data" in line and "exact mixture" in line
    assert where._warning.visible and where._warning.object == typicality.WARNING
    model.z_set = [0.0] * 12
    expected = where.prepared.aggregate.where(np.zeros(12))
    assert not where._warning.visible and not expected.off_manifold
    assert f"log q(z) = {expected.log_q:.1f} (percentile {expected.percentile:.0f}" in text(
        where._typicality
    )
    assert f"log p(z) under N(0, I) = {expected.log_prior:.1f}" in text(where._typicality)


def test_a_strip_image_loads_its_posterior(where, model):
    index = int(where.shown[2])
    where.select(index)
    mu, sigma = where.prepared.mu[index], where.prepared.sigma[index]
    assert model.mode == "sample"
    np.testing.assert_allclose(model.mu, np.round(mu, 4), atol=0.01)
    np.testing.assert_allclose(model.sigma, np.round(sigma, 4), atol=0.01)
    assert where.data.encoded is not None and where.shown[0] == index  # nearest its own mean


def test_another_latent_size_and_back(where, model, tmp_path):
    model.checkpoint = str(make_checkpoint(tmp_path / "random20.pth", 20, seed=2))  # mnist-5k
    assert model.latent_dim == 20 and model.message == ""
    assert where.prepared.mu.shape[1] == 20
    assert where.shown.tolist() == neighbours.nearest(model.z, where.prepared.mu).indices.tolist()
    model.checkpoint = "mnist-beta1"
    assert where.prepared.mu.shape[1] == 12 and len(where.shown) == neighbours.K
    assert where._layout.objects == [where._parts]


def test_without_a_sample_one_line_says_why(where, model, tmp_path):
    # a model of a folder of images, served without --data-dir: no sample to compare with
    model.checkpoint = str(make_checkpoint(tmp_path / "folder.pth", 12, dataset="folder"))
    assert model.message == "" and where.prepared is None
    (note,) = where._layout.objects
    assert "No data sample" in note.object and "\n" not in note.object.strip()
    model.checkpoint = "mnist-beta1"  # and back: the strip again
    assert where._layout.objects == [where._parts] and len(where.shown) == neighbours.K
