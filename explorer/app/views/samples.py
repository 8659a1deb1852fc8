"""The Samples view: K draws of z ~ N(μ, σ²) (or of the prior) side by side, σ's effect at a
glance."""

from __future__ import annotations

import math

import numpy as np
import panel as pn
import param

from explorer import names
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import fit_scale, grid_element, shrink
from explorer.compute import decoding, grids
from explorer.plots import InPlacePlot, render, write_image

MOST = 64  # a cell's longest side on screen, in image pixels: larger images are shrunk


class SamplesView(View):
    """K draws of z ~ N(μ, σ²) side by side: σ's effect at a glance."""

    title = "Samples"
    css = names.SAMPLES
    follows = ("mu", "sigma", "seed", "mode")

    count = param.Selector(
        default=64, objects=[16, 36, 64, 100], label="Samples", doc="How many draws, in a square"
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        count = pn.widgets.Select.from_param(
            self.param.count, width=120, css_classes=[names.SAMPLES_COUNT]
        )
        self.param.watch(self.rebuild, "count")
        self._header = pn.Row(count, markdown(self.param.note))

    def _work(self):
        """Says what is drawn (``note``); returns what draws the mosaic (in any thread)."""
        m, k = self.model, self.count
        if m.mode == "prior":
            mu, sigma = np.zeros(m.latent_dim), np.ones(m.latent_dim)
            self.note = f"{k} draws of the prior N(0, I) (seed {m.seed})"
        else:
            mu, sigma = m.mu, m.sigma
            self.note = f"{k} draws of z ~ N(μ, σ²) (seed {m.seed}; Resample for others)"
        vae, seed = m.vae, m.seed

        def image() -> np.ndarray:
            shape = decoding.image_shape(vae)
            images = shrink(grids.samples(vae, mu, sigma, k, seed), shape, MOST)
            return grids.mosaic(images, ncols=math.isqrt(k), pad=grids.PAD, rgb=shape[0] == 3)

        return image

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        return self._work()

    def draw(self, image):
        image = image()
        return render(grid_element(image, fit_scale(image, 600, 600, 2.0)), names.SAMPLES_SOURCE)

    def install(self, figure) -> None:
        self.plot = InPlacePlot.of(figure)
        self._body.objects = [self._header, pn.pane.Bokeh(self.plot.figure)]

    def update(self) -> None:
        write_image(self.plot, self._work()())
