"""The Arithmetic view and the 2-D map's principal plane without a browser: a real LatentModel
of the bundled mnist-beta1 with its data sample, real networks, real Bokeh sources."""

from __future__ import annotations

import numpy as np
import pytest
from viewtools import pixels, shown

from explorer import names, plots
from explorer.app.views.tabs import ExplorationViews
from explorer.compute import arithmetic, decoding, grids, neighbours, projection
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from tests.formats.factories import DecoderOnly


def decoded(model, latents) -> np.ndarray:
    return decoding.decode(model.vae, np.atleast_2d(latents))


def test_the_class_slider_moves_the_image_from_class_a_to_class_b(views, model):
    view = shown(views, names.ARITHMETIC)
    sample, (mu, _) = views.data.sample(), views.data.posterior()
    assert sample.classes[view.from_class] == "1" and sample.classes[view.to_class] == "7"
    means, counts = arithmetic.class_means(mu, sample.labels, len(sample.classes))
    assert view.plots["at_t"].source.name == names.ARITHMETIC_T_SOURCE
    before = pixels(view.plots["at_t"]).copy()
    path = pixels(view.plots["path"]).copy()
    view.t = 0.0  # as the t slider sets it: the image is class A's mean decoded
    np.testing.assert_array_equal(pixels(view.plots["at_t"]), to_uint8(decoded(model, means[1])[0]))
    assert not np.array_equal(before, pixels(view.plots["at_t"]))
    view.t_slider.value = 1.0  # the slider itself (its Bokeh callback): class B's mean
    assert view.t == 1.0
    np.testing.assert_array_equal(pixels(view.plots["at_t"]), to_uint8(decoded(model, means[7])[0]))
    np.testing.assert_array_equal(pixels(view.plots["path"]), path)  # the path stays
    strip = grids.mosaic(
        decoded(model, arithmetic.towards(means[1], means[7], np.linspace(0, 1, 8)))
    )
    np.testing.assert_array_equal(path, to_uint8(strip))
    assert f"mean of {counts[1]} “1” images" in view.note


def test_other_classes_write_the_path_in_place(views, model):
    view = shown(views, names.ARITHMETIC)
    figure, path = view.plots["path"].figure, pixels(view.plots["path"]).copy()
    view.from_class = 0
    assert view.plots["path"].figure is figure  # no new render: the same source, new pixels
    assert not np.array_equal(path, pixels(view.plots["path"]))


def test_the_current_z_moved_by_t_times_b_minus_a_follows_the_sliders(views, model):
    view = shown(views, names.ARITHMETIC)
    assert view.plot is view.plots["moved"] and view.plot.source.name == names.ARITHMETIC_SOURCE
    path = pixels(view.plots["path"]).copy()
    model.set_value("mu", 3, 2.0)
    means = arithmetic.class_means(views.data.posterior()[0], views.data.sample().labels, 10)[0]
    want = model.current_z() + view.t * (means[7] - means[1])
    np.testing.assert_array_equal(pixels(view.plot), to_uint8(decoded(model, want)[0]))
    np.testing.assert_array_equal(pixels(view.plots["path"]), path)


def test_send_puts_z_of_t_on_the_sliders(views, model):
    view = shown(views, names.ARITHMETIC)
    view.t = 0.25
    view.send = True  # the button's Event
    want = arithmetic.towards(*view._means[[view.from_class, view.to_class]], 0.25)[0]
    assert model.mode == "sample" and model.sigma == [0.0] * 12
    np.testing.assert_allclose(model.current_z(), want, atol=1e-4)
    assert "sent to the sliders" in view.note


def test_the_analogy_row_shows_three_data_images_and_a_minus_b_plus_c(views, model):
    view = shown(views, names.ARITHMETIC)
    sample, mu = views.data.sample(), views.data.posterior()[0]
    labels = [sample.classes[sample.labels[k]] for k in (view.term_a, view.term_b, view.term_c)]
    assert labels == ["7", "1", "1"] and view.term_b != view.term_c
    view.param.update(term_a=5, term_b=6, term_c=9)
    cells = np.concatenate(
        [
            decoding.as_images(sample.images[[5, 6, 9]], sample.shape),
            decoded(model, mu[5] - mu[6] + mu[9]),
        ]
    )
    np.testing.assert_array_equal(pixels(view.plots["analogy"]), to_uint8(grids.mosaic(cells)))


def test_without_an_encoder_one_line_says_why():
    model = LatentModel.of(DecoderOnly(), "decoder-only", rng_seed=2)
    view = shown(ExplorationViews(model), names.ARITHMETIC)
    (line,) = view._body.objects
    assert line.object.startswith("Latent arithmetic needs an encoder, and this model has none")
    assert "\n" not in line.object and not view.plots


@pytest.mark.parametrize("mode", ["sample", "deterministic", "prior"])
def test_map_on_principal_components_a_click_moves_z_along_the_plane(views, model, mode):
    view = shown(views, names.MAP)
    model.mode = mode
    view.axes = "pca"
    plane = projection.principal_plane(views.data.posterior()[0])
    np.testing.assert_allclose(view.plane().axes, plane.axes)
    assert view.plot.figure.xaxis[0].axis_label.startswith("PC1 (")
    z = model.current_z()
    view.click(1.5, -0.75)
    moved = model.current_z()
    np.testing.assert_allclose(plane.coordinates(moved), [1.5, -0.75], atol=2e-3)
    off = np.eye(12) - plane.axes.T @ plane.axes  # what lies off the plane stays
    np.testing.assert_allclose(off @ moved, off @ z, atol=2e-3)
    assert model.mode == ("sample" if mode == "sample" else "deterministic")
    cross = view.plot.layer(plots.MAP_CURRENT).data
    assert (cross["x"][0], cross["y"][0]) == pytest.approx((1.5, -0.75), abs=2e-3)


def test_map_marks_the_nearest_data_and_draws_the_plane_through_z(views, model):
    view = shown(views, names.MAP)
    mu = views.data.posterior()[0]
    rings = view.plot.figure.select_one({"name": names.MAP_NEAREST_SOURCE}).data
    near = neighbours.nearest(model.current_z(), mu, 8).indices
    i, j = view.dims
    np.testing.assert_allclose(rings["x"], mu[near, i])
    np.testing.assert_allclose(rings["y"], mu[near, j])
    view.axes = "pca"
    model.set_value("mu", 0, 1.5)
    z = model.current_z()
    plane = view.plane()
    near = neighbours.nearest(z, mu, 8).indices
    np.testing.assert_allclose(np.c_[rings["x"], rings["y"]], plane.coordinates(mu[near]))
    points = view.plot.layer(plots.MAP_POINTS).data
    np.testing.assert_allclose(np.c_[points["x"], points["y"]], plane.coordinates(mu), atol=1e-6)
    grid = plane.grid(z, grids.sweep(view.size))
    cells = decoded(model, grid.reshape(-1, 12)).reshape(view.size, view.size, 28, 28)
    np.testing.assert_array_equal(pixels(view.plot), to_uint8(grids.mosaic(cells, pad=0)))
    view.axes = "dims"  # back: the dimensions' points and labels, in place
    np.testing.assert_allclose(points["x"], mu[:, i])
    assert view.plot.figure.xaxis[0].axis_label == f"z{i + 1}"


@pytest.mark.parametrize(("value", "expected"), [(float("nan"), 0.5), (1e308, 1.0), (-1.0, 0.0)])
def test_a_hostile_t_is_clamped_or_set_back(views, value, expected):
    view = shown(views, names.ARITHMETIC)
    view.t_slider.value = value  # what Bokeh does with a client's patch
    assert view.t_slider.value == view.t == expected
