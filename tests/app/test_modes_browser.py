"""The mode buttons in headless Chromium against a real `panel serve`: what changes nothing in a
mode is disabled in the page, and the bar chart's title (drawn on its canvas, so read from the
page's Bokeh figure) follows the mode. Tests wait on conditions, never on sleeps."""

from __future__ import annotations

import pytest
from pagejs import BARS_TITLE, IMAGE
from playwright.sync_api import expect

from explorer import names, plots
from explorer.latent.table import MODE_LABELS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server(start_server, ckpt12):
    return start_server("--checkpoint", str(ckpt12))


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.locator(f".{names.MODE}").first.wait_for(timeout=30000)
    yield page
    context.close()
    assert errors == []


def test_mode_buttons_disable_resample_in_set_z_and_retitle_the_bars(page):
    resample = page.locator(f".{names.RESAMPLE} button").first
    randomize = page.locator(f".{names.RANDOMIZE} button").first
    reset = page.locator(f".{names.RESET} button").first
    seed = page.locator(f".{names.SEED} input").first
    assert page.evaluate(BARS_TITLE) == plots.BARS_TITLES["sample"]
    expect(resample).to_be_enabled()
    expect(randomize).to_be_enabled()
    for mode in ["deterministic", "prior", "sample"]:
        page.locator(f".{names.MODE} button", has_text=MODE_LABELS[mode]).first.click()
        page.wait_for_function(
            f"(title) => ({BARS_TITLE})() === title", arg=plots.BARS_TITLES[mode], timeout=10000
        )
        set_z = mode == "deterministic"
        expect(resample).to_be_disabled() if set_z else expect(resample).to_be_enabled()
        expect(seed).to_be_disabled() if set_z else expect(seed).to_be_enabled()
        if mode == "sample":
            expect(randomize).to_be_enabled()
        else:
            expect(randomize).to_be_disabled()
        expect(reset).to_be_enabled()
