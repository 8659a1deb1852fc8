""" "Order by KL" and the KL tab in headless Chromium against a real `panel serve` of a β = 10
model (12 dimensions, some inactive), at a projector's 1280×720.

Ticking the one checkbox re-orders the Traversal's rows, read from the figure in the page, most
KL first as the KL tab's bars say, the inactive ones marked; the KL tab shows the Var[μ] plot
with its threshold. Tests wait on conditions, never on sleeps.
"""

from __future__ import annotations

import json

import pytest
from pagejs import FIND

from explorer import names, plots
from explorer.compute import divergence

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# The figure on screen that draws the data source named ``name``, or null. Not by
# ``get_model_by_name``: a figure the page swapped out stays in BokehJS's list of models until it
# recomputes that list, and two then have the name; only the one shown has a view.
SHOWN = """(name) => {
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (Array.isArray(model.renderers) && Bokeh.index.find_one(model) != null
          && model.renderers.some((r) => r.data_source && r.data_source.name === name))
        return model;
  return null;
}"""

# The y-axis labels of that figure, top first, or null.
ROWS = f"""(name) => {{
  const figure = ({SHOWN})(name);
  if (!figure) return null;
  const axis = figure.left[0];
  const labels = axis.major_label_overrides;
  const get = (t) => labels instanceof Map ? labels.get(t) ?? labels.get(String(t)) : labels[t];
  return [...axis.ticker.ticks].sort((a, b) => b - a).map(get);
}}"""

# Columns of the data source ``name`` drawn on screen as plain arrays, or null.
COLUMNS = f"""([name, columns]) => {{
  const figure = ({SHOWN})(name);
  if (!figure) return null;
  const source = figure.renderers.find((r) => r.data_source && r.data_source.name === name)
    .data_source;
  return Object.fromEntries(columns.map((c) => [c, Array.from(source.data[c])]));
}}"""

# That figure's y scale and the places of its horizontal lines (Spans).
SCALE_AND_LINES = f"""(name) => {{
  const figure = ({SHOWN})(name);
  if (!figure) return null;
  return [figure.y_scale.type,
          figure.renderers.filter((r) => r.type === 'Span').map((r) => r.location)];
}}"""


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", "mnist-beta10")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({FIND})('{names.IMAGE_SOURCE}') !== null", timeout=30000)
    page.locator(f".{names.ORDER_KL} input").first.wait_for(timeout=30000)
    yield page
    context.close()
    assert errors == []


def open_tab(page, title: str, source: str) -> None:
    page.locator(".bk-tab", has_text=title).first.click()
    page.wait_for_function(f"(name) => ({SHOWN})(name) !== null", arg=source, timeout=30000)


def kl_bars(page) -> dict[str, tuple[float, str]]:
    """The KL tab's bars as the page holds them: dimension → (true KL, colour)."""
    open_tab(page, "KL / active units", names.KL_SOURCE)
    columns = [plots.DIMENSION_COLUMN, plots.KL_COLUMN, plots.COLOR_COLUMN]
    data = page.evaluate(COLUMNS, [names.KL_SOURCE, columns])
    return {d: (kl, colour) for d, kl, colour in zip(*(data[c] for c in columns), strict=True)}


def test_order_by_kl_reorders_the_traversal_rows_and_marks_the_inactive(page):
    bars = kl_bars(page)
    assert len(bars) == 12 and plots.INACTIVE in {c for _, c in bars.values()}
    open_tab(page, "Traversal", names.TRAVERSAL_SOURCE)
    rows = page.evaluate(ROWS, names.TRAVERSAL_SOURCE)
    assert rows == [f"z{d + 1}" for d in range(12)]  # unticked: by index

    order = divergence.by_kl([bars[f"z{d + 1}"][0] for d in range(12)])
    expected = [
        f"z{d + 1}" + (" (inactive)" if bars[f"z{d + 1}"][1] == plots.INACTIVE else "")
        for d in order
    ]  # most KL first, as the KL tab's bars say; marked where they are grey
    assert expected != rows
    page.locator(f".{names.ORDER_KL} input").first.check()  # below the tabs, in sight
    page.wait_for_function(
        f"(rows) => JSON.stringify(({ROWS})('{names.TRAVERSAL_SOURCE}')) === rows",
        arg=json.dumps(expected, separators=(",", ":")),  # as JSON.stringify writes it
        timeout=20000,
    )
    page.locator(f".{names.ORDER_KL} input").first.uncheck()  # and back to index order
    page.wait_for_function(
        f"(rows) => JSON.stringify(({ROWS})('{names.TRAVERSAL_SOURCE}')) === rows",
        arg=json.dumps([f"z{d + 1}" for d in range(12)], separators=(",", ":")),
        timeout=20000,
    )


def test_kl_tab_shows_var_mu_with_its_threshold(page):
    open_tab(page, "KL / active units", names.KL_VARIANCE_SOURCE)
    plot = page.locator(f".{names.KL_VARIANCE} canvas, .{names.KL_VARIANCE} .bk-Canvas").first
    plot.wait_for(state="visible", timeout=10000)
    box = plot.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    columns = [plots.VARIANCE_COLUMN, plots.COLOR_COLUMN]
    data = page.evaluate(COLUMNS, [names.KL_VARIANCE_SOURCE, columns])
    for variance, colour in zip(*(data[c] for c in columns), strict=True):
        active = variance > divergence.ACTIVE_THRESHOLD
        assert colour == (plots.ACTIVE if active else plots.INACTIVE)
    threshold = page.evaluate(SCALE_AND_LINES, names.KL_VARIANCE_SOURCE)
    assert threshold == ["LogScale", [divergence.ACTIVE_THRESHOLD]]
