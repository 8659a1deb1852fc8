"""The plots as HoloViews elements rendered once to Bokeh, and the only code that writes their data.

Shared by the app (which renders each plot once per session, then writes only its data source)
and the pages (which render the same elements into a standalone file). It imports no Panel, so
the pages can use it: the app wraps a figure in its own ``pn.pane.Bokeh``.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh backend that .opts() targets
import numpy as np
from bokeh.document import Document
from bokeh.themes import Theme

from explorer.latent.space import dim_label

IMAGE_PX = 336  # 12 screen pixels per image pixel
POSITIVE, NEGATIVE = "#2563eb", "#dc2626"


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


def bars_element(z: np.ndarray, limit: float) -> hv.Bars:
    """z as HoloViews Bars, one per dimension, blue for positive and red for negative."""
    return hv.Bars(bars_data(z), kdims=["dimension"], vdims=["z", "color"]).opts(
        color="color",
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
        "dimension": [dim_label("z", i) for i in range(len(z))],
        "z": np.asarray(z, dtype=np.float64),
        "color": [color(v) for v in z],
    }


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
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data source.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its one ColumnDataSource sends only the new numbers.
    """

    def __init__(self, element: hv.Element, source_name: str):
        self.figure = render(element, source_name)  # on a canvas, its source named
        self.source = self.figure.renderers[0].data_source

    @classmethod
    def of(cls, figure) -> InPlacePlot:
        """The plot of a figure :func:`render` made already (in a worker thread, say)."""
        plot = cls.__new__(cls)
        plot.figure = figure
        plot.source = figure.renderers[0].data_source
        return plot

    def write(self, **columns) -> None:
        self.source.data.update(columns)
