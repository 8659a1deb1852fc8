"""The KL view: per-dimension KL over the data sample (which units the model uses), the rule
behind the active units (Var[μ] per dimension against its threshold), and the KL of the sliders'
N(μ, σ²) per dimension, live. Dimensions by index, or with "Order by KL" most used first, as
every view orders them (:func:`explorer.compute.divergence.dimension_order`)."""

from __future__ import annotations

import html

import panel as pn
import param

from explorer import names, plots
from explorer.app.views.base import View, markdown
from explorer.compute import divergence
from explorer.latent.table import dim_label
from explorer.plots import InPlacePlot, render


class KLView(View):
    """Per-dimension KL over the data sample (which units the model uses), Var[μ] per dimension
    with the active-unit threshold, and the KL of the sliders' N(μ, σ²) per dimension, live."""

    title = "KL / active units"
    css = names.KL
    follows = ("mu", "sigma")

    by_kl = param.Boolean(
        default=False,
        doc="Dimensions most used first along the axes: set from the sliders' Order by KL",
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self.variance: InPlacePlot | None = None  # the Var[μ] plot (static for a model)
        self.param.watch(self.rebuild, "by_kl")

    def prepare(self):
        post = self.data.posterior()
        if post is None:
            self.plot = self.variance = None
            why = self.data.missing("The KL of the data") or "No data to measure KL on."
            self._body.objects = [markdown(html.escape(why))]
            return None
        sample = self.data.sample()
        now = divergence.gaussian_kl(self.model.mu, self.model.sigma)
        return post, now, len(sample), sample.source, self.by_kl

    def draw(self, inputs):
        post, now, count, source, by_kl = inputs
        kl = divergence.kl_per_dimension(*post)
        variance = divergence.mean_variance(post[0])
        active = divergence.active_units(post[0])
        n = kl.size
        order = divergence.dimension_order(n, (kl, active) if by_kl else None).dims
        largest = ", ".join(dim_label("z", d) for d in divergence.by_kl(kl)[: min(n, 8)])
        summary = (
            f"**Active units: {int(active.sum())} of {n}** (variance of the posterior mean over "
            f"the data > {divergence.ACTIVE_THRESHOLD}, the dashed line below; Burda et al. "
            "2016; grey bars are inactive). "
            f"Total KL {kl.sum():.1f} nats over {count} images "
            f"({html.escape(source)}). Largest: {largest}."
        )
        figure = render(plots.kl_element(kl, active, now, order), names.KL_SOURCE)
        threshold = divergence.ACTIVE_THRESHOLD
        spread = render(
            plots.variance_element(variance, threshold, order), names.KL_VARIANCE_SOURCE
        )
        return figure, spread, summary

    def install(self, drawn) -> None:
        figure, spread, summary = drawn
        self.plot = InPlacePlot.of(figure)
        self.marks = self.plot.layer(plots.KL_MARKS, names.KL_CURRENT_SOURCE)
        self.variance = InPlacePlot.of(spread)
        self._body.objects = [
            markdown(summary, css_classes=[names.KL_SUMMARY]),
            pn.pane.Bokeh(self.plot.figure, sizing_mode="stretch_width"),
            pn.Column(
                pn.pane.Bokeh(self.variance.figure, sizing_mode="stretch_width"),
                css_classes=[names.KL_VARIANCE],  # on a Column: on the pane it does not land
                sizing_mode="stretch_width",
            ),
        ]

    def update(self) -> None:
        if self.plot is None:
            return
        plots.write_marks(self.plot, divergence.gaussian_kl(self.model.mu, self.model.sigma))
