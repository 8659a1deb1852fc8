"""The KL view: per-dimension KL over the data sample (which units the model uses, and which are
active), and the KL of the sliders' N(μ, σ²) per dimension, live."""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn

from explorer import names
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import CURRENT
from explorer.app.views.session import NO_SAMPLE
from explorer.compute import divergence
from explorer.latent.table import dim_label
from explorer.plots import InPlacePlot, render

ACTIVE, INACTIVE = "#2563eb", "#cbd5e1"
MARKS = 1  # the overlay's layers: the bars, then the marks of the sliders' KL


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
        dims = [dim_label("z", d) for d in range(n)]
        bars = hv.Bars(
            {"dimension": dims, "kl": kl, "color": [ACTIVE if a else INACTIVE for a in active]},
            kdims=["dimension"],
            vdims=["kl", "color"],
        ).opts(color="color", line_color=None)
        marks = hv.Scatter({"dimension": dims, "now": now}, kdims=["dimension"], vdims=["now"])
        ceiling = float(max(kl.max(), 1.0)) * 1.1
        overlay = (bars * marks.opts(color=CURRENT, size=8, marker="diamond")).opts(
            height=320, responsive=True, min_width=400, toolbar=None, default_tools=[],
            tools=["hover"], ylabel="KL (nats)", xlabel="", xrotation=90 if n > 16 else 0,
            ylim=(0, ceiling),
            title="Bars: mean KL(q(z_d|x) ‖ N(0,1)) over the data; ◆: KL of your N(μ_d, σ_d²)",
        )  # fmt: skip
        order = ", ".join(dim_label("z", d) for d in divergence.by_kl(kl)[: min(n, 8)])
        summary = (
            f"**Active units: {int(active.sum())} of {n}** (variance of the posterior mean over "
            f"the data > {divergence.ACTIVE_THRESHOLD}; Burda et al. 2016; "
            "grey bars are inactive). "
            f"Total KL {kl.sum():.1f} nats over {count} images "
            f"({html.escape(source)}). Largest: {order}."
        )
        return render(overlay, names.KL_SOURCE), ceiling, summary

    def install(self, drawn) -> None:
        figure, self._ceiling, summary = drawn
        self.plot = InPlacePlot.of(figure)
        self.marks = self.plot.layer(MARKS, names.KL_CURRENT_SOURCE)
        self._body.objects = [
            markdown(summary, css_classes=[names.KL_SUMMARY]),
            pn.pane.Bokeh(self.plot.figure, sizing_mode="stretch_width"),
        ]

    def update(self) -> None:
        if self.plot is None:
            return
        now = divergence.gaussian_kl(self.model.mu, self.model.sigma)
        self.plot.write(MARKS, now=now)
        top = float(now.max(initial=0.0)) * 1.1
        if top > self._ceiling:  # a taller mark widens the axis; it never shrinks while shown
            self._ceiling = top
            self.plot.figure.y_range.end = top
