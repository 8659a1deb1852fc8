"""explorer.plots: what only it knows of the rendered plots (columns, the row flip, renderer
order, the bars' axis), on real HoloViews elements rendered to real Bokeh figures."""

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
