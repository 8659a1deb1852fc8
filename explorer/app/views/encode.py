"""The Encode view: pick a data image (click the gallery) or draw one; its posterior q(z|x) sets μ
and σ, and the view shows the input, its reconstruction and the image of the current z.

The result sits beside the gallery, above the drawing, so that it is in view (at 1440×900 and
1280×720) without scrolling; a box marks the gallery's chosen image."""

from __future__ import annotations

import html

import numpy as np
import panel as pn
import param
from bokeh.events import Tap

from explorer import names, plots
from explorer.app import untrusted
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import cell_size, fit_scale, grid_element, shrink, ticks
from explorer.app.views.session import has_encoder, no_encoder
from explorer.compute import decoding, drawing, grids
from explorer.compute.grids import CELL, PAD
from explorer.latent.vector import finite
from explorer.plots import InPlacePlot, render, write_image

GALLERY_COLUMNS = 16
GALLERY_MOST, TRIPTYCH_MOST = 32, 128  # a cell's longest side on screen: larger are shrunk
TRIPTYCH_SCALE = 4.0  # screen pixels per image pixel of the result (28 px), at most
TRIPTYCH_PX = round((3 * (CELL + PAD) + PAD) * TRIPTYCH_SCALE)  # its width: 28 px images' width
CANVAS_PX = 224  # the drawing's longest side on screen
RESULT_PX = round((CELL + 2 * PAD) * TRIPTYCH_SCALE) + 60  # with its title and labels
# In place of the triptych until an image is encoded: its input and reconstruction are blank.
NOTHING_ENCODED = "Click an image of the gallery, or draw one, to encode it."


class EncodeView(View):
    """Pick a data image (click the gallery) or draw one: its posterior q(z|x) sets μ and σ."""

    title = "Encode"
    css = names.ENCODE

    note = param.String(default="", doc="What was encoded, and how")
    clear = param.Event(label="Clear drawing", doc="Clear the drawing")

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._input: np.ndarray | None = None
        self._reconstruction: np.ndarray | None = None
        self._note = markdown(self.param.note)
        self._nothing = markdown(NOTHING_ENCODED)
        self._triptych: pn.Column | None = None  # shown once an image is encoded
        self._gallery_plot: InPlacePlot | None = None  # the gallery, its box on the chosen image
        self._gallery_height = 0  # its mosaic's height in pixels (its y axis points up)
        self._gallery_cell = (CELL, CELL)  # its cells' (height, width) in pixels
        self._shape = (1, CELL, CELL)  # (C, H, W) of the images drawn and encoded
        self.canvas, self.strokes = self._canvas()
        self._canvas_box = pn.Column(
            markdown("**Draw** (each stroke encodes)"),
            pn.pane.Bokeh(self.canvas),
            pn.widgets.Button.from_param(self.param.clear, css_classes=[names.ENCODE_CLEAR]),
            css_classes=[names.ENCODE_CANVAS],
        )
        # The result first, then the drawing: beside the gallery, which joins them once drawn.
        # The result's room is kept while it is empty, so the drawing does not move down under a
        # stroke as the first result appears.
        self._result = pn.Column(self._nothing, min_height=RESULT_PX)
        self._side = pn.Column(self._result, self._note, self._canvas_box)
        self._top = pn.Row(self._side)

    # -- the drawing surface --------------------------------------------------------------
    def _canvas(self):
        """The black square to draw in, and the data source of its strokes (the browser's)."""
        canvas, strokes = plots.drawing_canvas(
            CELL, CANVAS_PX, drawing.MAX_STROKES, names.ENCODE_STROKES
        )
        untrusted.on_change(
            strokes, "data", "Encode drawing", lambda _attr, _old, _new: self._drawn()
        )
        return canvas, strokes

    def _drawn(self) -> None:
        """A stroke was drawn: encode the drawing. What no draw tool sends (a string, NaN, more
        than MAX_POINTS points) clears the drawing, with a note."""
        xs, ys = plots.strokes(self.strokes)
        try:
            strokes = drawing.checked_strokes(xs, ys)
        except ValueError as exc:
            untrusted.refused("Encode drawing", xs, str(exc))
            self.note = html.escape(f"Drawing cleared: {exc}. Draw again.")
            plots.clear_strokes(self.strokes)  # in Bokeh's callback: the lock is held
            return
        if not strokes or not has_encoder(self.model.vae):
            return
        xs, ys = zip(*strokes, strict=True)
        channels, *size = self._shape
        size = tuple(size)
        image = drawing.strokes_to_image(xs, ys, size, width=drawing.pen_width(size))
        # grey, in each channel of a colour model
        image = drawing.as_channels(drawing.center_like_mnist(image), channels)
        self.encode_image(image, "your drawing")
        self._mark(None)

    @param.depends("clear", watch=True)
    def _clear(self) -> None:
        with pn.io.hold():
            plots.clear_strokes(self.strokes)

    # -- encoding -------------------------------------------------------------------------
    def select(self, index: int) -> None:
        """Encode image ``index`` of the data sample."""
        sample = self.data.sample()
        label = sample.classes[int(sample.labels[index])]
        image = decoding.as_images(sample.images[index], sample.shape)[0]
        self.encode_image(image, f"image {index} ({label})")
        self._mark(index)

    def _mark(self, index: int | None) -> None:
        """Box gallery image ``index`` (None: no image) as the one encoded."""
        if self._gallery_plot is None:
            return
        box = None
        if index is not None:
            cell = self._gallery_cell
            left, top, right, bottom = grids.cell_bounds(index, GALLERY_COLUMNS, cell, PAD)
            h = self._gallery_height
            box = (left, h - bottom, right, h - top)
        plots.write_box(self._gallery_plot, box)

    def encode_image(self, image: np.ndarray, what: str) -> None:
        """Sample from the image's posterior (:meth:`LatentModel.set_posterior`)."""
        m = self.model
        mu, sigma = decoding.encode(m.vae, image[None])
        self._input = image
        self._reconstruction = decoding.decode(m.vae, mu)[0]
        self.data.encoded = mu[0]
        z = m.z
        clipped = m.set_posterior(mu[0], sigma[0])
        if m.z is z:  # the same μ and σ: nothing repainted the new input
            self.repaint()
        self.note = f"q(z|x) of {html.escape(what)}: mean σ {sigma[0].mean():.2f}" + (
            f"; {clipped} values clipped to the sliders' range" if clipped else ""
        )

    # -- plots ----------------------------------------------------------------------------
    def skeleton(self) -> list:
        return [self._top]

    def prepare(self):
        self._input = self._reconstruction = None
        vae = self.model.vae
        self._fit_canvas(decoding.image_shape(vae))
        if not has_encoder(vae):
            self.plot = self._gallery_plot = None
            self._body.objects = [markdown(no_encoder("Encoding an image"))]
            return None
        sample = self.data.sample()
        return vae, self.z(), sample, None if sample is not None else self.data.no_sample()

    def _fit_canvas(self, shape: tuple[int, int, int]) -> None:
        """The drawing's canvas for images of ``shape`` (C, H, W): one unit an image pixel, the
        longest side CANVAS_PX on screen; a drawing for the model before is cleared."""
        if shape == self._shape:
            return
        self._shape = shape
        height, width = shape[1:]
        scale = CANVAS_PX / max(height, width)
        self.canvas.x_range.end, self.canvas.y_range.end = width, height
        self.canvas.width, self.canvas.height = round(width * scale), round(height * scale)
        plots.clear_strokes(self.strokes)

    def draw(self, inputs):
        vae, z, sample, no_sample = inputs
        cells = triptych(vae, z)
        element = grid_element(
            cells,
            fit_scale(cells, TRIPTYCH_PX, TRIPTYCH_PX, TRIPTYCH_SCALE),
            xticks=ticks(["input x", "reconstruction", "current z"], cells_width(vae)),
            title="q(z|x)",
        )
        gallery = no_sample
        if sample is not None:
            shape = sample.shape
            images = shrink(decoding.as_images(sample.images, shape), shape, GALLERY_MOST)
            image = grids.mosaic(images, ncols=GALLERY_COLUMNS, pad=PAD, rgb=shape[0] == 3)
            title = f"Click to encode ({sample.source})"
            marked = plots.marked_element(grid_element(image, 1.0, title=title))
            plot = InPlacePlot.of(render(marked, names.ENCODE_GALLERY_SOURCE))
            plot.layer(plots.MARKED_BOX, names.ENCODE_GALLERY_BOX_SOURCE)
            gallery = plot, sample, image.shape[0], cell_size(shape, GALLERY_MOST)
        return render(element, names.ENCODE_SOURCE), gallery

    def install(self, drawn) -> None:
        figure, gallery = drawn
        self.plot = InPlacePlot.of(figure)
        # Hidden as a Column: a Bokeh pane's own `visible` did not hold (Panel syncs it).
        self._triptych = pn.Column(
            pn.pane.Bokeh(self.plot.figure), css_classes=[names.ENCODE_RESULT]
        )
        self._result.objects = [self._nothing, self._triptych]
        self._top.objects = [self._gallery(gallery), self._side]
        self._body.objects = [self._top]
        self._show_triptych()

    def _gallery(self, drawn):
        """The gallery ``draw`` rendered, as (plot, sample, height, cell), or a note (why there
        is none)."""
        self._gallery_plot = None
        if isinstance(drawn, str):
            return markdown(drawn, width=480)
        gallery, sample, h, cell = drawn
        self._gallery_plot, self._gallery_height, self._gallery_cell = gallery, h, cell

        def tapped(event):
            x, y = finite(event.x), finite(event.y)
            if x is None or y is None:
                untrusted.refused("Encode gallery tap", (event.x, event.y), "not a finite point")
                return
            index = grids.cell_index(x, h - y, len(sample), GALLERY_COLUMNS, cell, PAD)
            if index is not None:
                self.select(index)

        untrusted.on_event(gallery.figure, Tap, "Encode gallery tap", tapped)
        return pn.Column(pn.pane.Bokeh(gallery.figure), css_classes=[names.ENCODE_GALLERY])

    def update(self) -> None:
        write_image(
            self.plot, triptych(self.model.vae, self.z(), self._input, self._reconstruction)
        )
        self._show_triptych()

    def _show_triptych(self) -> None:
        """The triptych once it has an input to show; until then, what to do to give it one."""
        encoded = self._input is not None
        self._nothing.visible = not encoded
        if self._triptych is not None:
            self._triptych.visible = encoded


def triptych(vae, z, shown=None, reconstruction=None):
    """The input, its reconstruction (both blank until given) and the image of z, as
    :func:`explorer.compute.grids.triptych` tiles them, cells shrunk to TRIPTYCH_MOST pixels."""
    decoded = decoding.decode(vae, np.asarray(z, dtype=np.float32)[None])[0]
    blank = np.zeros_like(decoded)
    cells = [x if x is not None else blank for x in (shown, reconstruction)] + [decoded]
    shape = decoding.image_shape(vae)
    return grids.mosaic(shrink(np.stack(cells), shape, TRIPTYCH_MOST), pad=PAD, rgb=shape[0] == 3)


def cells_width(vae) -> int:
    """The width of a triptych's cells for ``vae``'s images, in pixels."""
    return cell_size(decoding.image_shape(vae), TRIPTYCH_MOST)[1]
