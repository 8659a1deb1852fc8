"""The plots as HoloViews elements rendered once to Bokeh, and the only code that writes their data.

Shared by the app (which renders each plot once per session, then writes only its data source)
and the pages (which render the same elements into a standalone file). It imports no Panel, so
the pages can use it: the app wraps a figure in its own ``pn.pane.Bokeh``.

What only this module knows of the rendered plots: the columns of their data sources (HoloViews
names them), the row flip of an image, which renderer draws which element of an overlay, and how
the bars' axis grows. The living page's JavaScript (``pages/js/page.js``) gets the columns from
here, as arguments.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh backend that .opts() targets
import numpy as np
from bokeh.document import Document
from bokeh.models import ColumnDataSource
from bokeh.themes import Theme

from explorer.figures.png import to_uint8
from explorer.latent.table import dim_label

IMAGE_PX = 336  # 12 screen pixels per image pixel
POSITIVE, NEGATIVE = "#2563eb", "#dc2626"
# The data sources' columns, as HoloViews names them: an hv.Image's pixels (a list of one 2-D
# array, row 0 at the bottom) and the bars' (one row per dimension).
IMAGE_COLUMN = "image"
DIMENSION_COLUMN, Z_COLUMN, COLOR_COLUMN = "dimension", "z", "color"
BARS_LIMIT = 4.0  # the bars' z axis starts at ±4 and widens to the next integer past a taller bar


def image_element(image: np.ndarray) -> hv.Image:
    """The decoded image as a grey HoloViews Image with square pixels and hover."""
    size = image.shape[0]
    return hv.Image(image, bounds=(0, 0, size, size), vdims=["intensity"]).opts(
        cmap="gray",
        clim=(0.0, 1.0),
        width=IMAGE_PX,
        height=IMAGE_PX,
        border=0,
        xaxis=None,
        yaxis=None,
        toolbar=None,
        tools=["hover"],
        default_tools=[],
    )


def bars_element(z: np.ndarray, limit: float | None = None) -> hv.Bars:
    """z as HoloViews Bars, one per dimension, blue for positive and red for negative, on an
    axis of ±``limit`` (by default :func:`bars_limit`)."""
    limit = bars_limit(z) if limit is None else limit
    bars = hv.Bars(bars_data(z), kdims=[DIMENSION_COLUMN], vdims=[Z_COLUMN, COLOR_COLUMN])
    return bars.opts(
        color=COLOR_COLUMN,
        ylim=(-limit, limit),
        height=260,
        responsive=True,
        min_width=300,
        toolbar=None,
        tools=["hover"],
        default_tools=[],
        xlabel="",
        ylabel="z",
        xrotation=90 if len(z) > 16 else 0,
        title="Sampled z",
    )


def bars_data(z: np.ndarray) -> dict:
    """The columns of the bar chart's data source for z."""
    return {
        DIMENSION_COLUMN: [dim_label("z", i) for i in range(len(z))],
        Z_COLUMN: np.asarray(z, dtype=np.float64),
        COLOR_COLUMN: [color(v) for v in z],
    }


def bars_limit(z: np.ndarray, at_least: float = BARS_LIMIT) -> float:
    """The bars' axis limit (±) for z: ``at_least``, or past it the next integer above |z|."""
    return max(at_least, float(np.ceil(np.abs(z).max(initial=0))))


def color(value: float) -> str:
    """The colour of a z value: blue for positive (and zero), red for negative."""
    return POSITIVE if value >= 0 else NEGATIVE


def render(element: hv.Element, source_name: str):
    """A HoloViews element as a Bokeh figure whose data source is named ``source_name`` (tests,
    benchmarks and the pages' scripts find it by name), drawn on a plain canvas.

    Rendered for a document of its own, never ``curdoc()``: a Document left patched in by a
    Bokeh callback that raised (Bokeh 3.9's ``patch_curdoc`` has no try/finally) would otherwise
    reach every later render in the process, in every session. The figure is no root of that
    document, so any document can take it. HoloViews would have set its theme (title text) on
    the document; it is written into the figure and its title instead, which look the same in
    any document (all of the figure's models would cost ~10 ms a render).

    Not HoloViews' default WebGL: for these small plots it gains nothing, a page that uses it
    carries Bokeh's WebGL bundle (190 kB), and where WebGL is emulated in software (no GPU, as in
    headless Chromium) copying its canvas cost ≈ 10 ms of each repaint.
    """
    renderer = hv.renderer("bokeh").instance(mode="server")  # "server": it takes our document
    figure = renderer.get_plot(element, doc=Document()).state
    if renderer.theme is not None:
        for model in (figure, figure.title):
            if model is not None:
                _take_theme(model, renderer.theme)
    figure.renderers[0].data_source.name = source_name
    figure.output_backend = "canvas"
    return figure


def _take_theme(model, theme: Theme) -> None:
    """Give ``model`` ``theme``'s values as its own, where it has none: a document's theme then
    leaves them alone."""
    theme.apply_to_model(model)
    themed = model.themed_values() or {}
    model.unapply_theme()
    own = model.query_properties_with_values(lambda p: p.name in themed, include_defaults=False)
    model.update(**{name: value for name, value in themed.items() if name not in own})


class InPlacePlot:
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data sources.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its ColumnDataSources sends only the new numbers. An overlay
    (``image * points * cross``) has one source per element, by layer: 0 the first, -1 the last.
    """

    def __init__(self, element: hv.Element, source_name: str):
        self._take(render(element, source_name))  # on a canvas, its source named

    @classmethod
    def of(cls, figure) -> InPlacePlot:
        """The plot of a figure :func:`render` made already (in a worker thread, say)."""
        plot = cls.__new__(cls)
        plot._take(figure)
        return plot

    def _take(self, figure) -> None:
        self.figure = figure
        self.source = self.layer(0)
        pixels = self.source.data.get(IMAGE_COLUMN)
        # The pixel type the element was rendered with (floats, or 8-bit levels): writes keep it.
        self._levels = bool(pixels) and getattr(pixels[0], "dtype", None) == np.uint8

    def layer(self, index: int, name: str | None = None) -> ColumnDataSource:
        """The data source of the overlay's element ``index`` (HoloViews adds one renderer per
        element, in order), named ``name`` when given (tests and benchmarks find it by name)."""
        source = self.figure.renderers[index].data_source
        if name is not None:
            source.name = name
        return source

    def write(self, layer: int = 0, **columns) -> None:
        """New values for some columns of layer ``layer``'s source."""
        self.layer(layer).data.update(columns)


def write_image(plot: InPlacePlot, image: np.ndarray) -> None:
    """New pixels for the plot of an ``hv.Image``: rows bottom-up, as HoloViews hands an image to
    Bokeh, and of the pixel type it was rendered with (a grid of 8-bit levels gets
    ``to_uint8(image)``; the decoded image, floats in [0, 1], ``image`` as it is)."""
    pixels = to_uint8(image) if plot._levels else image
    plot.write(**{IMAGE_COLUMN: [pixels[::-1]]})


def write_bars(plot: InPlacePlot, z: np.ndarray) -> None:
    """New heights for the bars of :func:`bars_element`; a new latent size also updates the
    dimensions, and a taller bar widens the axis (:func:`bars_limit`)."""
    data = bars_data(z)
    figure = plot.figure
    if len(z) != len(plot.source.data[DIMENSION_COLUMN]):
        figure.x_range.factors = data[DIMENSION_COLUMN]
        figure.xaxis.major_label_orientation = np.pi / 2 if len(z) > 16 else "horizontal"
        plot.source.data = data
    else:
        # the same dimension names; z as a list: an array would travel as a websocket frame of
        # its own, and for a few numbers the frame costs more than the JSON
        plot.write(**{Z_COLUMN: data[Z_COLUMN].tolist(), COLOR_COLUMN: data[COLOR_COLUMN]})
    limit = bars_limit(z, figure.y_range.end)
    if limit != figure.y_range.end:
        figure.y_range.update(start=-limit, end=limit)
