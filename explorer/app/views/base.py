"""What every exploration view is: a tab that follows the LatentModel, renders its plots once (off
the event loop) and then writes them in place; and the small Panel pieces the views share.

A view's plots are HoloViews elements rendered ONCE (``plots.InPlacePlot``); a change of μ, σ or z
writes only their Bokeh data sources, with the grid decoded in one forward pass and tiled into one
image (:func:`explorer.compute.grids.mosaic`). A view computes only while its tab is shown:
hidden, it notes that it is stale and catches up when shown. A new model (or a new choice in the
view's own controls) renders its plots again, since their shape changes; a slider move never does.

A view's first rendering (and one after a model change) is heavy: a HoloViews render costs
50–250 ms, a map's grid 225 decodes. It runs in a worker thread (:mod:`explorer.app.background`):
``prepare`` reads the state on the event loop, ``draw`` computes and renders in the worker,
``install`` puts the plots in the page back on the loop; so no other session waits for it.

Every write to a Bokeh model goes through ``pn.io.hold()``: a Bokeh slider callback runs under
the session document's lock, but Panel runs its widgets' events (a button, a select, the mode)
outside it, and a bare write there is refused (“_pending_writes should be non-None”).
"""

from __future__ import annotations

import functools

import numpy as np
import panel as pn
import param

from explorer import names
from explorer.app.background import download_callback
from explorer.app.views.session import SessionData
from explorer.figures import animation
from explorer.latent.space import LatentModel
from explorer.plots import InPlacePlot


def markdown(text, **kw) -> pn.pane.Markdown:
    """A line of text across the view: ``text`` a string, or a parameter the pane follows."""
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(0, 10), **kw)


def gif_download(model: LatentModel, kind: str, frames) -> pn.widgets.FileDownload:
    """A button that downloads ``<model>-<kind>.gif``, made on click from the view's state then:
    ``frames()`` reads that state (on the event loop) and returns the function that draws the
    frames (a list of figures, see :mod:`explorer.figures.animation`), which runs in a worker
    thread with the GIF's encoding."""

    def prepare():
        widget.filename = f"{model.info.stem}-{kind}.gif"
        draw = frames()
        return lambda: animation.gif_bytes(draw())

    widget = pn.widgets.FileDownload(
        callback=download_callback(prepare), filename=f"{kind}.gif", label="Download GIF",
        variant="outline", css_classes=[names.download(f"{kind}-gif")],
    )  # fmt: skip
    return widget


class View(pn.viewable.Viewer):
    """A tab that follows the LatentModel: ``build`` renders its plots (``prepare``, ``draw``,
    ``install``), ``update`` writes them in place. ``ExplorationViews`` sets ``shown`` and calls
    ``changed``; a view's own controls call ``rebuild`` (new shape) or ``repaint`` (new values).
    """

    shown = param.Boolean(default=False, doc="Its tab is open: only then does the view compute")
    built = param.Boolean(
        default=False,
        doc="Its plots are rendered, or being rendered, for the model and the controls' choice",
    )
    stale = param.Boolean(default=True, doc="Its plots are behind the state: written when shown")
    drawing = param.Boolean(
        default=False, doc="A rendering is under way in a worker thread (the tab shows loading)"
    )
    note = param.String(default="", doc="What the view says about what it shows (Markdown)")

    title = ""
    css = ""
    follows: tuple[str, ...] = ("z",)  # LatentModel parameters whose change repaints the view

    def __init__(self, model: LatentModel, data: SessionData, **params):
        super().__init__(**params)
        self.model = model
        self.data = data
        self.plot: InPlacePlot | None = None  # its plot, written in place once rendered
        self._body = pn.Column(sizing_mode="stretch_width")
        self._layout = pn.Column(
            self._body,
            css_classes=[self.css, names.VIEW],
            sizing_mode="stretch_width",
            loading=self.param.drawing,
        )

    def __panel__(self):
        return self._layout

    @param.depends("shown", watch=True)
    def _on_shown(self) -> None:
        if self.shown:  # it catches up with the state
            self.refresh()

    def changed(self, events) -> None:
        """The model's ``info`` or a parameter this view follows changed."""
        if any(event.name == "info" for event in events):
            self.built = False
        if not self.stale:  # a slider step pays for every view: only a read when already stale
            self.stale = True
        if self.shown:
            self.refresh()

    def refresh(self) -> None:
        """Bring the view up to date: render after a model change, else write in place (not
        while a rendering is under way: that catches up once it is in)."""
        if self.model.vae is None:
            return
        if not self.built:
            self.stale = False
            with pn.io.hold():
                self.build()
        elif self.stale and not self.drawing:
            self.stale = False
            with pn.io.hold():
                self.update()

    def rebuild(self, *_) -> None:
        """The view's own controls changed the plots' shape: render again (when shown). Not
        built, there is nothing to do: a rendering is due, or ``prepare`` is setting the controls
        to fit a new model, and the rendering reads them."""
        if not self.built:
            return
        self.built = False
        self.stale = True
        if self.shown:
            self.refresh()

    def repaint(self, *_) -> None:
        """The view's own controls changed what it shows, not its shape: write in place."""
        if not self.stale:
            self.stale = True
        if self.shown:
            self.refresh()

    def build(self) -> None:
        """Render the plots anew: ``prepare`` on the event loop, ``draw`` in a worker thread,
        ``install`` back on the loop. A newer build drops the result of one under way."""
        inputs = self.prepare()
        self.built = True  # after prepare: its own choices in the controls start no other build
        if inputs is None:  # it showed a note instead of plots
            self.data.background.cancel(self.css)
            self.drawing = False
            return
        if not self._body.objects:
            self._body.objects = self.skeleton()
        self.drawing = True
        self.data.background.run(
            functools.partial(self.draw, inputs), self._put, self._not_drawn, key=self.css
        )

    def _put(self, drawn) -> None:
        self.drawing = False
        with pn.io.hold():
            self.install(drawn)
            if self.stale and self.shown:  # the state moved while it was drawn
                self.stale = False
                self.update()

    def _not_drawn(self, error: Exception) -> None:
        self.drawing = False
        self.built = False  # the next refresh tries again
        raise error

    def skeleton(self) -> list:
        """What the tab holds while its first plots are drawn: its controls, made here and kept,
        so that ``install`` reuses their models (making them costs the event loop too)."""
        return []

    def prepare(self):
        """On the event loop: fit the view's controls to the model and return what ``draw``
        needs (plain values, nothing that changes), or None after showing a note instead."""
        raise NotImplementedError

    def draw(self, inputs):
        """In a worker thread: compute and render the plots from ``inputs`` alone."""
        raise NotImplementedError

    def install(self, drawn) -> None:
        """On the event loop: put what ``draw`` returned in the page."""
        raise NotImplementedError

    def update(self) -> None:
        """On the event loop: write the plots' data for the current state."""
        raise NotImplementedError

    def z(self) -> np.ndarray:
        return self.model.current_z()
