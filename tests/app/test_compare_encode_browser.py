"""The Compare and Encode tabs in headless Chromium against a real `panel serve` of a zoo model, at
the screens a lecturer and a researcher use: the Encode result in view beside the gallery without
scrolling, the clicked image boxed; the models compared in rows by β with K prior draws each, and
the line that says their dimensions do not line up."""

from __future__ import annotations

import re

import pytest
from pagejs import FIND

from explorer import names
from explorer.app.views.encode import GALLERY_COLUMNS
from explorer.compute import grids

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# The labels of the y axis that marks "(this)" (the Compare grid's rows), top first.
ROW_LABELS = """() => {
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models) {
      const labels = model.major_label_overrides;
      if (!labels) continue;
      const entries = labels instanceof Map ? [...labels.entries()] : Object.entries(labels);
      if (entries.some(([, text]) => String(text).includes('(this)')))
        return entries.sort((a, b) => Number(b[0]) - Number(a[0])).map(([, text]) => text);
    }
  return null;
}"""
# The image sizes of the sources named ``name`` in the page. A plot rendered anew leaves its old
# source among the page's models (so does every view's, today): the new one joins the list.
IMAGE_SIZES = """(name) => {
  const sizes = [];
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (model.name === name && model.data && model.data.image)
        sizes.push(model.data.image[0].length);
  return sizes;
}"""


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", "mnist-beta1")  # a zoo model: a sample and β siblings


def open_tab(browser, server, size: tuple[int, int], title: str, source: str):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({FIND})('{names.IMAGE_SOURCE}') !== null", timeout=30000)
    page.locator(".bk-tab", has_text=title).first.click()
    page.wait_for_function(f"() => ({FIND})('{source}') !== null", timeout=30000)
    return context, page, errors


def in_view(page, css: str, size: tuple[int, int]) -> None:
    """The element of class ``css`` is visible, whole, within the viewport, the page unscrolled."""
    locator = page.locator(f".{css}").first
    locator.wait_for(state="visible", timeout=10000)
    box = locator.bounding_box()
    assert page.evaluate("() => window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= size[1], (box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], (box, size)


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)])
def test_encode_result_in_view_and_the_clicked_image_boxed(browser, server, size):
    context, page, errors = open_tab(browser, server, size, "Encode", names.ENCODE_GALLERY_SOURCE)
    box = f"() => ({FIND})('{names.ENCODE_GALLERY_BOX_SOURCE}').data.left"
    assert page.evaluate(f"() => Array.from(({box})())") == []  # nothing chosen yet
    canvas = page.locator(f".{names.ENCODE_GALLERY} canvas").first.bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] * 0.15, canvas["y"] + canvas["height"] * 0.5)
    note = page.get_by_text(re.compile(r"q\(z\|x\) of image \d+"))
    note.wait_for(timeout=10000)
    index = int(re.search(r"image (\d+)", note.inner_text()).group(1))
    page.wait_for_function(f"() => ({box})().length === 1", timeout=10000)
    left, top, right, bottom = grids.cell_bounds(index, GALLERY_COLUMNS, grids.CELL, grids.PAD)
    height = 16 * 29 + 1  # the gallery's 256 images, 16 a row; its y axis points up
    found = page.evaluate(
        f"() => ['left', 'bottom', 'right', 'top'].map(c => ({FIND})"
        f"('{names.ENCODE_GALLERY_BOX_SOURCE}').data[c][0])"
    )
    assert found == [left, height - bottom, right, height - top]
    in_view(page, names.ENCODE_RESULT, size)
    assert errors == []
    context.close()


def test_compare_rows_by_beta_with_k_prior_draws(browser, server):
    size = (1440, 900)
    context, page, errors = open_tab(browser, server, size, "Compare models", names.COMPARE_SOURCE)
    page.wait_for_function(f"() => ({ROW_LABELS})() !== null", timeout=10000)
    assert page.evaluate(ROW_LABELS) == ["mnist-beta0.1", "mnist-beta1 (this)", "mnist-beta10"]
    rows = 3 * 29 + 1
    assert page.evaluate(IMAGE_SIZES, names.COMPARE_SOURCE) == [rows * (5 * 29 + 1)]  # z, 4 draws
    in_view(page, names.COMPARE, size)
    unaligned = page.locator(f".{names.COMPARE_UNALIGNED}").get_by_text("do not line up")
    unaligned.first.wait_for(state="visible", timeout=10000)
    page.locator(f".{names.COMPARE_DRAWS} select").first.select_option("8")
    page.wait_for_function(
        f"() => ({IMAGE_SIZES})('{names.COMPARE_SOURCE}').includes({rows * (9 * 29 + 1)})",
        timeout=15000,
    )
    assert errors == []
    context.close()
