"""The 2-D map view: the decoded manifold over a grid of two dimensions, or of the plane of the
data's first two principal components through z; the data's posterior means on top (coloured by
label), rings round those nearest z, and a click that moves z there."""

from __future__ import annotations

import html

import numpy as np
import panel as pn
import param
from bokeh.events import Tap

from explorer import names, plots
from explorer.app import untrusted
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import shrink
from explorer.compute import decoding, divergence, grids, neighbours, projection
from explorer.compute.placing import bounded
from explorer.figures.png import to_uint8
from explorer.latent.table import MU, Z_SET, dim_label
from explorer.latent.vector import finite
from explorer.plots import InPlacePlot, render, write_image

NEAREST = neighbours.K  # the data ringed: the posterior means nearest z, as the strip's
AXES = {"two dimensions": "dims", "PC1 / PC2": "pca"}  # what the map's axes are
MAP_PX = 640  # the manifold's side, in image pixels, at most: larger cells are shrunk
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


class MapView(View):
    """Two dimensions, or the plane of the data's first two principal components through z: the
    decoded manifold over a grid of them, the data's posterior means on top (coloured by label),
    rings round the NEAREST to z, and a click that moves z there."""

    title = "2-D map"
    css = names.MAP

    x_dim = param.Selector(
        default=None, objects=[], label="x dimension", doc="The dimension along the map's x axis"
    )
    y_dim = param.Selector(
        default=None, objects=[], label="y dimension", doc="The dimension along the map's y axis"
    )
    size = param.Selector(default=15, objects=[9, 15, 21], label="Grid", doc="Cells per side")
    axes = param.Selector(
        default="dims",
        objects=AXES,
        label="Axes",
        doc="Two dimensions of z, or the first two principal components of the data's posterior "
        "means (the plane through z along them)",
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        select = pn.widgets.Select.from_param
        self._dim_selects = [
            select(self.param.x_dim, width=140, css_classes=[names.MAP_X]),
            select(self.param.y_dim, width=140, css_classes=[names.MAP_Y]),
        ]
        self._header = pn.Row(
            select(self.param.axes, width=150, css_classes=[names.MAP_AXES]),
            *self._dim_selects,
            select(self.param.size, width=100, css_classes=[names.MAP_GRID]),
        )
        self._legend = pn.pane.HTML(sizing_mode="stretch_width")
        self._plane_of = self._plane = None  # the posterior the principal plane was fitted to
        self.param.watch(self.rebuild, "size")
        self.param.watch(self._new_dims, ["x_dim", "y_dim", "axes"])

    def _new_dims(self, *events) -> None:
        """Other axes: new points, axis labels and pixels, in place."""
        for select in self._dim_selects:
            select.visible = self.axes == "dims"
        if self.axes == "pca" and not any(event.name == "axes" for event in events):
            return  # the dimensions' selects are hidden and change nothing
        if self.plot is None or not self._drawable():
            self.rebuild()
            return
        post = self.data.posterior()
        with pn.io.hold():
            if post is not None:
                plots.write_points(self.plot, *self.coordinates(post[0]).T)
            plots.write_axis_labels(self.plot, *self.axis_labels())
        self.repaint()

    def _drawable(self) -> bool:
        """Whether the chosen axes make a map: two different dimensions, or a principal plane."""
        if self.axes == "pca":
            return self.plane() is not None
        return self.x_dim != self.y_dim

    def plane(self) -> projection.Plane | None:
        """The plane of the data's first two principal components (fitted once per model), or
        None without a data sample and an encoder."""
        post = self.data.posterior()
        if post is None:
            return None
        if self._plane_of is not post:
            self._plane_of, self._plane = post, projection.principal_plane(post[0])
        return self._plane

    def coordinates(self, z) -> np.ndarray:
        """Where latent points (d, or N×d) lie on the map: (2,) or N×2."""
        if self.axes == "pca":
            return self.plane().coordinates(z)
        return np.asarray(z)[..., list(self.dims)]

    def axis_labels(self) -> tuple[str, str]:
        if self.axes == "pca":
            share = self.plane().explained
            return tuple(f"PC{k + 1} ({share[k]:.0%} of the data's variance)" for k in range(2))
        i, j = self.dims
        return dim_label("z", i), dim_label("z", j)

    @property
    def dims(self) -> tuple[int, int]:
        return int(self.x_dim), int(self.y_dim)

    def click(self, x: float, y: float) -> None:
        """Move z to (x, y) on the map: its two dimensions (:meth:`LatentModel.place`), or, on
        the principal plane, z moved along the plane alone (:meth:`move_by`). A point that is
        not finite (only a hostile client sends one) is refused."""
        point = finite(x), finite(y)
        if None in point:
            untrusted.refused("2-D map tap", (x, y), "not a finite point")
            return
        if self.axes == "pca":
            z = self.z()
            self.move_by(self.plane().moved(z, point) - z)
        else:
            self.model.place(self.dims, point)

    def move_by(self, delta) -> None:
        """z + ``delta``: in sample mode μ moves by ``delta`` (σ and ε stay, so z moves by it
        exactly); otherwise z is set exactly (from the prior, the z drawn so far, moved); each
        value clamped to its slider's range."""
        m = self.model
        if m.mode == "sample":
            mu, _ = bounded(np.asarray(m.mu) + delta, MU.bounds, 4)
            m.mu = mu
        else:
            z, _ = bounded(m.current_z() + delta, Z_SET.bounds, 4)
            m.param.update(mode="deterministic", z_set=z)

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
        if not self._drawable():
            missing = self.data.missing("The principal components' map")
            why = "Choose two different dimensions." if self.axes == "dims" else missing
            self._body.objects = [self._header, markdown(html.escape(why))]
            return None
        z = self.z()
        return (
            self.model.vae, z, self._axes(), self.size, self._points(), self.axis_labels(),
            tuple(self.coordinates(z)), self._nearest(z),
        )  # fmt: skip

    def draw(self, inputs):
        vae, z, axes, n, points, labels, current, nearest = inputs
        low, high = grids.SPAN
        half = (high - low) / (n - 1) / 2  # cell centres on the grid
        element = plots.map_element(
            to_uint8(manifold_image(vae, z, axes, n)),
            (low - half, high + half),
            labels,
            current,
            points,
            nearest,
        )
        return render(element, names.MAP_SOURCE)

    def install(self, figure) -> None:
        self.plot = InPlacePlot.of(figure)
        self.plot.layer(plots.MAP_CURRENT, names.MAP_CURRENT_SOURCE)
        self.plot.layer(plots.MAP_NEAREST, names.MAP_NEAREST_SOURCE)
        untrusted.on_event(
            self.plot.figure, Tap, "2-D map tap", lambda event: self.click(event.x, event.y)
        )
        self._body.objects = [self._header, pn.pane.Bokeh(self.plot.figure), self._legend]

    def _axes(self):
        """What the manifold spans: two dimensions (i, j), or the principal plane."""
        return self.plane() if self.axes == "pca" else self.dims

    def _nearest(self, z) -> tuple:
        """Where the NEAREST posterior means to z (in the whole latent space) lie on the map, as
        (x, y); none without a data sample and an encoder."""
        post = self.data.posterior()
        if post is None:
            return (), ()
        found = self.coordinates(post[0][neighbours.nearest(z, post[0], NEAREST).indices])
        return found[:, 0].tolist(), found[:, 1].tolist()

    def _points(self) -> tuple | None:
        """The data sample's posterior means on the map, labelled and coloured (the legend says
        which colour is which), as (x, y, labels, colours); None without a sample."""
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
        x, y = self.coordinates(mu).T
        return x, y, labels, colors

    def update(self) -> None:
        if self.plot is None:
            return
        z = self.z()
        write_image(self.plot, manifold_image(self.model.vae, z, self._axes(), self.size))
        plots.write_current(self.plot, *map(float, self.coordinates(z)))
        plots.write_nearest(self.plot, *self._nearest(z))


def manifold_image(vae, z, axes, n: int):
    """The decoded manifold over ``axes`` (two dimensions, or a :class:`projection.Plane`
    through z), n × n cells, as one mosaic without padding (top row: largest y), at most MAP_PX
    pixels a side (larger cells shrunk)."""
    shape = decoding.image_shape(vae)
    if isinstance(axes, projection.Plane):
        grid = axes.grid(z, grids.sweep(n))
        cells = decoding.decode(vae, grid.reshape(n * n, -1))
        cells = cells.reshape(n, n, *cells.shape[1:])
    else:
        cells = grids.manifold(vae, z, axes, n)
    cells = shrink(cells, shape, MAP_PX // n)
    return grids.mosaic(cells, pad=0, rgb=shape[0] == 3)
