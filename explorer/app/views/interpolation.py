"""The Interpolation view: two latent points A and B, the linear or spherical path between them,
and the image at a point t of it."""

from __future__ import annotations

import functools

import numpy as np
import panel as pn
import param
from bokeh.models import Slider

from explorer import names
from explorer.app import untrusted
from explorer.app.views.base import View, gif_download, markdown
from explorer.app.views.elements import cell_size, fit_scale, grid_element, shrink, ticks
from explorer.compute import decoding, grids
from explorer.figures import animation
from explorer.latent.vector import Bounds
from explorer.plots import InPlacePlot, render, write_image

STEPS = 11  # images along the path, ends included
T_BOUNDS = Bounds(0.0, 1.0)
MOST, MOST_AT_T = 64, 256  # the longest side on screen of a cell, of z(t): larger are shrunk
SOURCES = {"z": "current z", "encoded": "encoded image", "random": "random"}  # where A, B come from


class InterpolationView(View):
    """Two latent points A and B, the linear or spherical path between them, and a t slider."""

    title = "Interpolation"
    css = names.INTERP

    follow = param.Boolean(
        default=True, label="B follows the current z", doc="B moves with z until it is set"
    )
    method = param.Selector(
        default="linear",
        objects={"linear": "linear", "spherical (slerp)": "spherical"},
        label="Path",
        doc="The straight line from A to B, or the great circle between their directions",
    )
    t = param.Number(
        default=0.5, bounds=T_BOUNDS, step=0.01, label="t", doc="Where on the path: A at 0, B at 1"
    )
    a = param.Array(default=None, allow_None=True, doc="End point A (a draw of N(0, I) until set)")
    b = param.Array(default=None, allow_None=True, doc="End point B (the current z while followed)")

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._rng = np.random.default_rng(model.seed)
        # t's slider is a Bokeh model of its own, as the μ sliders are: a move reaches the server
        # without Panel's 50 ms debounce. Its callback checks what a client sent.
        self.t_slider = Slider(
            start=T_BOUNDS[0], end=T_BOUNDS[1], step=0.01, value=self.t, title="t",
            css_classes=[names.INTERP_T], sizing_mode="stretch_width",
        )  # fmt: skip
        untrusted.on_change(self.t_slider, "value", "interpolation t", self._t_moved)
        buttons = []
        for end in "AB":
            for source, label in SOURCES.items():
                button = pn.widgets.Button(
                    label=f"{end} ← {label}", css_classes=[names.interp_point(end, source)]
                )
                button.on_click(lambda _e, end=end, source=source: self.set_point(end, source))
                buttons.append(button)
        method = pn.widgets.RadioButtonGroup.from_param(
            self.param.method, name="", css_classes=[names.INTERP_METHOD]
        )
        follow = pn.widgets.Checkbox.from_param(
            self.param.follow, css_classes=[names.INTERP_FOLLOW]
        )
        self.gif = gif_download(model, "interpolation", self.frames)  # the GIF of its path
        self._controls = pn.Column(
            pn.Row(*buttons[:3]), pn.Row(*buttons[3:]), pn.Row(method, follow, self.gif)
        )
        self._side = pn.Column(pn.pane.Bokeh(self.t_slider, width=320), markdown(self.param.note))
        self._bottom = pn.Row(self._side)  # z(t) joins it once drawn

    def _t_moved(self, _attr, _old, new) -> None:
        """t's slider moved. A value outside [0, 1] is clamped, one that is no number (NaN, from a
        client, not from the slider) refused; either way the slider is set to the t in use."""
        t = untrusted.clamped("interpolation t", new, T_BOUNDS)
        if t is None:
            self.t_slider.value = self.t  # in Bokeh's callback: the lock is held
        else:
            self.t = t

    @param.depends("follow", "method", "t", watch=True)
    def _chosen(self) -> None:
        self.t_slider.value = self.t  # the same value (a move of its own) changes nothing
        self.repaint()

    def set_point(self, end: str, source: str) -> None:
        """Set A or B from the current z, the last encoded image, or a draw of N(0, I)."""
        n = self.model.latent_dim
        if source == "z":
            point = self.z()
        elif source == "encoded":
            if self.data.encoded is None or self.data.encoded.size != n:
                self.note = "Encode an image first (the Encode tab)."
                return
            point = self.data.encoded
        else:
            point = self._rng.standard_normal(n).astype(np.float32)
        if end == "A":
            self.a = np.array(point, dtype=np.float32)
        else:
            self.b = np.array(point, dtype=np.float32)
            self.follow = False  # B is now fixed (this also repaints)
        self.repaint()

    def _ends(self) -> None:
        self.a, self.b = grids.path_ends(self.a, self.b, self.z(), self.follow, self._rng)

    def frames(self):
        """What draws the animated path from A to B by the chosen method, there and back."""
        self._ends()
        m = self.model
        return functools.partial(
            animation.interpolation, m.vae, self.a, self.b, methods=(self.method,), name=m.info.name
        )

    def _images(self) -> tuple[np.ndarray, np.ndarray]:
        """The path's strip as one mosaic, and the image at t; ``note`` says where A and B are."""
        self._ends()
        vae = self.model.vae
        images = grids.interpolation(vae, self.a, self.b, STEPS, self.t, self.method)
        shape = decoding.image_shape(vae)
        angle = np.degrees(grids.angle(self.a, self.b))
        self.note = (
            f"|A| = {np.linalg.norm(self.a):.2f}, |B| = {np.linalg.norm(self.b):.2f}, "
            f"angle {angle:.0f}°; t = {self.t:.2f}"
        )
        strip = grids.mosaic(shrink(images[:STEPS], shape, MOST), pad=grids.PAD, rgb=shape[0] == 3)
        return strip, shrink(images[STEPS], shape, MOST_AT_T)

    def skeleton(self) -> list:
        return [self._controls, self._bottom]

    def prepare(self):
        strip, at_t = self._images()  # a dozen decodes: light enough here; it moves A and B
        return strip, at_t, cell_size(decoding.image_shape(self.model.vae), MOST)[1]

    def draw(self, images):
        strip, at_t, cell_w = images
        labels = [f"{t:.1f}" for t in np.linspace(0, 1, STEPS)]
        strip_element = grid_element(
            strip, fit_scale(strip, 700, 300, 2.0), xticks=ticks(labels, cell_w), title="A → B"
        )
        at_t_element = grid_element(at_t, fit_scale(at_t, 256, 256, 6.0), title="z(t)")
        return (
            render(strip_element, names.INTERP_SOURCE),
            render(at_t_element, names.INTERP_T_SOURCE),
        )

    def install(self, figures) -> None:
        strip, at_t = figures
        self.strip, self.at_t = InPlacePlot.of(strip), InPlacePlot.of(at_t)
        self._bottom.objects = [pn.pane.Bokeh(self.at_t.figure), self._side]
        self._body.objects = [self._controls, pn.pane.Bokeh(self.strip.figure), self._bottom]

    def update(self) -> None:
        strip, at_t = self._images()
        write_image(self.strip, strip)
        write_image(self.at_t, at_t)
