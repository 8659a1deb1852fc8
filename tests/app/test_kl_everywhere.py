""" "Order by KL" is one rule that every view follows, and the KL tab shows what it rests on.

Real LatentModel, real LatentExplorer (sliders and views wired as the app wires them), real
networks and Bokeh sources. mnist-beta10 has 12 dimensions (one page) and inactive units.
"""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.models import HoverTool, LogScale, Span

from explorer import names, plots
from explorer.app.explorer import LatentExplorer
from explorer.compute import divergence, grids
from explorer.latent.space import LatentModel


@pytest.fixture(scope="module")
def explorer():
    return LatentExplorer(LatentModel(checkpoint="mnist-beta10", rng_seed=0))


@pytest.fixture
def usage(explorer):
    explorer.sliders.by_kl = False
    explorer.views.show(-1)
    explorer.model.param.trigger("reset")  # μ = 0, σ = 1: what the last test moved
    kl, active = explorer.views.data.usage()
    assert not active.all(), "expected inactive units in a beta=10 model"
    assert list(divergence.by_kl(kl)) != list(range(kl.size)), "KL order must differ"
    return kl, active


def shown(explorer, css):
    index = next(k for k, v in enumerate(explorer.views.views) if v.css == css)
    explorer.views.show(index)
    return explorer.views.views[index]


def rows(figure) -> list[str]:
    """The Traversal's row labels, top row first."""
    axis = figure.yaxis[0]
    return [axis.major_label_overrides[t] for t in sorted(axis.ticker.ticks, reverse=True)]


def veiled(figure, image_height: int) -> list[int]:
    """Which rows (0 = top) a translucent veil covers."""
    veils = [r for r in figure.renderers if type(r.glyph).__name__ == "Quad"]
    if not veils:
        return []
    data = veils[0].data_source.data
    step = row_step()
    return sorted(int((image_height - top) // step) for top in data["top"])


def row_step() -> int:
    return grids.CELL + grids.PAD


def test_traversal_rows_follow_order_by_kl_with_inactive_greyed(explorer, usage):
    kl, active = usage
    traversal = shown(explorer, names.TRAVERSAL)
    assert traversal.dims == list(range(12))  # unticked: by index, nothing marked
    assert rows(traversal.plot.figure) == [f"z{d + 1}" for d in range(12)]
    assert veiled(traversal.plot.figure, 12 * 29 + 1) == []

    explorer.sliders.by_kl = True  # the one checkbox, on the Explore tab
    order = divergence.by_kl(kl)
    assert traversal.by_kl and traversal.dims == order  # 12 dimensions: ordered all the same
    figure = traversal.plot.figure
    expected = [f"z{d + 1}" + ("" if active[d] else " (inactive)") for d in order]
    assert rows(figure) == expected
    greyed = [k for k, d in enumerate(order) if not active[d]]
    assert veiled(figure, 12 * 29 + 1) == greyed
    # the sliders list the same dimensions in the same order, marked the same way
    titles = [s.title.replace("μ", "z") for s in explorer.sliders.shown("mu")]
    assert titles == expected

    before = np.asarray(traversal.plot.source.data["image"][0]).copy()
    explorer.model.set_value("mu", order[0], 2.0)  # still written in place, image layer 0
    assert traversal.plot.figure is figure
    assert not np.array_equal(np.asarray(traversal.plot.source.data["image"][0]), before)

    explorer.sliders.by_kl = False
    assert traversal.dims == list(range(12))
    assert rows(traversal.plot.figure) == [f"z{d + 1}" for d in range(12)]


def test_a_hidden_view_takes_the_order_when_shown(explorer, usage):
    kl, _ = usage
    explorer.sliders.by_kl = True  # while the Traversal tab is closed
    traversal = shown(explorer, names.TRAVERSAL)
    assert traversal.dims == divergence.by_kl(kl)


def test_kl_tab_plots_var_mu_against_its_threshold(explorer, usage):
    _, active = usage
    view = shown(explorer, names.KL)
    variance = divergence.mean_variance(explorer.views.data.posterior()[0])
    figure = view.variance.figure
    data = figure.select_one({"name": names.KL_VARIANCE_SOURCE}).data
    assert list(data[plots.DIMENSION_COLUMN]) == [f"z{d + 1}" for d in range(12)]
    np.testing.assert_allclose(data[plots.VARIANCE_COLUMN], variance)
    assert list(data[plots.COLOR_COLUMN]) == [
        plots.ACTIVE if a else plots.INACTIVE for a in active
    ]  # coloured by the very rule behind "Active units"
    assert isinstance(figure.y_scale, LogScale)
    spans = [r for r in figure.renderers if isinstance(r, Span)]
    assert [s.location for s in spans] == [divergence.ACTIVE_THRESHOLD]
    assert figure.y_range.start < variance.min() and figure.y_range.end > variance.max()


def test_kl_tab_inactive_bars_are_visible_and_marks_are_large(explorer, usage):
    kl, active = usage
    view = shown(explorer, names.KL)
    figure = view.plot.figure
    bars = view.plot.source.data
    np.testing.assert_allclose(bars[plots.KL_COLUMN], kl)  # the true KL, for the hover
    ceiling = figure.y_range.end
    shown_heights = np.asarray(bars[plots.SHOWN_COLUMN])
    assert shown_heights.min() >= 0.02 * ceiling  # no bar is too short to see
    assert (kl[~active] < 0.02 * ceiling).all()  # ...though the inactive ones' KL is
    assert figure.renderers[0].glyph.top == plots.SHOWN_COLUMN
    tips = [str(t.tooltips) for t in figure.select(HoverTool)]
    assert any(f"{{{plots.KL_COLUMN}}}" in t for t in tips)  # the hover says the true KL
    assert not any(f"{{{plots.SHOWN_COLUMN}}}" in t for t in tips)  # ...not the drawn height
    marks = figure.renderers[plots.KL_MARKS].glyph
    assert marks.size >= 10
    assert figure.y_range.start < 0  # a mark at 0 (σ = 1, μ = 0) shows whole


def test_kl_tab_follows_order_by_kl_and_marks_stay_with_their_dimension(explorer, usage):
    kl, _ = usage
    view = shown(explorer, names.KL)
    explorer.sliders.by_kl = True
    order = divergence.by_kl(kl)
    labels = [f"z{d + 1}" for d in order]
    assert list(view.plot.figure.x_range.factors) == labels
    assert list(view.variance.figure.x_range.factors) == labels
    d = order[-1]  # the least used dimension: move its μ off 0
    explorer.model.set_value("mu", d, 2.0)
    marks = view.marks.data
    now = dict(zip(marks[plots.DIMENSION_COLUMN], marks[plots.NOW_COLUMN], strict=True))
    assert now[f"z{d + 1}"] == pytest.approx(2.0)  # KL(N(2, 1) ‖ N(0, 1)) = 2
    assert sum(v > 0 for v in now.values()) == 1


def test_variance_plot_shows_a_variance_of_zero_and_keeps_the_threshold_in_view():
    variance = np.array([0.0, 1e-5, 0.02, 3.0])
    figure = plots.render(plots.variance_element(variance, 0.01), "test-variance")
    data = figure.renderers[0].data_source.data
    low, high = figure.y_range.start, figure.y_range.end
    assert low <= 1e-5 and high >= 3.0 * 1.5  # every variance on the axis, whole decades
    assert np.log10(low) == int(np.log10(low)) and np.log10(high) == int(np.log10(high))
    assert figure.renderers[0].glyph.bottom == low  # bars rise from the axis' floor
    assert (np.asarray(data[plots.SHOWN_COLUMN]) >= low * plots.VARIANCE_STUB).all()
    assert list(data[plots.VARIANCE_COLUMN]) == list(variance)  # the hover's: the true values
    assert list(data[plots.COLOR_COLUMN]) == [plots.INACTIVE] * 2 + [plots.ACTIVE] * 2
    only_variances = plots.variance_axis(np.array([0.5, 0.9]), 0.01)
    assert only_variances[0] <= 0.001  # the threshold a decade in from the floor
