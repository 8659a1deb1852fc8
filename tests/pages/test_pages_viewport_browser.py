"""The static and living pages on a 390 px phone and on a projector, opened offline in headless
Chromium (issue #20): laid out at the phone's width, one column, no horizontal scroll; on a
projector the bars stay beside the image and the living page's sliders four to a row."""

from __future__ import annotations

import pytest
from conftest import box, open_offline
from pagejs import IMAGE

from explorer import names
from explorer.latent.space import LatentModel
from explorer.pages import living, static

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
WIDTHS = "() => ({document: document.documentElement.scrollWidth, window: window.innerWidth})"


@pytest.fixture(scope="module")
def pages(tmp_path_factory, ckpt12) -> dict:
    folder = tmp_path_factory.mktemp("pages")
    model = LatentModel(checkpoint=str(ckpt12))
    return {
        "static": static.export_html(model, folder / "static.html"),
        "living": living.export_html(model, folder / "living.html"),
    }


def opened(browser, path, options: dict):
    page, log = open_offline(browser, path, **options)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.locator(f".{names.BARS}, .bk-Figure").last.wait_for(timeout=30000)
    return page, log


def figures(page) -> tuple[dict, dict]:
    """The image's and the bars' figures (the page's first two)."""
    image, bars = (page.locator(".bk-Figure").nth(i).bounding_box() for i in range(2))
    assert image is not None and bars is not None
    return image, bars


@pytest.mark.parametrize("name", ["static", "living"])
def test_a_phone_gets_one_column_without_horizontal_scroll(browser, pages, name):
    page, log = opened(browser, pages[name], PHONE)
    viewport = page.locator("meta[name=viewport]")
    assert viewport.count() == 1
    assert "width=device-width" in viewport.get_attribute("content")
    widths = page.evaluate(WIDTHS)
    assert widths["window"] == 390, widths  # laid out at the phone's width, not zoomed out
    assert widths["document"] <= widths["window"], widths
    image, bars = figures(page)
    assert bars["y"] >= image["y"] + image["height"] - 1, (image, bars)  # under the image
    assert bars["x"] + bars["width"] <= 390, bars
    if name == "living":
        for css in [names.mu_slider(0), names.mu_slider(1), names.RESAMPLE, names.SEED]:
            b = box(page, f".{css}")
            assert b["x"] >= 0 and b["x"] + b["width"] <= 390, (css, b)
    assert log["errors"] == [] and log["refused"] == []
    page.context.close()


@pytest.mark.parametrize("name", ["static", "living"])
def test_a_projector_keeps_the_bars_beside_the_image(browser, pages, name):
    page, log = opened(browser, pages[name], PROJECTOR)
    image, bars = figures(page)
    assert bars["x"] >= image["x"] + image["width"] and abs(bars["y"] - image["y"]) < 40
    if name == "living":
        rows = {round(box(page, f".{names.mu_slider(i)}")["y"]) for i in range(4)}
        assert len(rows) == 1, rows  # μ1..μ4 on one row
        assert box(page, f".{names.mu_slider(4)}")["y"] > rows.pop()  # μ5 on the next
    assert page.evaluate(WIDTHS)["document"] <= 1280
    assert log["errors"] == [] and log["refused"] == []
    page.context.close()
