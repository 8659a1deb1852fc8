"""InPlacePlot: a HoloViews element rendered to Bokeh once, then updated by writing its data."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from explorer.elements import render


class InPlacePlot:
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data source.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its one ColumnDataSource sends only the new numbers.
    """

    def __init__(self, element: hv.Element, source_name: str, **pane_options):
        self.figure = render(element, source_name)  # on a canvas, its source named
        self.source = self.figure.renderers[0].data_source
        self.pane = pn.pane.Bokeh(self.figure, **pane_options)

    def write(self, **columns) -> None:
        self.source.data.update(columns)
