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
        self._hold(render(element, source_name), pane_options)  # on a canvas, its source named

    @classmethod
    def of(cls, figure, **pane_options) -> InPlacePlot:
        """The plot of a figure :func:`render` made already (in a worker thread, say)."""
        plot = cls.__new__(cls)
        plot._hold(figure, pane_options)
        return plot

    def _hold(self, figure, pane_options: dict) -> None:
        self.figure = figure
        self.source = figure.renderers[0].data_source
        self.pane = pn.pane.Bokeh(figure, **pane_options)

    def write(self, **columns) -> None:
        self.source.data.update(columns)
