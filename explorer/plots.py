"""InPlacePlot: a HoloViews element rendered to Bokeh once, then updated by writing its data."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh backend that .opts() targets
import panel as pn


class InPlacePlot:
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data source.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its one ColumnDataSource sends only the new numbers.
    """

    def __init__(self, element: hv.Element, source_name: str, **pane_options):
        self.figure = hv.render(element, backend="bokeh")
        self.source = self.figure.renderers[0].data_source
        self.source.name = source_name  # benchmarks and tests find the source by name
        self.pane = pn.pane.Bokeh(self.figure, **pane_options)

    def write(self, **columns) -> None:
        self.source.data.update(columns)
