"""The app follows the model's image shape, without a browser: an RGB 64×64 ONNX model (with its
encoder beside it), a grey 32×32 module, and a decoder alone. Real networks (small torch modules,
one exported to ONNX), real LatentModel, views and Bokeh sources; each view renders, follows a μ
move, and says in one line what it cannot show."""

from __future__ import annotations

import html
import shutil

import numpy as np
import onnx
import pytest
from viewtools import pixels

from explorer import names, plots
from explorer.app.explorer import UPLOAD_ACCEPT, LatentExplorer
from explorer.app.views.elements import shrink
from explorer.app.views.tabs import ExplorationViews
from explorer.compute import decoding, drawing, grids
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from tests.formats.factories import DecoderOnly, GreyMLP32, export_colour_onnx


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    """colour.onnx (RGB 64×64, with colour.encoder.onnx) and other.onnx (RGB 32×32)."""
    folder = tmp_path_factory.mktemp("shapes")
    export_colour_onnx(folder, 64, name="colour")
    export_colour_onnx(folder, 64, name="twin")  # the same shape: comparable
    export_colour_onnx(folder, 32, encoder=False, name="other")
    return folder


def open_model(kind: str, folder) -> LatentModel:
    if kind == "rgb64":
        model = LatentModel(checkpoint=str(folder / "colour.onnx"), rng_seed=3)
    else:
        model = LatentModel.of(GreyMLP32(), "grey32", rng_seed=3)
    assert model.message == ""
    return model


SHAPES = {"rgb64": (3, 64, 64), "grey32": (1, 32, 32)}


def show(views, css):
    index = next(k for k, v in enumerate(views.views) if v.css == css)
    views.show(index)
    return views.views[index]


def expected(images, shape, most=64, pad=1, ncols=None) -> np.ndarray:
    """A mosaic as a view shows it: cells shrunk to ``most`` pixels, as 8-bit levels."""
    cells = shrink(images, shape, most)
    return to_uint8(grids.mosaic(cells, ncols, pad=pad, rgb=shape[0] == 3))


def moved(model, dim: int = 0, value: float = 1.5) -> None:
    model.set_value("mu", dim, value)


@pytest.mark.parametrize("kind", ["rgb64", "grey32"])
def test_traversal_samples_interpolation_follow_the_shape_and_mu(kind, onnx_dir):
    model = open_model(kind, onnx_dir)
    shape = SHAPES[kind]
    assert decoding.image_shape(model.vae) == shape
    views = ExplorationViews(model)
    traversal = show(views, names.TRAVERSAL)
    before = pixels(traversal.plot).copy()
    moved(model)
    z = model.current_z()
    want = expected(grids.traversal(model.vae, z, 11, traversal.dims), shape)
    np.testing.assert_array_equal(pixels(traversal.plot), want)
    assert not np.array_equal(before, want)
    assert want.shape[:2] == (6 * (shape[1] + 1) + 1, 11 * (shape[2] + 1) + 1)

    samples = show(views, names.SAMPLES)
    moved(model, 1, -1.0)
    images = grids.samples(model.vae, model.mu, model.sigma, samples.count, model.seed)
    np.testing.assert_array_equal(pixels(samples.plot), expected(images, shape, ncols=8))

    interp = show(views, names.INTERP)
    interp.set_point("A", "random")
    moved(model, 2, 2.0)  # B follows z
    path = grids.interpolation(model.vae, interp.a, model.current_z(), 11, interp.t)
    np.testing.assert_array_equal(pixels(interp.strip), expected(path[:11], shape))
    np.testing.assert_array_equal(pixels(interp.at_t), to_uint8(path[11]))


@pytest.mark.parametrize("kind", ["rgb64", "grey32"])
def test_map_compare_and_the_encoded_drawing_follow_the_shape(kind, onnx_dir):
    model = open_model(kind, onnx_dir)
    shape = SHAPES[kind]
    views = ExplorationViews(model)
    map_view = show(views, names.MAP)
    moved(model, 3, 1.0)  # not one of the map's two dimensions
    i, j = map_view.dims
    assert 3 not in (i, j)
    cells = grids.manifold(model.vae, model.current_z(), (i, j), map_view.size)
    want = expected(cells, shape, most=640 // map_view.size, pad=0)
    np.testing.assert_array_equal(pixels(map_view.plot), want)
    assert want.shape[:2] == (480, 480)  # 15 cells: 64 px ones shrunk to 32, 32 px ones as they are

    compare = show(views, names.COMPARE)
    moved(model, 0, -2.0)
    this = grids.decoded_by_each([model.vae], model.current_z()[None])  # row 0, column 0
    corner = (slice(0, shape[1] + 2), slice(0, shape[2] + 2))
    np.testing.assert_array_equal(pixels(compare.plot)[corner], expected(this, shape))

    encode = show(views, names.ENCODE)
    assert (encode.canvas.x_range.end, encode.canvas.y_range.end) == (shape[2], shape[1])
    mu_before = list(model.mu)
    xs, ys = [[0.3 * shape[2], 0.5 * shape[2], 0.7 * shape[2]]], [[0.8 * shape[1], 0.5, 0.2]]
    encode.strokes.data = {"xs": xs, "ys": ys}  # as the draw tool sends a stroke
    assert model.mu != mu_before and "drawing" in encode.note
    size = shape[1:]
    grey = drawing.center_like_mnist(
        drawing.strokes_to_image(xs, ys, size, width=drawing.pen_width(size))
    )
    drawn = grey if shape[0] == 1 else np.repeat(grey[..., None], 3, axis=-1)
    np.testing.assert_array_equal(encode._input, drawn)  # grey in every channel of RGB
    cells = pixels(encode.plot)
    h, w = shape[1:]
    np.testing.assert_array_equal(cells[1 : 1 + h, 1 : 1 + w], to_uint8(drawn))
    mu, _ = decoding.encode(model.vae, drawn[None])
    np.testing.assert_allclose(model.mu, np.clip(np.round(mu[0], 2), -3, 3), atol=0.006)


GREY_SIZES = ["1× (28 px)", "4× (112 px)", "8× (224 px)", "16× (448 px)"]
RGB_SIZES = ["1× (64 px)", "4× (256 px)", "8× (512 px)", "16× (1024 px)"]


def test_the_explore_image_png_sizes_and_upload_follow_a_model_switch(onnx_dir):
    """mnist-beta1 → the RGB ONNX model → back, in one session: the image is rendered again for
    each shape (a 28×28 grey stays exactly as it was), its box sized for it, the PNG sizes say
    the model's pixels; and an .onnx upload opens."""
    explorer = LatentExplorer(LatentModel(checkpoint="mnist-beta1", rng_seed=1))
    model = explorer.model
    (scale,) = explorer._controls.select(lambda w: names.PNG_SCALE in (w.css_classes or []))
    grey_plot = explorer.image_plot

    def state():
        data = explorer.image_plot.source.data[plots.IMAGE_COLUMN][0]
        return explorer._image_box.width, np.asarray(data).shape, list(scale.options), scale.value

    assert state() == (
        346,
        (28, 28),
        ["1× (28 px)", "4× (112 px)", "8× (224 px)", "16× (448 px)"],
        8,
    )
    model.checkpoint = str(onnx_dir / "colour.onnx")
    assert state() == (
        330,
        (64, 64),
        ["1× (64 px)", "4× (256 px)", "8× (512 px)", "16× (1024 px)"],
        8,
    )
    assert explorer.image_plot is not grey_plot
    assert explorer._image_pane.object is explorer.image_plot.figure
    np.testing.assert_array_equal(pixels(explorer.image_plot), to_uint8(model.image))
    before = pixels(explorer.image_plot).copy()
    moved(model)  # in place: the same plot, new pixels
    plot = explorer.image_plot
    np.testing.assert_array_equal(pixels(plot), to_uint8(model.image))
    assert not np.array_equal(before, pixels(plot)) and explorer.image_plot is plot
    assert plot.source.name == names.IMAGE_SOURCE

    model.checkpoint = "mnist-beta1"
    assert state() == (
        346,
        (28, 28),
        ["1× (28 px)", "4× (112 px)", "8× (224 px)", "16× (448 px)"],
        8,
    )
    data = explorer.image_plot.source.data[plots.IMAGE_COLUMN][0]
    assert data.dtype == np.float32 and np.array_equal(data[::-1], model.image)  # as it was

    assert ".onnx" in UPLOAD_ACCEPT.split(",")
    model.upload((onnx_dir / "other.onnx").read_bytes(), "other.onnx")
    assert model.message == "" and model.info.image_shape == (3, 32, 32)
    assert np.asarray(explorer.image_plot.source.data[plots.IMAGE_COLUMN][0]).shape == (32, 32)


def test_compare_offers_and_accepts_only_models_of_the_same_shape(onnx_dir):
    model = open_model("rgb64", onnx_dir)
    views = ExplorationViews(model)
    compare = show(views, names.COMPARE)
    assert compare.param.models.objects == []  # the zoo's are 28×28 grey
    assert "No bundled model has this model's latent size and image shape" in compare.note
    compare.add(str(onnx_dir / "other.onnx"))
    assert compare.note == (
        f"{onnx_dir / 'other.onnx'} draws 32×32 RGB images; this model draws 64×64 RGB"
    )
    assert compare.models == []
    compare.add("mnist-beta1")
    assert "latent dimensions" in compare.note and compare.models == []
    compare.add(str(onnx_dir / "twin.onnx"))
    assert compare.models == [str(onnx_dir / "twin.onnx")]
    assert len(compare.labels) == 2
    assert pixels(compare.plot).shape[:2] == (2 * 65 + 1, 5 * 65 + 1)


@pytest.mark.parametrize("kind", ["rgb64", "grey32"])
def test_views_without_a_data_sample_of_the_models_shape_say_why(kind, onnx_dir):
    model = open_model(kind, onnx_dir)
    views = ExplorationViews(model)
    encode = show(views, names.ENCODE)
    (note,) = [o for o in encode._top.objects if "data sample" in str(getattr(o, "object", ""))]
    assert "\n" not in note.object
    kl = show(views, names.KL)
    assert kl.plot is None and "No data sample" in kl._body.objects[0].object


def test_a_sample_of_another_shape_is_not_offered(onnx_dir, tmp_path):
    """A model whose metadata names mnist-5k as its data, but draws 64×64 RGB images: the data
    set's 28×28 grey digits are not used, and the map and the gallery say why."""
    decoder = onnx.load(onnx_dir / "colour.onnx")
    onnx.helper.set_model_props(decoder, {"vae_explorer.dataset": "mnist-5k"})
    onnx.save(decoder, tmp_path / "digits.onnx")
    shutil.copy(onnx_dir / "colour.encoder.onnx", tmp_path / "digits.encoder.onnx")
    model = LatentModel(checkpoint=str(tmp_path / "digits.onnx"), rng_seed=3)
    assert model.message == "" and model.info.dataset == "mnist-5k"
    views = ExplorationViews(model)
    assert views.data.sample() is None and views.data.posterior() is None
    why = (
        "No data sample of this model's images: mnist-5k train split holds 28×28 grey images, "
        "this model's are 64×64 RGB."
    )
    assert views.data.no_sample() == why
    map_view = show(views, names.MAP)
    assert map_view._legend.object == html.escape(why) and map_view.plot is not None
    encode = show(views, names.ENCODE)
    assert [o for o in encode._top.objects if getattr(o, "object", None) == why]


def test_a_decoder_alone_explores_and_says_in_one_line_what_needs_an_encoder():
    model = LatentModel.of(DecoderOnly(), "decoder-only", rng_seed=2)
    assert model.message == "" and not model.vae.has_encoder
    views = ExplorationViews(model)
    traversal = show(views, names.TRAVERSAL)
    before = pixels(traversal.plot).copy()
    moved(model)
    assert not np.array_equal(before, pixels(traversal.plot))  # what needs no encoder works

    encode = show(views, names.ENCODE)
    (line,) = encode._body.objects
    assert line.object.startswith("Encoding an image needs an encoder, and this model has none")
    assert "\n" not in line.object and encode.plot is None
    mu = list(model.mu)
    encode.strokes.data = {"xs": [[5, 10, 20]], "ys": [[20, 10, 5]]}  # a stroke: nothing breaks
    assert model.mu == mu

    map_view = show(views, names.MAP)
    assert map_view.plot is not None
    assert map_view._legend.object.startswith("Placing the data on the map needs an encoder")
    moved(model, 2, -1.0)  # the manifold still follows z
    cells = grids.manifold(model.vae, model.current_z(), map_view.dims, map_view.size)
    want = expected(cells, (1, 32, 32), most=640 // map_view.size, pad=0)
    np.testing.assert_array_equal(pixels(map_view.plot), want)

    kl = show(views, names.KL)
    (line,) = kl._body.objects
    assert line.object.startswith("The KL of the data needs an encoder") and kl.plot is None
