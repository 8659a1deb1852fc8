"""The exploration views without a browser: real LatentModel, real networks, real Bokeh sources.

A view's plots are rendered once; a change of μ, σ or z must write new pixels into the same data
source (never a new figure), and only while the view is shown.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_checkpoint

from explorer.app.explorer import LatentExplorer
from explorer.app.server import parse_args
from explorer.app.views import ExplorationViews
from explorer.cli import build_parser
from explorer.compute import decoding, divergence, grids
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel


@pytest.fixture
def model() -> LatentModel:
    return LatentModel(checkpoint="mnist-beta1", rng_seed=3)


@pytest.fixture
def views(model) -> ExplorationViews:
    return ExplorationViews(model)


def view(views, css):
    return next(v for v in views.views if v.css == css)


def pixels(plot) -> np.ndarray:
    """A grid element's image as the user sees it (top row first)."""
    return np.asarray(plot.source.data["image"][0])[::-1]


def shown(views, css):
    index = next(k for k, v in enumerate(views.views) if v.css == css)
    views.show(index)
    return views.views[index]


def test_views_are_lazy_until_shown(views, model):
    traversal = view(views, "latent-traversal")
    model.set_value("mu", 0, 1.0)
    assert not hasattr(traversal, "_plot")  # never rendered while hidden
    shown(views, "latent-traversal")
    figure, source = traversal._plot.figure, traversal._plot.source
    before = pixels(traversal._plot).copy()
    views.show(-1)  # hidden again: a change leaves its pixels alone...
    model.set_value("mu", 2, 2.0)
    np.testing.assert_array_equal(pixels(traversal._plot), before)
    views.show(0)  # ...and shown, it catches up, in place
    assert traversal._plot.figure is figure and traversal._plot.source is source
    assert not np.array_equal(pixels(traversal._plot), before)


def test_traversal_follows_z(views, model):
    traversal = shown(views, "latent-traversal")
    model.set_value("mu", 1, -0.5)
    grid = grids.traversal(model.vae, model.current_z(), 11)
    expected = to_uint8(grids.mosaic(grid, pad=1))
    np.testing.assert_array_equal(pixels(traversal._plot), expected)
    assert pixels(traversal._plot).shape == (12 * 29 + 1, 11 * 29 + 1)


def test_samples_follow_sigma_and_seed(views, model):
    samples = shown(views, "latent-samples")
    first = pixels(samples._plot).copy()
    model.sigma = [0.0] * 12  # every sample is then the same image: decode(μ)
    tight = pixels(samples._plot)
    cell = tight[1:29, 1:29]
    assert np.array_equal(tight[1:29, 30:58], cell) and not np.array_equal(first, tight)
    model.sigma = [1.0] * 12
    np.testing.assert_array_equal(pixels(samples._plot), first)
    model.seed = model.seed + 1
    assert not np.array_equal(pixels(samples._plot), first)


def test_encode_sets_mu_and_sigma_from_the_posterior(views, model):
    encode = shown(views, "latent-encode")
    model.mode = "prior"
    encode.select(5)
    sample = views.data.sample()
    mu, sigma = decoding.encode(model.vae, sample.images[5])
    assert model.mode == "sample"
    np.testing.assert_allclose(model.mu, np.clip(mu[0], -3, 3), atol=1e-4)
    np.testing.assert_allclose(model.sigma, np.clip(sigma[0], 0, 2), atol=1e-4)
    np.testing.assert_allclose(views.data.encoded, mu[0])
    shown_cells = pixels(encode._plot)
    np.testing.assert_array_equal(shown_cells[1:29, 1:29], sample.images[5])  # the input ...
    recon = to_uint8(decoding.decode(model.vae, mu)[0])
    np.testing.assert_array_equal(shown_cells[1:29, 30:58], recon)  # ... its reconstruction


def test_a_drawing_is_encoded(views, model):
    encode = shown(views, "latent-encode")
    mu_before = list(model.mu)
    encode._strokes.data = {"xs": [[10, 14, 18]], "ys": [[22, 14, 6]]}  # as the draw tool does
    assert model.mu != mu_before
    assert "drawing" in encode._note.object
    encode.clear()
    assert list(encode._strokes.data["xs"]) == []


def test_interpolation_strip_runs_from_a_to_b(views, model):
    interp = shown(views, "latent-interp")
    interp.set_point("A", "random")
    model.set_value("mu", 0, 1.5)  # B follows the current z
    strip = pixels(interp._strip)
    a_image = to_uint8(decoding.decode(model.vae, interp.a[None])[0])
    b_image = to_uint8(decoding.decode(model.vae, model.current_z()[None])[0])
    np.testing.assert_array_equal(strip[1:29, 1:29], a_image)
    np.testing.assert_array_equal(strip[1:29, -29:-1], b_image)
    interp.set_point("B", "random")  # a fixed B no longer follows
    assert not interp.follow.value
    frozen = pixels(interp._strip).copy()
    model.set_value("mu", 0, -1.5)
    np.testing.assert_array_equal(pixels(interp._strip), frozen)
    interp.t.value = 1.0  # the image at t = 1 is B
    np.testing.assert_array_equal(pixels(interp._at_t), frozen[1:29, -29:-1])


def test_interpolation_from_an_encoded_image(views, model):
    interp = shown(views, "latent-interp")
    interp.set_point("A", "encoded")
    assert "Encode an image first" in interp._note.object
    view(views, "latent-encode").select(0)
    interp.set_point("A", "encoded")
    np.testing.assert_array_equal(interp.a, views.data.encoded)


@pytest.mark.parametrize("mode", ["sample", "deterministic", "prior"])
def test_map_click_sets_the_two_dimensions(views, model, mode):
    map_view = shown(views, "latent-map")
    model.mode = mode
    map_view.x_dim.value, map_view.y_dim.value = 4, 9
    other = model.current_z()
    map_view.click(1.234, -2.5)
    z = model.current_z()
    assert z[4] == pytest.approx(1.23) and z[9] == pytest.approx(-2.5)
    np.testing.assert_allclose(np.delete(z, [4, 9]), np.delete(other, [4, 9]), atol=1e-6)
    current = map_view._current.data
    assert (current["x"][0], current["y"][0]) == pytest.approx((1.23, -2.5))
    assert model.mode == ("sample" if mode == "sample" else "deterministic")


def test_map_shows_the_manifold_and_the_data(views, model):
    map_view = shown(views, "latent-map")
    i, j = map_view.dims
    kl = views.data.kl()
    assert {i, j} == set(divergence.by_kl(kl)[:2])  # the two most used dimensions by default
    grid = grids.manifold(model.vae, model.current_z(), (i, j), 15)
    np.testing.assert_array_equal(pixels(map_view._plot), to_uint8(grids.mosaic(grid, pad=0)))
    points = map_view._plot.figure.renderers[1].data_source.data
    mu = views.data.posterior()[0]
    np.testing.assert_allclose(points["x"], mu[:, i])
    np.testing.assert_allclose(points["y"], mu[:, j])
    assert len(set(points["color"])) == 10  # coloured by label
    figure = map_view._plot.figure
    map_view.x_dim.value, map_view.y_dim.value = 0, 1  # other dimensions: written in place
    assert map_view._plot.figure is figure and figure.xaxis[0].axis_label == "z1"
    np.testing.assert_allclose(points["x"], mu[:, 0])
    np.testing.assert_allclose(points["y"], mu[:, 1])
    grid = grids.manifold(model.vae, model.current_z(), (0, 1), 15)
    np.testing.assert_array_equal(pixels(map_view._plot), to_uint8(grids.mosaic(grid, pad=0)))


def test_compare_decodes_z_with_each_model(views, model):
    compare = shown(views, "latent-compare")
    assert compare.choice.value == ["mnist-beta0.1", "mnist-beta10"]  # the β family
    model.set_value("mu", 3, 1.0)
    z = model.current_z()
    row = pixels(compare._plot)
    for k, net in enumerate(
        [model.vae, compare._nets["mnist-beta0.1"], compare._nets["mnist-beta10"]]
    ):
        expected = to_uint8(decoding.decode(net, z[None])[0])
        np.testing.assert_array_equal(row[1:29, 1 + 29 * k : 29 * (k + 1)], expected)


def test_compare_refuses_another_latent_size(views, ckpt20):
    compare = shown(views, "latent-compare")
    compare.add(str(ckpt20))
    assert "20 latent dimensions" in compare._note.object
    assert str(ckpt20) not in compare.choice.options


def test_kl_view(views, model):
    kl_view = shown(views, "latent-kl")
    bars = kl_view._plot.source.data
    np.testing.assert_allclose(bars["kl"], views.data.kl())
    assert (bars["kl"] >= 0).all()
    model.set_value("mu", 2, 2.0)
    marks = kl_view._marks.data["now"]
    assert marks[2] == pytest.approx(2.0) and marks[0] == pytest.approx(0.0)


def test_a_new_model_rebuilds_the_shown_view(views, model, ckpt20):
    traversal = shown(views, "latent-traversal")
    model.checkpoint = str(ckpt20)
    assert model.latent_dim == 20
    assert pixels(traversal._plot).shape == (16 * 29 + 1, 11 * 29 + 1)  # a page of 16 rows
    assert traversal._rows.options == ["16 largest KL", "z1–z16", "z17–z20"]  # counted from 1
    assert traversal.dims == divergence.by_kl(views.data.kl())[:16]  # the most used first
    traversal._rows.value = "z17–z20"
    assert traversal.dims == [16, 17, 18, 19]
    assert pixels(traversal._plot).shape == (4 * 29 + 1, 11 * 29 + 1)
    kl_view = shown(views, "latent-kl")  # its meta names mnist-5k: the sample comes from there
    assert len(kl_view._plot.source.data["kl"]) == 20


def test_sliders_ordered_by_kl_with_inactive_dimensions_marked():
    model = LatentModel(checkpoint="mnist-beta10", rng_seed=0)  # β = 10: some units unused
    explorer = LatentExplorer(model)
    sliders = explorer.sliders
    kl, active = explorer.views.data.usage()
    assert not active.all(), "expected inactive units in a beta=10 model"

    def shown_mu_sliders():
        sample = sliders._groups["sample"]
        return [pane.object for pane in sample.objects if "μ" in pane.object.title]

    assert [s.title for s in shown_mu_sliders()] == [f"μ{d + 1}" for d in range(12)]
    sliders.by_kl = True
    order = divergence.by_kl(kl)
    titles = [s.title for s in shown_mu_sliders()]
    assert titles == [f"μ{d + 1}" + ("" if active[d] else " (inactive)") for d in order]
    assert kl[order[0]] == kl.max()
    shown_mu_sliders()[0].value = 1.25  # a slider still drives its own dimension
    assert model.mu[order[0]] == 1.25
    sliders.by_kl = False
    assert shown_mu_sliders()[0].title == "μ1"


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_data_dir_gives_a_sample_to_a_checkpoint_outside_the_zoo(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (30, 28, 28))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(30) % 10)
    ckpt = make_checkpoint(tmp_path / "mine.pth", 12, seed=4, dataset="mnist")
    assert parse_args(["--data-dir", str(tmp_path)]).data_dir == str(tmp_path)
    serve = build_parser().parse_args(["serve", str(ckpt), "--data-dir", str(tmp_path)])
    assert serve.data_dir == str(tmp_path)
    model = LatentModel(checkpoint=str(ckpt))
    assert ExplorationViews(model).data.sample() is None  # MNIST files are nowhere else
    views = ExplorationViews(model, data_dir=str(tmp_path))
    sample = views.data.sample()
    assert len(sample) == 30 and "test split" in sample.source
    np.testing.assert_array_equal(sample.images, images)
    kl_view = shown(views, "latent-kl")
    assert len(kl_view._plot.source.data["kl"]) == 12


def test_every_plot_draws_on_a_plain_canvas(views, model):
    """No WebGL: for these small plots it gains nothing, and emulated in software (no GPU) its
    canvas copy cost ≈ 10 ms of each repaint (benchmarks/README.md, latency)."""
    explorer = LatentExplorer(model)
    for view in views.views:
        view.show(True)
    plots = [explorer._image, explorer._bars] + [
        plot for view in views.views for plot in vars(view).values() if hasattr(plot, "figure")
    ]
    assert len(plots) >= 7
    assert {plot.figure.output_backend for plot in plots} == {"canvas"}
