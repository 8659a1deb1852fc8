"""The exploration views without a browser: real LatentModel, real networks, real Bokeh sources.

A view's plots are rendered once; a change of μ, σ or z must write new pixels into the same data
source (never a new figure), and only while the view is shown. A view's state and controls are
parameters: the tests set and read those, as the widgets do.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import make_checkpoint
from PIL import Image, ImageSequence
from viewtools import pixels, shown

from explorer import checkpoint, names, plots
from explorer.app.explorer import LatentExplorer
from explorer.app.options import parse_args
from explorer.app.sliders import DimensionSliders
from explorer.app.views.encode import NOTHING_ENCODED
from explorer.app.views.tabs import ExplorationViews
from explorer.cli.main import build_parser
from explorer.compute import decoding, divergence, grids
from explorer.figures import animation
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from explorer.latent.table import SLIDERS


def view(views, css):
    return next(v for v in views.views if v.css == css)


def source(plot, name: str):
    """The data source named ``name`` in a plot's figure (as the page finds it)."""
    return plot.figure.select_one({"name": name})


def test_views_are_lazy_until_shown(views, model):
    traversal = view(views, "latent-traversal")
    model.set_value("mu", 0, 1.0)
    assert not traversal.built and traversal.plot is None  # never rendered while hidden
    shown(views, "latent-traversal")
    assert traversal.shown and traversal.built and not traversal.stale
    figure, data = traversal.plot.figure, traversal.plot.source
    before = pixels(traversal.plot).copy()
    views.show(-1)  # hidden again: a change leaves its pixels alone...
    model.set_value("mu", 2, 2.0)
    assert not traversal.shown and traversal.stale
    np.testing.assert_array_equal(pixels(traversal.plot), before)
    views.show(0)  # ...and shown, it catches up, in place
    assert traversal.plot.figure is figure and traversal.plot.source is data
    assert not traversal.stale and not np.array_equal(pixels(traversal.plot), before)


def test_traversal_follows_z(views, model):
    traversal = shown(views, "latent-traversal")
    model.set_value("mu", 1, -0.5)
    grid = grids.traversal(model.vae, model.current_z(), 11)
    expected = to_uint8(grids.mosaic(grid, pad=1))
    np.testing.assert_array_equal(pixels(traversal.plot), expected)
    assert pixels(traversal.plot).shape == (12 * 29 + 1, 11 * 29 + 1)


def test_samples_follow_sigma_and_seed(views, model):
    samples = shown(views, "latent-samples")
    first = pixels(samples.plot).copy()
    model.sigma = [0.0] * 12  # every sample is then the same image: decode(μ)
    tight = pixels(samples.plot)
    cell = tight[1:29, 1:29]
    assert np.array_equal(tight[1:29, 30:58], cell) and not np.array_equal(first, tight)
    model.sigma = [1.0] * 12
    np.testing.assert_array_equal(pixels(samples.plot), first)
    model.seed = model.seed + 1
    assert not np.array_equal(pixels(samples.plot), first)


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
    shown_cells = pixels(encode.plot)
    np.testing.assert_array_equal(shown_cells[1:29, 1:29], sample.images[5])  # the input ...
    recon = to_uint8(decoding.decode(model.vae, mu)[0])
    np.testing.assert_array_equal(shown_cells[1:29, 30:58], recon)  # ... its reconstruction


def test_encode_says_what_to_do_until_an_image_is_encoded(views, model):
    """Before a click or a drawing the triptych's input and reconstruction would be two black
    squares: a note says what to do instead; the triptych shows once an image is encoded (and
    hides again with a new model, whose encoding it no longer has)."""
    encode = shown(views, "latent-encode")
    panel = encode.__panel__()
    (nothing,) = panel.select(lambda o: getattr(o, "object", None) == NOTHING_ENCODED)
    triptych = encode._triptych
    assert panel.select(lambda o: o is triptych) and triptych[0].object is encode.plot.figure
    assert nothing.visible and not triptych.visible
    encode.select(5)
    assert triptych.visible and not nothing.visible
    encode.select(5)  # the same image again: still shown, with its input
    assert triptych.visible and pixels(encode.plot)[1:29, 1:29].any()
    model.checkpoint = "mnist-beta10"
    assert nothing.visible and not encode._triptych.visible


def test_a_drawing_is_encoded(views, model):
    encode = shown(views, "latent-encode")
    mu_before = list(model.mu)
    encode.strokes.data = {"xs": [[10, 14, 18]], "ys": [[22, 14, 6]]}  # as the draw tool does
    assert model.mu != mu_before
    assert "drawing" in encode.note
    encode.param.trigger("clear")  # the Clear button
    assert list(encode.strokes.data["xs"]) == []


def test_interpolation_strip_runs_from_a_to_b(views, model):
    interp = shown(views, "latent-interp")
    interp.set_point("A", "random")
    model.set_value("mu", 0, 1.5)  # B follows the current z
    strip = pixels(interp.strip)
    a_image = to_uint8(decoding.decode(model.vae, interp.a[None])[0])
    b_image = to_uint8(decoding.decode(model.vae, model.current_z()[None])[0])
    np.testing.assert_array_equal(strip[1:29, 1:29], a_image)
    np.testing.assert_array_equal(strip[1:29, -29:-1], b_image)
    interp.set_point("B", "random")  # a fixed B no longer follows
    assert not interp.follow
    frozen = pixels(interp.strip).copy()
    model.set_value("mu", 0, -1.5)
    np.testing.assert_array_equal(pixels(interp.strip), frozen)
    interp.t = 1.0  # the image at t = 1 is B
    assert interp.t_slider.value == 1.0 and "t = 1.00" in interp.note
    np.testing.assert_array_equal(pixels(interp.at_t), frozen[1:29, -29:-1])


def test_interpolation_from_an_encoded_image(views, model):
    interp = shown(views, "latent-interp")
    interp.set_point("A", "encoded")
    assert "Encode an image first" in interp.note
    view(views, "latent-encode").select(0)
    interp.set_point("A", "encoded")
    np.testing.assert_array_equal(interp.a, views.data.encoded)


@pytest.mark.parametrize("mode", ["sample", "deterministic", "prior"])
def test_map_click_sets_the_two_dimensions(views, model, mode):
    map_view = shown(views, "latent-map")
    model.mode = mode
    map_view.param.update(x_dim=4, y_dim=9)
    other = model.current_z()
    map_view.click(1.234, -2.5)
    z = model.current_z()
    assert z[4] == pytest.approx(1.23) and z[9] == pytest.approx(-2.5)
    np.testing.assert_allclose(np.delete(z, [4, 9]), np.delete(other, [4, 9]), atol=1e-6)
    current = source(map_view.plot, names.MAP_CURRENT_SOURCE).data
    assert (current["x"][0], current["y"][0]) == pytest.approx((1.23, -2.5))
    assert model.mode == ("sample" if mode == "sample" else "deterministic")


def test_map_shows_the_manifold_and_the_data(views, model):
    map_view = shown(views, "latent-map")
    i, j = map_view.dims
    kl = views.data.kl()
    assert {i, j} == set(divergence.by_kl(kl)[:2])  # the two most used dimensions by default
    grid = grids.manifold(model.vae, model.current_z(), (i, j), 15)
    np.testing.assert_array_equal(pixels(map_view.plot), to_uint8(grids.mosaic(grid, pad=0)))
    points = map_view.plot.layer(plots.MAP_POINTS).data
    mu = views.data.posterior()[0]
    np.testing.assert_allclose(points["x"], mu[:, i])
    np.testing.assert_allclose(points["y"], mu[:, j])
    assert len(set(points["color"])) == 10  # coloured by label
    figure = map_view.plot.figure
    map_view.param.update(x_dim=0, y_dim=1)  # other dimensions: written in place
    assert map_view.plot.figure is figure and figure.xaxis[0].axis_label == "z1"
    np.testing.assert_allclose(points["x"], mu[:, 0])
    np.testing.assert_allclose(points["y"], mu[:, 1])
    grid = grids.manifold(model.vae, model.current_z(), (0, 1), 15)
    np.testing.assert_array_equal(pixels(map_view.plot), to_uint8(grids.mosaic(grid, pad=0)))


def test_compare_decodes_z_with_each_model(views, model):
    compare = shown(views, "latent-compare")
    assert compare.models == ["mnist-beta0.1", "mnist-beta10"]  # the β family
    model.set_value("mu", 3, 1.0)
    z = model.current_z()
    column = pixels(compare.plot)[:, :30]  # z's column: one row per model, by β
    nets = [checkpoint.load_shared("mnist-beta0.1").model, model.vae]
    nets.append(checkpoint.load_shared("mnist-beta10").model)
    for k, net in enumerate(nets):
        expected = to_uint8(decoding.decode(net, z[None])[0])
        np.testing.assert_array_equal(column[1 + 29 * k : 29 * (k + 1), 1:29], expected)


def test_compare_refuses_another_latent_size(views, ckpt20):
    compare = shown(views, "latent-compare")
    compare.path = str(ckpt20)  # typed in "Add a checkpoint"
    assert "20 latent dimensions" in compare.note
    assert str(ckpt20) not in compare.param.models.objects


def test_kl_view(views, model):
    kl_view = shown(views, "latent-kl")
    bars = kl_view.plot.source.data
    np.testing.assert_allclose(bars["kl"], views.data.kl())
    assert (bars["kl"] >= 0).all()
    model.set_value("mu", 2, 2.0)
    marks = kl_view.marks.data["now"]
    assert marks[2] == pytest.approx(2.0) and marks[0] == pytest.approx(0.0)


# control → (view, parameter, its widget's CSS class, a value to set, the plot: rendered anew
# (True), written in place (False), or left as it is (None))
CONTROLS = {
    "samples count": ("latent-samples", "count", names.SAMPLES_COUNT, 16, True),
    "map grid": ("latent-map", "size", names.MAP_GRID, 9, True),
    "map x": ("latent-map", "x_dim", names.MAP_X, 5, False),
    "interp follow": ("latent-interp", "follow", names.INTERP_FOLLOW, False, None),
    "interp method": ("latent-interp", "method", names.INTERP_METHOD, "spherical", False),
    "compare models": ("latent-compare", "models", names.COMPARE_MODELS, ["mnist-beta10"], True),
}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_controls_are_parameters_that_their_widgets_set(views, control):
    css, name, widget_css, value, reshapes = CONTROLS[control]
    view = shown(views, css)
    plot = view.plot or view.strip
    figure, before = plot.figure, pixels(plot).copy()
    (widget,) = view.__panel__().select(lambda o: widget_css in getattr(o, "css_classes", []))
    assert widget.value == getattr(view, name) != value
    widget.value = value  # as the page sets it
    assert getattr(view, name) == value
    plot = view.plot or view.strip
    assert (plot.figure is not figure) == bool(reshapes)
    assert np.array_equal(pixels(plot), before) == (reshapes is None)


def test_one_rendering_per_change_and_none_while_hidden(views, model, ckpt20):
    renders = {view.css: 0 for view in views.views}
    for v in views.views:
        v.param.watch(
            lambda e, css=v.css: renders.__setitem__(css, renders[css] + e.new), "drawing"
        )
    compare = shown(views, "latent-compare")  # it offers and chooses models as it installs...
    assert renders["latent-compare"] == 1 and compare.models  # ...and renders once
    traversal = shown(views, "latent-traversal")
    model.set_value("mu", 0, 1.0)  # a slider move writes in place
    assert renders == {**dict.fromkeys(renders, 0), "latent-compare": 1, "latent-traversal": 1}
    model.checkpoint = str(ckpt20)  # new rows to choose from: the view sets them, renders once
    assert renders["latent-traversal"] == 2 and traversal.rows == "1–16"
    assert renders["latent-compare"] == 1  # hidden: it waits until shown
    map_view = shown(views, "latent-map")
    map_view.param.update(x_dim=0, y_dim=1)  # two other dimensions: written in place
    assert renders["latent-map"] == 1 and not map_view.stale


def test_a_new_model_rebuilds_the_shown_view(views, model, ckpt20):
    traversal = shown(views, "latent-traversal")
    model.checkpoint = str(ckpt20)
    assert model.latent_dim == 20
    assert pixels(traversal.plot).shape == (16 * 29 + 1, 11 * 29 + 1)  # a page of 16 rows
    assert traversal.param.rows.objects == ["1–16", "17–20"]  # from 1
    assert traversal.rows == "1–16" and traversal.dims == list(range(16))
    traversal.by_kl = True  # as "Order by KL" sets it: the most used first
    assert traversal.param.rows.objects == ["by KL 1–16", "by KL 17–20"]
    assert traversal.dims == divergence.by_kl(views.data.kl())[:16]
    traversal.by_kl = False
    traversal.rows = "17–20"
    assert traversal.dims == [16, 17, 18, 19]
    assert pixels(traversal.plot).shape == (4 * 29 + 1, 11 * 29 + 1)
    kl_view = shown(views, "latent-kl")  # its meta names mnist-5k: the sample comes from there
    assert len(kl_view.plot.source.data["kl"]) == 20


def test_sliders_ordered_by_kl_with_inactive_dimensions_marked():
    model = LatentModel(checkpoint="mnist-beta10", rng_seed=0)  # β = 10: some units unused
    explorer = LatentExplorer(model)
    sliders = explorer.sliders
    kl, active = explorer.views.data.usage()
    assert not active.all(), "expected inactive units in a beta=10 model"

    assert [s.title for s in sliders.shown("mu")] == [f"μ{d + 1}" for d in range(12)]
    sliders.by_kl = True
    order = divergence.by_kl(kl)
    titles = [s.title for s in sliders.shown("mu")]
    assert titles == [f"μ{d + 1}" + ("" if active[d] else " (inactive)") for d in order]
    assert kl[order[0]] == kl.max()
    sliders.shown("mu")[0].value = 1.25  # a slider still drives its own dimension
    assert model.mu[order[0]] == 1.25
    sliders.by_kl = False
    assert sliders.shown("mu")[0].title == "μ1"


def test_sliders_follow_the_model_and_write_only_what_moved(model):
    """A slider's move changes its dimension alone; a change of the model (a map click, an
    encoded image, Reset) moves the sliders, and moving them writes nothing back."""
    sliders = DimensionSliders(model)
    changes = []
    model.param.watch(lambda *events: changes.append([e.name for e in events]), list(SLIDERS))

    def shown_values(name):
        return [slider.value for slider in sliders.shown(name)]

    sliders.shown("mu")[3].value = 1.5  # as the page moves it
    assert changes == [["mu"]] and model.mu == [0.0] * 3 + [1.5] + [0.0] * 8
    for change in (
        lambda: model.place((0, 1), (2.0, -1.0)),
        lambda: model.set_posterior(np.full(12, 0.5), np.full(12, 0.25)),
        lambda: model.param.trigger("reset"),
    ):
        changes.clear()
        change()
        assert len(changes) == 1  # one change of the model, none from the sliders it moved
        for name in SLIDERS:
            assert shown_values(name) == getattr(model, name)
    assert shown_values("mu") == [0.0] * 12


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
    assert len(kl_view.plot.source.data["kl"]) == 12


def test_every_plot_draws_on_a_plain_canvas(views, model):
    """No WebGL: for these small plots it gains nothing, and emulated in software (no GPU) its
    canvas copy cost ≈ 10 ms of each repaint (benchmarks/README.md, latency)."""
    explorer = LatentExplorer(model)
    for view in views.views:
        view.shown = True
    drawn = [explorer.image_plot, explorer.bars_plot] + [
        plot for view in views.views for plot in vars(view).values() if hasattr(plot, "figure")
    ]
    assert len(drawn) >= 7
    assert {plot.figure.output_backend for plot in drawn} == {"canvas"}


def gif_frames(data: bytes) -> list[np.ndarray]:
    """A GIF's frames as 8-bit grey arrays."""
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        return [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]


def test_views_download_the_gif_of_their_current_state(views, model):
    traversal = shown(views, "latent-traversal")
    model.set_value("mu", 2, 1.5)
    data = traversal.gif.callback().getvalue()  # what the Download GIF button sends
    assert traversal.gif.filename == "mnist-beta1-traversal.gif"
    z, name = model.current_z(), "mnist-beta1"
    expected = animation.traversal(model.vae, z, dims=traversal.dims, name=name)
    images = gif_frames(data)
    assert len(images) == len(expected) == 40
    np.testing.assert_array_equal(images[7], np.asarray(expected[7].image))

    interp = shown(views, "latent-interp")
    interp.set_point("A", "random")
    interp.set_point("B", "random")
    interp.method = "spherical"
    images = gif_frames(interp.gif.callback().getvalue())
    assert interp.gif.filename == "mnist-beta1-interpolation.gif"
    expected = animation.interpolation(
        model.vae, interp.a, interp.b, methods=("spherical",), name=name
    )
    np.testing.assert_array_equal(images[12], np.asarray(expected[12].image))
    ends = to_uint8(decoding.decode(model.vae, np.stack([interp.a, interp.b])))
    np.testing.assert_array_equal(expected[0].cell(0, 1)[::2, ::2], ends[0])
    np.testing.assert_array_equal(expected[animation.STEPS - 1].cell(0, 1)[::2, ::2], ends[1])
