"""The Factors tab and the sliders' factor names in headless Chromium against a real
`panel serve` of the zoo's shapes model (64×64 RGB, 10 dimensions), and of the zoo's mnist-beta1
(labels only) through a link. Tests wait on conditions, never on sleeps."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from conftest import box
from pagejs import FIND
from PIL import Image

from explorer import names

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# The heat map's cells in the page: (dimension, factor) pairs, or null before it is drawn.
CELLS = f"""() => {{
  const source = ({FIND})('{names.FACTORS_SOURCE}');
  if (!source) return null;
  const d = Array.from(source.data['dimension']), f = Array.from(source.data['factor']);
  return d.map((dim, i) => [dim, f[i]]);
}}"""

# The title of each slider whose class starts with ``prefix`` (latent-mu), by its class.
TITLES = """(prefix) => {
  const found = {};
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      for (const css of model.css_classes || [])
        if (css.startsWith(prefix + '-')) found[css] = model.title;
  return found;
}"""


SHAPES_MODEL = "shapes-beta16"
LATENT = 10


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", SHAPES_MODEL)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def opened(page, url: str):
    page.goto(url)
    page.wait_for_function(f"() => ({FIND})('{names.IMAGE_SOURCE}') !== null", timeout=30000)
    return page


def text(page, css: str, tag: str) -> str:
    """The text of the first ``tag`` element in the element of class ``css`` (its shadow)."""
    return page.locator(f".{css} {tag}").first.inner_text()


def open_factors(page) -> None:
    page.locator(".bk-tab", has_text="Factors").first.click()
    page.wait_for_function(f"() => ({CELLS})() !== null", timeout=60000)


def test_the_sliders_name_x_and_y_without_the_factors_tab(page, server):
    opened(page, server.url)
    named = f"Object.values(({TITLES})('{names.MU}')).filter((t) => t.includes('≈'))"
    page.wait_for_function(f"() => {named}.length >= 2", timeout=60000)
    titles = page.evaluate(TITLES, names.MU)
    named = {css: t for css, t in titles.items() if "≈" in t}
    factors = {t.split("≈ ")[1] for t in named.values()}
    assert {"x", "y"} <= {f for fs in factors for f in fs.split(", ")}, titles
    for css, title in named.items():  # "μ3 ≈ x" on slider latent-mu-2, shown on the page
        d = int(css.rsplit("-", 1)[1])
        assert re.fullmatch(rf"μ{d + 1} ≈ [a-z, ]+", title), title
        assert "≈" in page.locator(f".{css} .bk-slider-title").first.inner_text()
    sigmas = page.evaluate(TITLES, names.SIGMA)
    assert all("≈" not in t for t in sigmas.values()) and len(sigmas) == LATENT


def test_the_shapes_model_opens_in_colour(page, server):
    opened(page, server.url)
    shot = Image.open(io.BytesIO(page.locator(f".{names.IMAGE} canvas").first.screenshot()))
    pixels = np.asarray(shot.convert("RGB"), dtype=int).reshape(-1, 3)
    spread = pixels.max(axis=1) - pixels.min(axis=1)  # 0 for every grey pixel
    assert (spread > 60).sum() > 100, "the decoded shape is grey"


def test_the_factors_tab_shows_the_mi_map_and_the_mig(page, server):
    opened(page, server.url)
    open_factors(page)
    cells = page.evaluate(CELLS)
    factors = ["shape", "hue", "scale", "rotation", "x", "y"]
    expected = sorted((f"z{d}", f) for d in range(1, LATENT + 1) for f in factors)
    assert sorted(map(tuple, cells)) == expected
    heat = box(page, f".{names.FACTORS_MAP} canvas")
    assert heat["width"] > 200 and heat["height"] > 200
    mig = text(page, names.FACTORS_MIG, "p")
    assert re.search(r"MIG 0\.\d{3}", mig) and "1000 images" in mig, mig
    table = text(page, names.FACTORS_TABLE, "table")
    assert re.search(r"x\s+z\d\s", table) and re.search(r"y\s+z\d\s", table), table


def test_a_model_without_factors_gets_the_view_over_its_label(page, server):
    opened(page, f"{server.url}?model=mnist-beta1")
    page.wait_for_function(f"() => Object.keys(({TITLES})('{names.MU}')).length === 12")
    open_factors(page)
    cells = page.evaluate(CELLS)
    assert sorted(map(tuple, cells)) == sorted((f"z{d}", "label") for d in range(1, 13))
    mig = text(page, names.FACTORS_MIG, "p")
    assert "the label (this sample has no factors)" in mig and "256 images" in mig, mig
    titles = page.evaluate(TITLES, names.MU)
    assert all("≈" not in t for t in titles.values()), titles
