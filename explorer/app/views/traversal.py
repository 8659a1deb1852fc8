"""The Traversal view: one row per dimension, the current z with that dimension swept across the
μ sliders' range; a page of dimensions at a time, the most used first for larger models."""

from __future__ import annotations

import functools

import panel as pn
import param

from explorer import names
from explorer.app.views.base import View, gif_download
from explorer.app.views.elements import centres, fit_scale, grid_element, ticks
from explorer.compute import divergence, grids
from explorer.figures import animation
from explorer.latent.table import dim_label
from explorer.plots import InPlacePlot, render, write_image

STEPS = 11  # values swept per row


class TraversalView(View):
    """One row per dimension: the current z with that dimension swept across [-3, 3]."""

    title = "Traversal"
    css = names.TRAVERSAL

    rows = param.Selector(
        default=None, objects=[], label="Rows", doc="Which dimensions the rows sweep: a page"
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._pages: dict[str, list[int]] = {}  # each choice of ``rows`` → its dimensions
        self._rows = pn.widgets.Select.from_param(
            self.param.rows, width=220, css_classes=[names.TRAVERSAL_ROWS]
        )
        self.gif = gif_download(model, "traversal", self.frames)  # the GIF of what it shows
        self._header = pn.Row(self._rows, self.gif)
        self.param.watch(self.rebuild, "rows")

    @property
    def dims(self) -> list[int]:
        """The dimensions the rows sweep, top row first."""
        return self._pages.get(self.rows) or next(iter(self._pages.values()))

    def frames(self):
        """What draws the animated traversal of the current z over the rows shown (every
        dimension swept at once, there and back; :func:`explorer.figures.animation.traversal`)."""
        m = self.model
        return functools.partial(
            animation.traversal, m.vae, self.z(), dims=self.dims, name=m.info.name
        )

    def _pages_for_model(self) -> dict[str, list[int]]:
        """Pages of PAGE_SIZE dimensions; for larger models first the largest KL."""
        n = self.model.latent_dim
        pages = {f"z{p[0] + 1}–z{p[-1] + 1}": p for p in divergence.dimension_pages(n)}
        kl = self.data.kl() if n > divergence.PAGE_SIZE else None
        if kl is not None:
            largest = divergence.dimension_pages(n, kl)[0]
            pages = {f"{divergence.PAGE_SIZE} largest KL": largest, **pages}
        return pages

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        self._pages = self._pages_for_model()
        if list(self.param.rows.objects) != list(self._pages):
            self.param.rows.objects = list(self._pages)
            self.rows = next(iter(self._pages))
        self._rows.visible = len(self._pages) > 1
        return self.model.vae, self.z(), self.dims

    def draw(self, inputs):
        vae, z, dims = inputs
        image = grids.traversal_image(vae, z, dims, STEPS)
        h = image.shape[0]
        element = grid_element(
            image,
            fit_scale(image, 600, 700, 2.0),
            xticks=ticks([f"{v:g}" for v in grids.sweep(STEPS)]),
            yticks=[
                (h - c, dim_label("z", d)) for c, d in zip(centres(len(dims)), dims, strict=True)
            ],
            title="Each row sweeps one dimension of the current z across [-3, 3]",
        )
        return render(element, names.TRAVERSAL_SOURCE)

    def install(self, figure) -> None:
        self.plot = InPlacePlot.of(figure)
        self._body.objects = [self._header, pn.pane.Bokeh(self.plot.figure)]

    def update(self) -> None:
        write_image(self.plot, grids.traversal_image(self.model.vae, self.z(), self.dims, STEPS))
