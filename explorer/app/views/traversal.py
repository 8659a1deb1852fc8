"""The Traversal view: one row per dimension, the current z with that dimension swept across the
μ sliders' range; a page of dimensions at a time, in the order every view follows
(:func:`explorer.compute.divergence.dimension_order`): by index, or with "Order by KL" the most
used first and the inactive ones greyed."""

from __future__ import annotations

import functools

import panel as pn
import param

from explorer import names, plots
from explorer.app.views.base import View, gif_download
from explorer.app.views.elements import cell_size, centres, fit_scale, grid_element, shrink, ticks
from explorer.compute import decoding, divergence, grids
from explorer.figures import animation
from explorer.latent.table import dim_label
from explorer.plots import InPlacePlot, render, write_image

STEPS = 11  # values swept per row
MOST = 64  # a cell's longest side on screen, in image pixels: larger images are shrunk


class TraversalView(View):
    """One row per dimension: the current z with that dimension swept across [-3, 3]."""

    title = "Traversal"
    css = names.TRAVERSAL

    rows = param.Selector(
        default=None, objects=[], label="Rows", doc="Which dimensions the rows sweep: a page"
    )
    by_kl = param.Boolean(
        default=False,
        doc="Rows most used first, the inactive greyed: set from the sliders' Order by KL",
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._pages: dict[str, list[int]] = {}  # each choice of ``rows`` → its dimensions
        self._rows = pn.widgets.Select.from_param(
            self.param.rows, width=220, css_classes=[names.TRAVERSAL_ROWS]
        )
        self.gif = gif_download(model, "traversal", self.frames)  # the GIF of what it shows
        self._header = pn.Row(self._rows, self.gif)
        self.param.watch(self.rebuild, ["rows", "by_kl"])

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

    def _order(self) -> divergence.DimensionOrder:
        """The rows' pages by the rule every view follows."""
        usage = self.data.usage() if self.by_kl else None
        return divergence.dimension_order(self.model.latent_dim, usage)

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        order = self._order()
        self._pages = {
            label: list(page) for label, page in zip(order.labels(), order.pages, strict=True)
        }
        if list(self.param.rows.objects) != list(self._pages):
            self.param.rows.objects = list(self._pages)
            self.rows = next(iter(self._pages))
        self._rows.visible = len(self._pages) > 1
        return self.model.vae, self.z(), self.dims, order.inactive  # inactive: rows greyed

    def draw(self, inputs):
        vae, z, dims, inactive = inputs
        image = traversal_image(vae, z, dims)
        h, w = image.shape[:2]
        cell_h, cell_w = cell_size(decoding.image_shape(vae), MOST)
        rows = list(zip(centres(len(dims), cell_h), dims, strict=True))
        element = grid_element(
            image,
            fit_scale(image, 600, 700, 2.0),
            xticks=ticks([f"{v:g}" for v in grids.sweep(STEPS)], cell_w),
            yticks=[(h - c, row_label(d, inactive)) for c, d in rows],
            title="Each row sweeps one dimension of the current z across [-3, 3]",
        )
        half = cell_h / 2
        greyed = [(0, h - c - half, w, h - c + half) for c, d in rows if d in inactive]
        if greyed:  # the image stays the first layer: updates write its pixels alone
            element = element * plots.veil(greyed)
        return render(element, names.TRAVERSAL_SOURCE)

    def install(self, figure) -> None:
        self.plot = InPlacePlot.of(figure)
        self._body.objects = [self._header, pn.pane.Bokeh(self.plot.figure)]

    def update(self) -> None:
        write_image(self.plot, traversal_image(self.model.vae, self.z(), self.dims))


def traversal_image(vae, z, dims):
    """The traversal of z over ``dims`` (a row each, STEPS values across) as one mosaic, its
    cells shrunk to MOST pixels a side (:func:`explorer.app.views.elements.shrink`)."""
    shape = decoding.image_shape(vae)
    cells = shrink(grids.traversal(vae, z, STEPS, dims), shape, MOST)
    return grids.mosaic(cells, pad=grids.PAD, rgb=shape[0] == 3)


def row_label(dim: int, inactive) -> str:
    """A row's name: its dimension, marked when inactive (its row is greyed too)."""
    return dim_label("z", dim) + (" (inactive)" if dim in inactive else "")
