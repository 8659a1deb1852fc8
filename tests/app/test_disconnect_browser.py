"""A server process that goes away (issue #19, past one machine): its pages say so and offer a
reload; a page served by another process goes on. Two real `panel serve` processes, as behind
deploy/nginx.conf, and headless Chromium; the test stops only the server it started."""

from __future__ import annotations

import pytest
from pagejs import IMAGE
from playwright.sync_api import expect

from explorer import names
from explorer.app.explorer import RELOAD_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=60000)
    return page


def test_a_stopped_process_shows_its_pages_a_reload_notice_and_spares_the_others(
    browser, start_server
):
    doomed, other = start_server(), start_server()
    lost, kept = open_page(browser, doomed.url), open_page(browser, other.url)
    notice = f".{names.DISCONNECTED}"
    assert lost.locator(notice).count() == 0  # nothing while the connection is up

    doomed.stop()

    expect(lost.locator(notice)).to_be_visible(timeout=30000)
    expect(lost.locator(notice)).to_contain_text(RELOAD_TEXT)
    expect(lost.locator(f"{notice} button", has_text="Reload")).to_be_visible()
    # The other process's page: no notice, and a slider still repaints its image.
    before = kept.evaluate(IMAGE)
    handle = kept.locator(f".{names.mu_slider(0)} .noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    kept.wait_for_function(
        f"(old) => {{ const now = ({IMAGE})(); return now.some((v, i) => v !== old[i]); }}",
        arg=before,
        timeout=30000,
    )
    assert kept.locator(notice).count() == 0
    for page in (lost, kept):
        page.context.close()
