"""The Factors view: which latent dimension carries which factor of the data. The mutual
information between each dimension's posterior mean and each factor as a heat map, the MIG
(Chen et al. 2018, as disentanglement_lib computes it) and each factor's most informative
dimension; over the label alone for a sample without factors (MNIST's digit). And
:class:`SliderNames`, which writes each clearly carried factor on its dimension's sliders
("z3 ≈ x").

The scores follow the model, not z: they are computed once per model in a worker thread
(:meth:`explorer.app.views.session.SessionData.scored`), shared by the view and the sliders.
"""

from __future__ import annotations

import html

import holoviews as hv
import numpy as np
import panel as pn
import param

from explorer import names
from explorer.app.views.base import View, markdown
from explorer.app.views.session import Scored, SessionData
from explorer.compute import divergence
from explorer.compute.factors import BINS, FactorScores
from explorer.data import datasets
from explorer.latent.space import LatentModel
from explorer.latent.table import dim_label
from explorer.plots import DIMENSION_COLUMN, render

WHAT = "The Factors view"
FACTOR_COLUMN, MI_COLUMN = "factor", "mi"  # the heat map's columns, beside DIMENSION_COLUMN
# HoloViews' name for a heat map's values in its data source (its MI_COLUMN holds them as text)
VALUES_COLUMN = "zvalues"
# A factor is named on its best dimension's sliders only when that dimension carries at least
# this much more of it than any other: (I1 − I2) / H(factor), the factor's own term of the MIG.
# At 1000 images a gap between two uninformative dimensions stays under ~0.03 (measured on
# small shapes models; shapes-beta16's rotation: 0.001); the zoo's shapes model carries x and y
# with gaps of 0.175 and 0.146, and its hue, shape and scale, shared between dimensions, with
# 0.03–0.05 (not named).
NAME_GAP = 0.1
CELL_PX = 44  # the heat map's cells, screen pixels
NAMES_KEY = "slider-names"  # SliderNames' runs in the session's Background


class FactorsView(View):
    """The mutual information of each dimension with each factor (a heat map), the MIG, and
    each factor's best dimension with its gap; a line instead without encoder or sample."""

    title = "Factors"
    css = names.FACTORS
    follows = ()  # the scores change with the model alone

    by_kl = param.Boolean(
        default=False,
        doc="Dimensions most used first along the axis: set from the sliders' Order by KL",
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self.param.watch(self.rebuild, "by_kl")

    def prepare(self):
        return (self.by_kl,)  # the rest is read, and computed, in the worker

    def draw(self, inputs):
        (by_kl,) = inputs
        scored = self.data.scored()
        if scored is None:
            return None, self.data.missing(WHAT) or "No data to score the dimensions on.", ""
        scores = scored.scores
        usage = self.data.usage() if by_kl else None
        order = divergence.dimension_order(scores.mi.shape[0], usage).dims
        figure = render(heat_map(scores, order), names.FACTORS_SOURCE)
        return figure, mig_line(scored), factor_table(scores)

    def install(self, drawn) -> None:
        figure, text, table = drawn
        if figure is None:
            self._body.objects = [markdown(html.escape(text))]
            return
        self._body.objects = [
            markdown(text, css_classes=[names.FACTORS_MIG]),
            pn.Column(  # the class on a Column: on a Bokeh pane it does not land in the page
                pn.pane.Bokeh(figure), css_classes=[names.FACTORS_MAP], sizing_mode="stretch_width"
            ),
            markdown(table, css_classes=[names.FACTORS_TABLE]),
        ]

    def update(self) -> None:
        """Nothing follows z here."""


def heat_map(scores: FactorScores, order) -> hv.Overlay:
    """I(z_d; factor) in nats as a heat map: dimensions along x in ``order``, factors down y,
    each cell's value written in it, a colour bar, and a hover."""
    mi = np.asarray(scores.mi, dtype=np.float64)
    dims = [dim_label("z", d) for d in order]
    rows = {DIMENSION_COLUMN: [], FACTOR_COLUMN: [], MI_COLUMN: []}
    for name_index, factor in enumerate(scores.names):
        for d in order:
            rows[DIMENSION_COLUMN].append(dim_label("z", d))
            rows[FACTOR_COLUMN].append(factor)
            rows[MI_COLUMN].append(float(mi[d, name_index]))
    top = max(float(mi.max(initial=0.0)), 1e-3)
    cells = hv.HeatMap(rows, kdims=[DIMENSION_COLUMN, FACTOR_COLUMN], vdims=[MI_COLUMN]).opts(
        cmap="Blues", clim=(0.0, top), colorbar=True, clabel="nats",
        tools=["hover"], default_tools=[],
        hover_tooltips=[("", f"@{DIMENSION_COLUMN} · @{FACTOR_COLUMN}"),
                        ("I(z; factor)", f"@{VALUES_COLUMN}{{0.000}} nats")],
        line_color="white", line_width=1,
    )  # fmt: skip
    values = hv.Labels(
        {
            DIMENSION_COLUMN: rows[DIMENSION_COLUMN],
            FACTOR_COLUMN: rows[FACTOR_COLUMN],
            "text": [f"{v:.2f}" for v in rows[MI_COLUMN]],
            "ink": ["white" if v > top / 2 else "#0f172a" for v in rows[MI_COLUMN]],  # legible
        },
        kdims=[DIMENSION_COLUMN, FACTOR_COLUMN],
        vdims=["text", "ink"],
    ).opts(
        text_font_size="9pt",
        text_color="ink",
        default_tools=[],
        tools=[],
    )
    width = CELL_PX * len(dims) + 200  # the cells, the factor names and the colour bar
    height = CELL_PX * len(scores.names) + 110
    return (cells * values).opts(
        width=width, height=height, toolbar=None, default_tools=[], xlabel="", ylabel="",
        invert_yaxis=True, xrotation=90 if len(dims) > 16 else 0,
        title="Mutual information I(z_d; factor), nats",
    )  # fmt: skip


def mig_line(scored: Scored) -> str:
    """The MIG, what it is and what it was measured on (Markdown)."""
    scores = scored.scores
    over = "factors" if scored.real else "the label (this sample has no factors)"
    count = len(scores.names)
    return (
        f"**MIG {scores.mig:.3f}** (mutual information gap, Chen et al. 2018): for each factor, "
        "the gap between the mutual information of its two most informative dimensions, over "
        f"the factor's entropy, averaged over {count} {over}; posterior means and continuous "
        f"factors in {BINS}-bin histograms, as disentanglement_lib computes it. "
        f"{scored.images} images ({html.escape(scored.source)}). 0: no dimension stands out "
        "for any factor; 1: each factor lives in one dimension alone."
    )


def factor_table(scores: FactorScores) -> str:
    """Each factor's most informative dimension and its gap, and whether the sliders name it
    (Markdown table)."""
    lines = [
        "| factor | best dimension | I (nats) | gap | on the sliders |",
        "|---|---|---|---|---|",
    ]
    for k, factor in enumerate(scores.names):
        d = scores.best[k]
        gap = float(scores.gaps[k])
        named = f"{dim_label('z', d)} ≈ {factor}" if gap >= NAME_GAP else "—"
        lines.append(
            f"| {html.escape(factor)} | {dim_label('z', d)} | {scores.mi[d, k]:.3f} | "
            f"{gap:.2f} | {html.escape(named)} |"
        )
    lines.append(
        f"\nA factor is named on its best dimension's sliders when its gap is at least "
        f"{NAME_GAP} (that dimension carries that much more of the factor's entropy than any "
        "other), and only for data with real factors, not a label."
    )
    return "\n".join(lines)


def named_dimensions(scores: FactorScores) -> dict[int, str]:
    """Dimension → the factors it clearly carries (gap ≥ NAME_GAP), comma-separated."""
    named: dict[int, list[str]] = {}
    for k, factor in enumerate(scores.names):
        if scores.gaps[k] >= NAME_GAP:
            named.setdefault(scores.best[k], []).append(factor)
    return {d: ", ".join(factors) for d, factors in named.items()}


class SliderNames:
    """Writes each clearly carried factor on its dimension's μ and z sliders ("z3 ≈ x"), once
    per model, for a model of data with real factors (a label alone names nothing worth a
    slider: "z3 ≈ label" is noise). The scores are computed in a worker after the page has
    loaded (nothing is added to the page's first document), whether or not the Factors tab is
    ever opened; a new model clears the names until its own are in."""

    def __init__(self, model: LatentModel, data: SessionData, sliders):
        self.model, self.data, self.sliders = model, data, sliders
        self._started = False  # the page has loaded
        model.param.watch(self._new_model, "info")
        pn.state.onload(self._start)

    def _start(self) -> None:
        self._started = True
        self._new_model()

    def _new_model(self, *_) -> None:
        self.sliders.name_factors({})
        info = self.model.info
        # Only the generated shapes carry real factors (explorer.data.samples): any other model
        # costs nothing here, not even its sample's loading.
        if not self._started or info is None or info.dataset != datasets.SHAPES:
            self.data.background.cancel(NAMES_KEY)
            return
        self.data.background.run(self._names, self.sliders.name_factors, key=NAMES_KEY)

    def _names(self) -> dict[int, str]:
        """In a worker: dimension → its factors, or none without real factors."""
        scored = self.data.scored()
        return named_dimensions(scored.scores) if scored is not None and scored.real else {}
