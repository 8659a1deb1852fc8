"""InPlacePlot: a HoloViews element rendered to Bokeh once, then updated by writing its data."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh backend that .opts() targets
import panel as pn


class InPlacePlot:
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data source.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its one ColumnDataSource sends only the new numbers.

    Drawn on a plain canvas, not HoloViews' default WebGL: for a 28×28 image and a few bars WebGL
    gains nothing, and where it is emulated in software (no GPU, as in headless Chromium) copying
    its canvas cost ≈ 10 ms of each repaint.
    """

    def __init__(self, element: hv.Element, source_name: str, **pane_options):
        self.figure = hv.render(element, backend="bokeh")
        self.figure.output_backend = "canvas"
        self.source = self.figure.renderers[0].data_source
        self.source.name = source_name  # benchmarks and tests find the source by name
        self.pane = pn.pane.Bokeh(self.figure, **pane_options)

    def write(self, **columns) -> None:
        self.source.data.update(columns)
