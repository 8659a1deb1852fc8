"""Where z stands, under the Explore tab's image: the data images whose posterior means lie
nearest z (a click loads one's posterior as μ and σ, as Encode does), and how typical z is,
under the data's aggregate posterior (the exact mixture of the sample's q(z|x)) and the prior,
with a warning when no data image maps near it.

It follows every change of z at once, inside the hold of the change that moved it: a slider's
move sends the browser one patch with the image and this, not two (a patch of its own cost the
server ≈ 2 ms a move, as much again as the move's own update; benchmarks/README.md, #19). Its
Bokeh models are in the page from the start, hidden until the model's data is in: models added
to a page that is up cost a walk of the whole document (≈ 35 ms of every open). That data is
computed after the page has loaded, off the event loop, once per model (the sample's posterior,
each mean's density, the strip).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import panel as pn
from bokeh.events import Tap
from bokeh.models import ColumnDataSource

from explorer import names
from explorer.app import internals, untrusted
from explorer.app.views import session
from explorer.app.views.base import markdown
from explorer.app.views.elements import cell_size, shrink
from explorer.app.views.session import SessionData
from explorer.compute import decoding, grids, neighbours, typicality
from explorer.compute.grids import PAD
from explorer.data.samples import Sample
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from explorer.latent.vector import finite
from explorer.plots import (
    IMAGE_COLUMN,
    InPlacePlot,
    draw_pixels,
    fits,
    is_rgb,
    pixel_figure,
    rgba,
    write_image,
)

MOST = 48  # a strip cell's longest side, in image pixels: larger images are shrunk
# The strip's width on screen: it sits beside the image, in the z bars' column, which is at
# least explorer.BARS_MIN_PX (300 px) wide; wider, it ran off a 1024 px page with the sidebar.
STRIP_PX = 280
CAPTION_PX = 30  # the two lines of label and distance under each image
WHAT = "Where z stands (its nearest data images and typicality)"


@dataclass(frozen=True)
class Prepared:
    """What one model's updates read: its sample, posterior means and σ, the aggregate
    posterior, and the strip for the z it was prepared for."""

    sample: Sample
    mu: np.ndarray
    sigma: np.ndarray
    aggregate: typicality.Aggregate
    strip: np.ndarray
    indices: np.ndarray  # the sample images the strip shows, nearest the z it was drawn for
    height: int  # the mosaic's height in pixels (its y axis points up)
    cell: tuple[int, int]  # a cell's (height, width) in pixels


class WhereAmI(pn.viewable.Viewer):
    """The nearest data images (class NEAREST) and the typicality line (class TYPICALITY), with
    the OFF_MANIFOLD warning; a one-line note instead without an encoder or a data sample."""

    def __init__(self, model: LatentModel, data: SessionData, k: int = neighbours.K):
        super().__init__()
        self.model, self.data, self.k = model, data, k
        self.prepared: Prepared | None = None
        self.shown: np.ndarray = np.empty(0, dtype=int)  # sample indices in the strip, in order
        self._started = False  # the page has loaded: a model's data may be prepared
        self._follow = untrusted.guarded("Where z stands", self.update)
        self._make_parts()
        self._parts.visible = False  # until the first model's data is in
        self._layout = pn.Column(self._parts, sizing_mode="stretch_width", margin=0)
        model.param.watch(self._moved, "z")
        model.param.watch(self._new_model, "info")
        pn.state.onload(self._start)

    def __panel__(self):
        return self._layout

    # -- per model, off the event loop ----------------------------------------------------------
    def _start(self) -> None:
        self._started = True
        self._new_model()

    def _new_model(self, *_) -> None:
        self.prepared = None  # moves wait for the new model's data
        if not self._started or self.model.vae is None:
            return
        z, k = self.z(), self.k
        self._parts.loading = True
        self.data.background.run(
            lambda: self._prepare(z, k), self._install, self._failed, key=names.NEAREST
        )

    def _prepare(self, z, k) -> Prepared | str:
        """In a worker thread: the sample's posterior and aggregate, the strip for ``z``; or why
        there is none (a line). A newer model's run supersedes it (Background's key)."""
        missing = self.data.missing(WHAT)
        if missing is not None:
            return missing
        vae, sample = self.model.vae, self.data.sample()
        mu, logvar = session.shared_posterior(vae, sample)
        aggregate, sigma = session.per_model(
            vae, ("where", *session.sample_key(sample)), lambda: typicality_parts(mu, logvar)
        )
        shape = sample.shape
        # z may still be the last model's (of another size): then the first images, which the
        # update after installing replaces
        fits = z.shape == mu.shape[1:]
        indices = neighbours.nearest(z, mu, k).indices if fits else np.arange(min(k, len(mu)))
        strip = self._strip(sample, indices, k)
        cell = cell_size(shape, MOST)
        return Prepared(sample, mu, sigma, aggregate, strip, indices, strip.shape[0], cell)

    @staticmethod
    def _strip(sample: Sample, indices: np.ndarray, k: int) -> np.ndarray:
        """Images ``indices`` of the sample in one row of ``k`` cells (floats in [0, 1])."""
        shape = sample.shape
        images = shrink(decoding.as_images(sample.images[indices], shape), shape, MOST)
        return grids.mosaic(images, ncols=k, pad=PAD, rgb=shape[0] == 3)

    def _install(self, prepared: Prepared | str) -> None:
        """On the event loop: the strip and the lines for the new model, or the note."""
        if isinstance(prepared, str):
            self._parts.loading = False
            self._layout.objects = [markdown(html.escape(prepared))]
            return
        if fits(self.plot, prepared.strip):
            write_image(self.plot, prepared.strip)
        else:  # a model of another image size or colour
            self._show_strip(prepared.strip)
        self._parts.loading = False
        self._parts.visible = True
        if self._layout.objects != [self._parts]:
            self._layout.objects = [self._parts]
        self.prepared, self.shown = prepared, prepared.indices
        with pn.io.hold():
            self.update()

    def _failed(self, error: Exception) -> None:
        self._parts.loading = False
        raise error  # Background logs it; the strip stays as it was

    def _make_parts(self) -> None:
        """The page's models, once: the strip (blank, sized for the model's images) with its
        captions, the typicality line, the warning."""
        self._caption = internals.text_model(height=CAPTION_PX, margin=(0, 5))
        self._strip_box = pn.Column(margin=0)
        vae = self.model.vae
        self._show_strip(blank_strip(vae.image_shape if vae is not None else (1, 28, 28), self.k))
        self._typicality = internals.text_model(sizing_mode="stretch_width", margin=(0, 10))
        self._warning = pn.pane.Alert(
            typicality.WARNING,
            alert_type="warning",
            css_classes=[names.OFF_MANIFOLD],
            visible=False,
            sizing_mode="stretch_width",
            margin=(0, 10),
        )
        heading = markdown(
            "**Nearest data** (posterior means nearest z; click one to load its q(z|x) as μ, σ)"
        )
        self._parts = pn.Column(
            heading,
            pn.Column(self._strip_box, pn.pane.Bokeh(self._caption), css_classes=[names.NEAREST]),
            pn.Column(pn.pane.Bokeh(self._typicality), css_classes=[names.TYPICALITY]),
            self._warning,
            sizing_mode="stretch_width",
        )

    def _show_strip(self, strip: np.ndarray) -> None:
        """A new strip figure showing ``strip``, in place of the last one."""
        if self._strip_box.objects:  # the page may hold the old strip a while: one source by name
            self.plot.source.name = None
        figure = strip_figure(strip)
        self.plot = InPlacePlot.of(figure)
        untrusted.on_event(figure, Tap, "Nearest data tap", self._tapped)
        self._strip_box.objects = [pn.pane.Bokeh(figure)]
        self._caption.width = figure.frame_width

    # -- per move, with the image ----------------------------------------------------------------
    def _moved(self, *_) -> None:
        if self.prepared is None:
            return  # the model's data is on its way: installing it brings the strip up to date
        with pn.io.hold():  # the caller's hold, if it holds one (a slider's move does)
            self._follow()

    def update(self) -> None:
        """Write the strip (when its images change), its captions and the typicality line for
        the current z."""
        prepared, z = self.prepared, self.z()
        if z.shape != prepared.mu.shape[1:]:
            return  # a new model's z is on its way: its own change updates the strip
        found = neighbours.nearest(z, prepared.mu, self.k)
        if not np.array_equal(found.indices, self.shown):
            self.shown = found.indices
            write_image(self.plot, self._strip(prepared.sample, found.indices, self.k))
        internals.write_text(self._caption, self._captions(found))
        where = prepared.aggregate.where(z)
        internals.write_text(self._typicality, typicality_html(where, len(prepared.sample)))
        if self._warning.visible != where.off_manifold:
            self._warning.visible = where.off_manifold

    def _captions(self, found: neighbours.Nearest) -> str:
        """Each image's label and distance, in a box as wide as its cell on screen (a long label
        is cut short there)."""
        sample = self.prepared.sample
        width = self.plot.figure.frame_width / self.k
        style = (
            f"display:inline-block;width:{width:.1f}px;text-align:center;overflow:hidden;"
            "text-overflow:ellipsis;white-space:nowrap;vertical-align:top"
        )
        cells = [
            f"<span style='{style}'>{html.escape(sample.classes[int(sample.labels[i])])}"
            f"<br>{d:.2f}</span>"
            for i, d in zip(found.indices, found.distances, strict=True)
        ]
        return f"<div style='font-size:10px;line-height:1.3'>{''.join(cells)}</div>"

    # -- a click on the strip ------------------------------------------------------------------
    def _tapped(self, event) -> None:
        x, y = finite(event.x), finite(event.y)
        if x is None or y is None:
            untrusted.refused("Nearest data tap", (event.x, event.y), "not a finite point")
            return
        prepared = self.prepared
        if prepared is None:
            return
        count = len(self.shown)
        cell = grids.cell_index(x, prepared.height - y, count, self.k, prepared.cell, PAD)
        if cell is not None:
            self.select(int(self.shown[cell]))

    def select(self, index: int) -> None:
        """Load image ``index``'s posterior as μ and σ (:meth:`LatentModel.set_posterior`), and
        note it as the image last encoded, as Encode does."""
        prepared = self.prepared
        self.data.encoded = prepared.mu[index]
        self.model.set_posterior(prepared.mu[index], prepared.sigma[index])

    def z(self) -> np.ndarray:
        z = self.model.z
        return z if z is not None else np.zeros(self.model.latent_dim, dtype=np.float32)


def strip_figure(strip: np.ndarray):
    """The strip (floats in [0, 1], H×W grey or H×W×3 RGB) as a plain Bokeh figure, its source
    named NEAREST_SOURCE, drawn as explorer.plots.render draws a grid_element (8-bit levels, or
    packed RGBA; rows bottom-up, as write_image writes them; no axes, tools or grid), for a
    third of the CPU: HoloViews' render was ≈ 25 ms of each page open (benchmarks/README.md)."""
    height, width = strip.shape[:2]
    scale = STRIP_PX / width
    figure = pixel_figure(
        (height, width),
        frame_width=round(width * scale),
        frame_height=round(height * scale),
        min_border=10,
    )
    rgb = is_rgb(strip)
    pixels = rgba(strip) if rgb else to_uint8(strip)
    source = ColumnDataSource({IMAGE_COLUMN: [pixels[::-1]]}, name=names.NEAREST_SOURCE)
    draw_pixels(figure, source, rgb, 255, x=0, y=0, dw=width, dh=height)
    return figure


def blank_strip(shape: tuple[int, int, int], k: int) -> np.ndarray:
    """A strip of ``k`` empty cells for images of ``shape`` (C, H, W), as WhereAmI._strip
    lays out images of that shape."""
    height, width = cell_size(shape, MOST)
    colour = (3,) if shape[0] == 3 else ()
    return grids.mosaic(np.ones((k, height, width, *colour)), ncols=k, pad=PAD, rgb=bool(colour))


def typicality_parts(mu: np.ndarray, logvar: np.ndarray) -> tuple[typicality.Aggregate, np.ndarray]:
    """A model's aggregate posterior and its sample's σ: computed once per model and process
    and shared read-only by its sessions (session.per_model), not at each page open."""
    aggregate = typicality.Aggregate.of(mu, logvar)
    session.frozen(aggregate.mu, aggregate.logvar, aggregate.data_log_q)
    return aggregate, session.frozen(np.exp(0.5 * logvar).astype(np.float32))[0]


def typicality_html(where: typicality.Typicality, count: int) -> str:
    """The typicality line: log q(z) and its percentile, log p(z), and which q it is."""
    return (
        f"<div>log q(z) = {where.log_q:.1f} (percentile {where.percentile:.0f} of the data), "
        f"log p(z) under N(0, I) = {where.log_prior:.1f} "
        f"<span style='color:#666'>(q: the exact mixture of the {count} data images' q(z|x); "
        "the percentile among their posterior means, each held out of it)</span></div>"
    )
