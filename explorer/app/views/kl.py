"""The KL view: per-dimension KL over the data sample (which units the model uses, and which are
active), and the KL of the sliders' N(μ, σ²) per dimension, live."""

from __future__ import annotations

import html

import panel as pn

from explorer import names, plots
from explorer.app.views.base import View, markdown
from explorer.app.views.session import NO_SAMPLE
from explorer.compute import divergence
from explorer.latent.table import dim_label
from explorer.plots import InPlacePlot, render


class KLView(View):
    """Per-dimension KL over the data sample (which units the model uses), and the KL of the
    sliders' N(μ, σ²) per dimension, live."""

    title = "KL / active units"
    css = names.KL
    follows = ("mu", "sigma")

    def prepare(self):
        post = self.data.posterior()
        if post is None:
            self.plot = None
            self._body.objects = [markdown(NO_SAMPLE)]
            return None
        sample = self.data.sample()
        now = divergence.gaussian_kl(self.model.mu, self.model.sigma)
        return post, now, len(sample), sample.source

    def draw(self, inputs):
        post, now, count, source = inputs
        kl = divergence.kl_per_dimension(*post)
        active = divergence.active_units(post[0])
        n = kl.size
        order = ", ".join(dim_label("z", d) for d in divergence.by_kl(kl)[: min(n, 8)])
        summary = (
            f"**Active units: {int(active.sum())} of {n}** (variance of the posterior mean over "
            f"the data > {divergence.ACTIVE_THRESHOLD}; Burda et al. 2016; "
            "grey bars are inactive). "
            f"Total KL {kl.sum():.1f} nats over {count} images "
            f"({html.escape(source)}). Largest: {order}."
        )
        return render(plots.kl_element(kl, active, now), names.KL_SOURCE), summary

    def install(self, drawn) -> None:
        figure, summary = drawn
        self.plot = InPlacePlot.of(figure)
        self.marks = self.plot.layer(plots.KL_MARKS, names.KL_CURRENT_SOURCE)
        self._body.objects = [
            markdown(summary, css_classes=[names.KL_SUMMARY]),
            pn.pane.Bokeh(self.plot.figure, sizing_mode="stretch_width"),
        ]

    def update(self) -> None:
        if self.plot is None:
            return
        plots.write_marks(self.plot, divergence.gaussian_kl(self.model.mu, self.model.sigma))
