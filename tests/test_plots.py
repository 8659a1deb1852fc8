"""explorer.plots: what only it knows of the rendered plots (columns, the row flip, renderer
order and layer roles, how axes grow and labels turn), on real HoloViews elements rendered to
real Bokeh figures."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from explorer import plots
from explorer.figures.png import to_uint8
from explorer.plots import InPlacePlot, bars_element, image_element, write_bars, write_image


def test_write_image_flips_rows_as_holoviews_does():
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    plot = InPlacePlot(image_element(image), "test-image")
    rendered = plot.source.data[plots.IMAGE_COLUMN][0]  # as HoloViews handed it to Bokeh
    write_image(plot, np.zeros((28, 28), np.float32))
    write_image(plot, image)
    written = plot.source.data[plots.IMAGE_COLUMN][0]
    np.testing.assert_array_equal(written, rendered)
    assert written.dtype == np.float32


def test_write_image_keeps_a_grid_in_8_bit_levels():
    grid = np.random.default_rng(1).random((5, 7))
    plot = InPlacePlot(hv.Image(to_uint8(grid), bounds=(0, 0, 7, 5)), "test-grid")
    rendered = plot.source.data[plots.IMAGE_COLUMN][0]
    write_image(plot, grid)  # floats in, levels written: the same as rendered
    written = plot.source.data[plots.IMAGE_COLUMN][0]
    assert written.dtype == np.uint8
    np.testing.assert_array_equal(written, rendered)


def test_bars_columns_and_axis():
    z = np.array([0.5, -5.2, 1.0])
    plot = InPlacePlot(bars_element(z), "test-bars")
    data = plot.source.data
    assert list(data[plots.DIMENSION_COLUMN]) == ["z1", "z2", "z3"]
    assert list(data[plots.COLOR_COLUMN]) == [plots.POSITIVE, plots.NEGATIVE, plots.POSITIVE]
    assert (plot.figure.y_range.start, plot.figure.y_range.end) == (-6.0, 6.0)
    assert plots.bars_limit(np.zeros(3)) == plots.BARS_LIMIT == 4.0


def test_write_bars_grows_the_axis_never_shrinks_it_and_follows_a_new_size():
    plot = InPlacePlot(bars_element(np.zeros(3)), "test-bars")
    figure = plot.figure
    assert figure.y_range.end == 4.0
    write_bars(plot, np.array([1.0, -6.5, 0.0]))
    assert (figure.y_range.start, figure.y_range.end) == (-7.0, 7.0)
    assert list(plot.source.data[plots.Z_COLUMN]) == [1.0, -6.5, 0.0]
    write_bars(plot, np.array([0.1, 0.2, 0.3]))
    assert figure.y_range.end == 7.0  # a smaller z keeps the axis: bars do not jump
    write_bars(plot, np.arange(20) / 10)
    assert list(figure.x_range.factors) == [f"z{i + 1}" for i in range(20)]
    assert len(plot.source.data[plots.Z_COLUMN]) == 20
    assert figure.xaxis[0].major_label_orientation == pytest.approx(np.pi / 2)


def test_layer_names_the_source_of_each_element_of_an_overlay():
    overlay = hv.Image(np.zeros((3, 3))) * hv.Points([(0, 1)]) * hv.Points([(2, 2)], ["a", "b"])
    plot = InPlacePlot(overlay, "test-overlay")
    assert plot.source.name == "test-overlay" and plots.IMAGE_COLUMN in plot.source.data
    assert list(plot.layer(1, "test-points").data["y"]) == [1]
    plot.write(layer=-1, a=[1.5])
    assert list(plot.layer(-1).data["a"]) == [1.5] and plot.layer(1).name == "test-points"


def test_labels_stand_upright_past_16_dimensions():
    assert [plots.label_rotation(n) for n in (1, 16, 17, 128)] == [0, 0, 90, 90]
    plot = InPlacePlot(bars_element(np.zeros(16)), "test-bars")
    assert plot.figure.xaxis[0].major_label_orientation == "horizontal"
    wide = InPlacePlot(bars_element(np.zeros(17)), "test-bars")  # as HoloViews turns them
    assert wide.figure.xaxis[0].major_label_orientation == pytest.approx(np.pi / 2)
    write_bars(wide, np.zeros(16))
    assert wide.figure.xaxis[0].major_label_orientation == "horizontal"


def test_map_layers_by_role():
    levels = np.arange(16, dtype=np.uint8).reshape(4, 4)
    points = ([0.5, -1.0], [1.5, 2.0], ["3", "7"], ["#111111", "#222222"])
    element = plots.map_element(levels, (-3.5, 3.5), ("z2", "z5"), (0.25, -0.5), points)
    plot = InPlacePlot(element, "test-map")
    dots, cross = plot.layer(plots.MAP_POINTS).data, plot.layer(plots.MAP_CURRENT).data
    assert list(dots[plots.X_COLUMN]) == [0.5, -1.0]
    assert list(dots[plots.COLOR_COLUMN]) == ["#111111", "#222222"]
    assert (list(cross[plots.X_COLUMN]), list(cross[plots.Y_COLUMN])) == ([0.25], [-0.5])
    plots.write_points(plot, np.array([2.0, 1.0]), np.array([0.0, -2.0]))
    plots.write_current(plot, 1.5, 2.5)
    plots.write_axis_labels(plot, "z1", "z3")
    dots, cross = plot.layer(plots.MAP_POINTS).data, plot.layer(plots.MAP_CURRENT).data
    assert list(dots[plots.Y_COLUMN]) == [0.0, -2.0]  # the colours stay with the points
    assert list(dots[plots.COLOR_COLUMN]) == ["#111111", "#222222"]
    assert (list(cross[plots.X_COLUMN]), list(cross[plots.Y_COLUMN])) == ([1.5], [2.5])
    figure = plot.figure
    assert (figure.xaxis[0].axis_label, figure.yaxis[0].axis_label) == ("z1", "z3")
    no_data = InPlacePlot(plots.map_element(levels, (-1, 1), ("x", "y"), (0, 0)), "test-map")
    assert list(no_data.layer(plots.MAP_CURRENT).data[plots.X_COLUMN]) == [0]


def test_kl_marks_grow_the_axis_and_never_shrink_it():
    kl, active = np.array([0.5, 2.0, 0.0]), np.array([True, True, False])
    plot = InPlacePlot(plots.kl_element(kl, active, np.zeros(3)), "test-kl")
    bars, y_range = plot.source.data, plot.figure.y_range
    assert list(bars[plots.KL_COLUMN]) == [0.5, 2.0, 0.0]
    assert list(bars[plots.COLOR_COLUMN]) == [plots.ACTIVE, plots.ACTIVE, plots.INACTIVE]
    below = -plots.KL_STUB * 2.0 * plots.KL_HEADROOM  # a mark at 0 shows whole
    assert (y_range.start, y_range.end) == (pytest.approx(below), pytest.approx(2.2))
    plots.write_marks(plot, np.array([1.0, 0.0, 0.5]))  # below the bars: the axis stays
    assert list(plot.layer(plots.KL_MARKS).data[plots.NOW_COLUMN]) == [1.0, 0.0, 0.5]
    assert y_range.end == pytest.approx(2.2)
    plots.write_marks(plot, np.array([0.0, 5.0, 0.0]))
    assert (y_range.start, y_range.end) == (pytest.approx(below), pytest.approx(5.5))
    plots.write_marks(plot, np.zeros(3))
    assert y_range.end == pytest.approx(5.5)  # a shorter mark keeps it: marks do not jump


def test_drawing_canvas_strokes():
    canvas, source = plots.drawing_canvas(28, 224, 5, "test-strokes")
    assert source.name == "test-strokes" and canvas.select_one({"name": "test-strokes"}) is source
    assert plots.strokes(source) == ([], [])
    source.data = {"xs": [[1, 2]], "ys": [[3, 4]]}  # as the browser's draw tool sends them
    assert plots.strokes(source) == ([[1, 2]], [[3, 4]])
    plots.clear_strokes(source)
    assert plots.strokes(source) == ([], [])


def test_bars_are_titled_by_mode_and_retitled_in_place():
    plot = InPlacePlot(bars_element(np.zeros(3), mode="prior"), "test-bars")
    title = plot.figure.title
    assert title.text == plots.BARS_TITLES["prior"] == "z drawn from the prior N(0, I)"
    plots.write_bars_title(plot, "deterministic")
    assert plot.figure.title is title and title.text == "z set exactly"  # the same model
    plots.write_bars_title(plot, "sample")
    assert title.text == "z drawn from N(μ, σ²)"
    assert InPlacePlot(bars_element(np.zeros(3)), "b").figure.title.text == title.text
    assert len(set(plots.BARS_TITLES.values())) == 3


def unpack(packed: np.ndarray) -> np.ndarray:
    """Bokeh's image_rgba pixels (uint32, bytes R, G, B, A in memory order) → H×W×4 levels."""
    return np.ascontiguousarray(packed, dtype=np.uint32).view(np.uint8).reshape(*packed.shape, 4)


def test_an_rgb_image_is_drawn_as_packed_rgba_rows_flipped():
    image = np.random.default_rng(2).random((48, 64, 3), dtype=np.float32)
    plot = InPlacePlot(image_element(image), "test-rgb")
    assert type(plot.figure.renderers[0].glyph).__name__ == "ImageRGBA"
    rendered = plot.source.data[plots.IMAGE_COLUMN][0]
    assert rendered.dtype == np.uint32 and rendered.shape == (48, 64)
    levels = unpack(rendered)[::-1]  # Bokeh's rows run bottom-up
    np.testing.assert_array_equal(levels[..., :3], to_uint8(image))
    assert (levels[..., 3] == 255).all()  # opaque
    assert (plot.figure.width, plot.figure.height) == (320, 240)  # 5 screen px per pixel
    other = np.random.default_rng(3).random((48, 64, 3), dtype=np.float32)
    assert plots.fits(plot, other) and not plots.fits(plot, other[..., 0])
    assert not plots.fits(plot, other[:32])
    write_image(plot, other)
    written = plot.source.data[plots.IMAGE_COLUMN][0]
    assert written.dtype == np.uint32
    np.testing.assert_array_equal(unpack(written)[::-1][..., :3], to_uint8(other))
    np.testing.assert_array_equal(written, plots.rgba(other)[::-1])
    write_image(plot, image)  # back to the first: exactly as HoloViews drew it
    np.testing.assert_array_equal(plot.source.data[plots.IMAGE_COLUMN][0], rendered)


def test_a_grey_image_of_another_size_keeps_its_floats_and_crisp_pixels():
    image = np.random.default_rng(4).random((32, 32), dtype=np.float32)
    plot = InPlacePlot(image_element(image), "test-grey32")
    assert type(plot.figure.renderers[0].glyph).__name__ == "Image"
    assert (plot.figure.width, plot.figure.height) == (320, 320)  # 10 screen px per pixel
    data = plot.source.data
    assert (data["dw"][0], data["dh"][0]) == (32, 32)
    np.testing.assert_array_equal(data[plots.IMAGE_COLUMN][0], image[::-1])
    other = np.random.default_rng(5).random((32, 32), dtype=np.float32)
    assert plots.fits(plot, other) and not plots.fits(plot, np.stack([other] * 3, -1))
    write_image(plot, other)
    written = plot.source.data[plots.IMAGE_COLUMN][0]
    assert written.dtype == np.float32
    np.testing.assert_array_equal(written, other[::-1])


@pytest.mark.parametrize(
    ("shape", "px"),
    [
        ((28, 28), (336, 336)),  # as it always was: 12 screen px per pixel
        ((32, 32), (320, 320)),
        ((64, 64), (320, 320)),
        ((8, 8), (336, 336)),
        ((16, 40), (320, 128)),  # the longest side sets the scale; width first
        ((200, 200), (400, 400)),  # 1.68 rounds to 2 whole pixels
        ((512, 512), (336, 336)),  # larger than the screen size: scaled down to it
        ((512, 256), (168, 336)),
    ],
)
def test_the_image_size_on_screen(shape, px):
    assert plots.image_px(shape) == px


def test_a_colour_map_and_a_rectangular_canvas():
    levels = to_uint8(np.random.default_rng(6).random((20, 20, 3)))
    plot = InPlacePlot(plots.map_element(levels, (-3, 3), ("z1", "z2"), (0, 0)), "test-rgb-map")
    assert type(plot.figure.renderers[0].glyph).__name__ == "ImageRGBA"
    np.testing.assert_array_equal(unpack(plot.source.data["image"][0])[::-1][..., :3], levels)
    grid = np.random.default_rng(7).random((20, 20, 3))
    write_image(plot, grid)
    np.testing.assert_array_equal(
        unpack(plot.source.data["image"][0])[::-1][..., :3], to_uint8(grid)
    )
    canvas, _ = plots.drawing_canvas(28, 224, 5, "test-rect", shape=(32, 64))
    assert (canvas.width, canvas.height) == (224, 112)
    assert (canvas.x_range.end, canvas.y_range.end) == (64, 32)
