"""The served page on a projector (1024×768, 1280×720) and a phone (390×844), in headless
Chromium against a real `panel serve` (issue #20): nothing cut off, the image in view while a
slider moves, the sidebar closed below 1200 px, no horizontal scroll on a phone."""

from __future__ import annotations

import pytest
from conftest import box
from pagejs import IMAGE
from playwright.sync_api import expect

from explorer import names

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SHOWN = "#sidebar.show"  # the template's sidebar while it is open
# The page's widths: the document's, the window's, and the template's main area's (it scrolls
# itself, so content too wide for it shows no scroll bar on the document).
WIDTHS = """() => {
  const main = document.getElementById('main');
  return {document: document.documentElement.scrollWidth, window: window.innerWidth,
          main: main.scrollWidth, main_box: main.clientWidth};
}"""


@pytest.fixture(scope="module")
def server(start_server, ckpt12):
    return start_server("--checkpoint", str(ckpt12))


def open_page(browser, server, width: int, height: int, **context):
    page = browser.new_context(viewport={"width": width, "height": height}, **context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=30000)
    return page, errors


def within_width(page, selector: str, width: int) -> None:
    b = box(page, selector)
    assert b["x"] >= 0 and b["x"] + b["width"] <= width, (selector, b, width)


def sidebar_closed(page) -> bool:
    return page.locator(SHOWN).count() == 0 and not page.locator("#sidebar").is_visible()


def controls_in_view(page, width: int) -> None:
    """Every control, download and tab header lies within the page's width."""
    for css in [names.MODE, names.RESAMPLE, names.RESET, names.RANDOMIZE, names.SEED]:
        within_width(page, f".{css}", width)
    for kind in ["png", "json", "html", "live"]:
        within_width(page, f".{names.download(kind)}", width)
    within_width(page, f".{names.PNG_SCALE}", width)
    tabs = page.locator(f".{names.TABS} .bk-tab")
    assert tabs.count() == len(names.VIEW_TABS) + len(names.MODEL_TABS) + 1
    for i in range(tabs.count()):
        header = tabs.nth(i).bounding_box()
        assert header is not None and header["x"] + header["width"] <= width, (i, header)


def test_1024x768_starts_with_the_sidebar_closed_and_cuts_nothing_off(browser, server):
    page, errors = open_page(browser, server, 1024, 768)
    page.wait_for_function(f"() => !document.querySelector('{SHOWN}')", timeout=10000)
    assert sidebar_closed(page)
    assert page.locator("#sidebar-toggle").get_attribute("aria-expanded") == "false"
    controls_in_view(page, 1024)
    # Opened again with its toggle, the sidebar leaves 694 px: the rows and the tabs wrap.
    page.locator("#sidebar-toggle").click()
    page.locator(f"{SHOWN} .{names.ZOO} select").first.wait_for(timeout=10000)
    page.wait_for_function("() => !document.querySelector('#sidebar.collapsing')", timeout=10000)
    assert box(page, "#sidebar")["width"] > 300
    controls_in_view(page, 1024)
    widths = page.evaluate(WIDTHS)
    assert widths["main"] <= widths["main_box"], widths
    assert errors == []
    page.context.close()


def test_1280x720_keeps_the_image_in_view_while_a_low_slider_moves(browser, server):
    page, errors = open_page(browser, server, 1280, 720)
    assert page.locator(SHOWN).count() == 1  # wide enough for the sidebar
    controls_in_view(page, 1280)
    last = page.locator(f".{names.sigma_slider(11)} .noUi-handle").first
    last.scroll_into_view_if_needed()
    assert page.evaluate("() => document.getElementById('main').scrollTop") > 100
    before = page.evaluate(IMAGE)
    last.focus()
    last.press("ArrowRight")
    page.wait_for_function(
        f"(before) => JSON.stringify(({IMAGE})()) !== JSON.stringify(before)",
        arg=before,
        timeout=10000,
    )
    handle, image = box(page, f".{names.sigma_slider(11)} .noUi-handle"), box(page, ".latent-image")
    assert handle["y"] >= 0 and handle["y"] + handle["height"] <= 720, handle
    # The whole image, below the template's 64 px header, and not under the moved slider.
    assert image["y"] >= 64 and image["y"] + image["height"] <= 720, image
    assert image["y"] + image["height"] <= handle["y"], (image, handle)
    # A view's tab does not stick (a tall one would hide its own bottom); Explore again does.
    tabs = page.locator(f".{names.TABS}").first
    expect(tabs).to_have_css("position", "sticky")
    page.locator(f".{names.TABS} .bk-tab", has_text="Traversal").first.click()
    expect(tabs).not_to_have_css("position", "sticky", timeout=10000)
    page.locator(f".{names.TABS} .bk-tab", has_text="Explore").first.click()
    expect(tabs).to_have_css("position", "sticky", timeout=10000)
    assert errors == []
    page.context.close()


def test_a_phone_gets_one_column_and_no_horizontal_scroll(browser, server):
    phone = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
    page, errors = open_page(browser, server, 390, 844, **phone)
    viewport = page.locator("meta[name=viewport]")
    assert viewport.count() == 1
    assert "width=device-width" in viewport.get_attribute("content")
    page.wait_for_function(f"() => !document.querySelector('{SHOWN}')", timeout=10000)
    assert sidebar_closed(page)
    widths = page.evaluate(WIDTHS)
    assert widths["window"] == 390, widths  # the page laid out at the phone's width
    assert widths["document"] <= widths["window"], widths
    assert widths["main"] <= widths["main_box"], widths
    controls_in_view(page, 390)
    # One column: the bars under the image, both whole.
    image, bars = box(page, f".{names.IMAGE}"), box(page, f".{names.BARS}")
    within_width(page, f".{names.IMAGE}", 390)
    within_width(page, f".{names.BARS}", 390)
    assert bars["y"] >= image["y"] + image["height"] - 1, (image, bars)
    within_width(page, f".{names.mu_slider(0)}", 390)
    within_width(page, f".{names.sigma_slider(0)}", 390)
    assert errors == []
    page.context.close()
