"""The 2-D map view: the decoded manifold over a grid of two dimensions, the data's posterior
means on top (coloured by label), and a click that moves z there."""

from __future__ import annotations

import html

import panel as pn
import param
from bokeh.events import Tap

from explorer import names, plots
from explorer.app import untrusted
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import shrink
from explorer.compute import decoding, divergence, grids
from explorer.figures.png import to_uint8
from explorer.latent.table import dim_label
from explorer.latent.vector import finite
from explorer.plots import InPlacePlot, render, write_image

MAP_PX = 640  # the manifold's side, in image pixels, at most: larger cells are shrunk
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


class MapView(View):
    """Two dimensions: the decoded manifold over a grid of them, the data's posterior means on
    top (coloured by label), and a click that moves z there."""

    title = "2-D map"
    css = names.MAP

    x_dim = param.Selector(
        default=None, objects=[], label="x dimension", doc="The dimension along the map's x axis"
    )
    y_dim = param.Selector(
        default=None, objects=[], label="y dimension", doc="The dimension along the map's y axis"
    )
    size = param.Selector(default=15, objects=[9, 15, 21], label="Grid", doc="Cells per side")

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        select = pn.widgets.Select.from_param
        self._header = pn.Row(
            select(self.param.x_dim, width=140, css_classes=[names.MAP_X]),
            select(self.param.y_dim, width=140, css_classes=[names.MAP_Y]),
            select(self.param.size, width=100, css_classes=[names.MAP_GRID]),
        )
        self._legend = pn.pane.HTML(sizing_mode="stretch_width")
        self.param.watch(self.rebuild, "size")
        self.param.watch(self._new_dims, ["x_dim", "y_dim"])

    def _new_dims(self, *_) -> None:
        """Two other dimensions: new points, axis labels and pixels, in place."""
        if self.plot is None or self.x_dim == self.y_dim:
            self.rebuild()
            return
        i, j = self.dims
        post = self.data.posterior()
        with pn.io.hold():
            if post is not None:
                plots.write_points(self.plot, post[0][:, i], post[0][:, j])
            plots.write_axis_labels(self.plot, dim_label("z", i), dim_label("z", j))
        self.repaint()

    @property
    def dims(self) -> tuple[int, int]:
        return int(self.x_dim), int(self.y_dim)

    def click(self, x: float, y: float) -> None:
        """Move z's two dimensions to (x, y) (:meth:`LatentModel.place`). A point that is not
        finite (only a hostile client sends one) is refused."""
        point = finite(x), finite(y)
        if None in point:
            untrusted.refused("2-D map tap", (x, y), "not a finite point")
            return
        self.model.place(self.dims, point)

    def _choose_dims(self) -> None:
        """A new model: offer its dimensions, the two most used (by KL) shown first."""
        n = self.model.latent_dim
        if list(self.param.x_dim.objects) != list(range(n)):
            kl = self.data.kl()
            x, y = divergence.by_kl(kl)[:2] if kl is not None else (0, 1)
            options = {dim_label("z", d): d for d in range(n)}
            self.param.x_dim.objects = self.param.y_dim.objects = options
            self.param.update(x_dim=x, y_dim=y)

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        self.plot = None
        if self.model.latent_dim < 2:
            self._body.objects = [markdown("A map needs a model with two latent dimensions.")]
            return None
        self._choose_dims()
        if self.x_dim == self.y_dim:
            self._body.objects = [self._header, markdown("Choose two different dimensions.")]
            return None
        i, j = self.dims
        return self.model.vae, self.z(), (i, j), self.size, self._points(i, j)

    def draw(self, inputs):
        vae, z, (i, j), n, points = inputs
        low, high = grids.SPAN
        half = (high - low) / (n - 1) / 2  # cell centres on the grid
        element = plots.map_element(
            to_uint8(manifold_image(vae, z, (i, j), n)),
            (low - half, high + half),
            (dim_label("z", i), dim_label("z", j)),
            tuple(z[[i, j]]),
            points,
        )
        return render(element, names.MAP_SOURCE)

    def install(self, figure) -> None:
        self.plot = InPlacePlot.of(figure)
        self.plot.layer(plots.MAP_CURRENT, names.MAP_CURRENT_SOURCE)
        untrusted.on_event(
            self.plot.figure, Tap, "2-D map tap", lambda event: self.click(event.x, event.y)
        )
        self._body.objects = [self._header, pn.pane.Bokeh(self.plot.figure), self._legend]

    def _points(self, i: int, j: int) -> tuple | None:
        """The data sample's posterior means in dimensions i and j, labelled and coloured (the
        legend says which colour is which), as (x, y, labels, colours); None without a sample."""
        missing = self.data.missing("Placing the data on the map")
        if missing is not None:
            self._legend.object = html.escape(missing)
            return None
        sample, post = self.data.sample(), self.data.posterior()
        mu = post[0]
        labels = [sample.classes[int(k)] for k in sample.labels]
        colors = [PALETTE[int(k) % len(PALETTE)] for k in sample.labels]
        self._legend.object = "Posterior means of the data sample: " + " ".join(
            f"<span style='color:{c}'>●&nbsp;{html.escape(name)}</span>"
            for c, name in zip(PALETTE, sample.classes, strict=False)
        )
        return mu[:, i], mu[:, j], labels, colors

    def update(self) -> None:
        if self.plot is None:
            return
        i, j = self.dims
        z = self.z()
        write_image(self.plot, manifold_image(self.model.vae, z, (i, j), self.size))
        plots.write_current(self.plot, float(z[i]), float(z[j]))


def manifold_image(vae, z, dims: tuple[int, int], n: int):
    """The decoded manifold over ``dims``, n × n cells, as one mosaic without padding (top row:
    largest y), at most MAP_PX pixels a side (larger cells shrunk)."""
    shape = decoding.image_shape(vae)
    cells = shrink(grids.manifold(vae, z, dims, n), shape, MAP_PX // n)
    return grids.mosaic(cells, pad=0, rgb=shape[0] == 3)
