"""The served app in headless Chromium: a real `panel serve` process, real clicks and key presses.

Tests wait on conditions (the image's data source changing, an element appearing), never on
sleeps. The image is read from its Bokeh data source, found by name in the page.
"""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from pagejs import FIND, IMAGE, SLIDER
from playwright.sync_api import expect

from explorer import zoo
from explorer.app.explorer import SUBTITLE
from explorer.compute.device import resolve_device
from explorer.latent.table import MODE_HELP

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

BARS = f"""() => Array.from(({FIND})('latent-bars-source').data.z)"""


@pytest.fixture(scope="module")
def server(start_server, ckpt12):
    return start_server("--checkpoint", str(ckpt12))


@pytest.fixture(scope="module")
def zoo_server(start_server):
    return start_server()  # the default: ./vae_high_kl.pth if present, else the bundled model


class App:
    """One browser page of the explorer, with the helpers tests need."""

    def __init__(self, page, url: str):
        self.page = page
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.goto(url)
        page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
        page.locator(".latent-mode").first.wait_for(timeout=30000)

    def image(self) -> list[float]:
        return self.page.evaluate(IMAGE)

    def slider(self, css: str) -> float:
        return self.page.evaluate(SLIDER, css)

    def wait_image_change(self, before: list[float]) -> list[float]:
        self.page.wait_for_function(
            f"(before) => JSON.stringify(({IMAGE})()) !== JSON.stringify(before)",
            arg=before,
            timeout=10000,
        )
        return self.image()

    def press(self, css: str, key: str = "ArrowRight", times: int = 1) -> None:
        handle = self.page.locator(f".{css} .noUi-handle").first
        handle.focus()
        for _ in range(times):
            handle.press(key)

    def click(self, css: str, text: str | None = None) -> None:
        target = self.page.locator(f".{css} button")
        if text:
            target = target.filter(has_text=text)
        target.first.click()

    def visible(self, css: str) -> bool:
        return self.page.locator(f".{css}").first.is_visible()


@pytest.fixture
def app(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield App(page, server.url)
    context.close()


def test_page_loads_cleanly(app):
    assert len(app.image()) == 28 * 28
    shown = ["image", "bars", "mode", "resample", "reset", "randomize", "checkpoint", "mu-0"]
    for css in [f"latent-{name}" for name in shown] + ["latent-sigma-11"]:
        assert app.visible(css), css
    assert not app.visible("latent-error")
    assert app.errors == []
    assert app.failed == []  # nothing fetched from outside the server


def test_slider_moves_image_and_bars(app):
    before, bars = app.image(), app.page.evaluate(BARS)
    app.press("latent-mu-0", times=5)
    after = app.wait_image_change(before)
    assert after != before
    assert app.slider("latent-mu-0") == pytest.approx(0.05)
    # The bars follow every press; wait for the last one to arrive.
    app.page.wait_for_function(
        f"(b) => Math.abs(({BARS})()[0] - (b[0] + 0.05)) < 1e-5", arg=bars, timeout=10000
    )
    assert app.errors == []


def test_sigma_slider_moves_image(app):
    before = app.image()
    app.press("latent-sigma-2", key="ArrowLeft", times=10)
    app.wait_image_change(before)
    assert app.slider("latent-sigma-2") == pytest.approx(0.9)


def test_prior_mode(app):
    before = app.image()
    app.press("latent-mu-0", times=50)  # so that N(μ, σ²) and the prior differ
    app.page.wait_for_function(f"() => ({SLIDER})('latent-mu-0') > 0.49", timeout=10000)
    moved = app.wait_image_change(before)
    app.click("latent-mode", "Prior")
    app.page.get_by_text("drawn from the prior").wait_for(timeout=10000)
    assert not app.visible("latent-mu-0")
    prior = app.wait_image_change(moved)
    app.click("latent-resample")
    assert app.wait_image_change(prior) != prior


def test_deterministic_mode(app):
    app.click("latent-mode", "Set z exactly")
    app.page.locator(".latent-z-0 .noUi-handle").first.wait_for(timeout=10000)
    assert not app.visible("latent-mu-0")
    before = app.image()
    app.press("latent-z-0", times=20)
    app.wait_image_change(before)
    assert app.slider("latent-z-0") == pytest.approx(0.2)
    app.page.wait_for_function(f"() => Math.abs(({BARS})()[0] - 0.2) < 1e-5", timeout=10000)
    # Resample would not change an exact z: it is disabled (tests/app/test_modes_browser.py).
    expect(app.page.locator(".latent-resample button").first).to_be_disabled()


def test_buttons(app):
    before = app.image()
    app.click("latent-resample")
    resampled = app.wait_image_change(before)
    app.click("latent-randomize")
    randomized = app.wait_image_change(resampled)
    mus = [app.slider(f"latent-mu-{i}") for i in range(12)]
    assert any(mu != 0 for mu in mus)
    app.press("latent-sigma-0", key="ArrowLeft", times=3)
    app.click("latent-reset")
    app.wait_image_change(randomized)
    app.page.wait_for_function(
        f"() => [0, 1, 2, 3].every(i => ({SLIDER})('latent-mu-' + i) === 0)"
        f" && ({SLIDER})('latent-sigma-0') === 1",
        timeout=10000,
    )


def test_the_original_apps_details(app):
    """Sliders count from 1 and carry the original's help as their tooltip; the mode's help sits
    above its buttons; z shows 3 decimals; the subtitle, the footer, the device and the tips."""
    page = app.page
    title = page.locator(".latent-mu-0 .bk-slider-title").first
    assert title.inner_text().startswith("μ1")
    assert page.locator(".latent-sigma-11 .bk-slider-title").first.inner_text().startswith("σ12")
    assert page.locator(".latent-mu-2").first.get_attribute("title") == (
        "Mean for latent dimension 3"
    )
    assert page.get_by_title("Standard deviation for latent dimension 3").first.is_visible()
    help_box = page.locator(".latent-mode-help").get_by_text(MODE_HELP).bounding_box()
    buttons = page.locator(".latent-mode").first.bounding_box()
    assert help_box["y"] + help_box["height"] <= buttons["y"]  # above them, covering nothing
    values = page.locator(".latent-z-values").first.inner_text()
    assert re.match(r"z1\s[+-]\d\.\d{3}\s+z2\s", values), values
    assert "z12" in values and "z0" not in values
    page.locator(".latent-subtitle").get_by_text(SUBTITLE).wait_for(timeout=10000)
    page.locator(".latent-how").get_by_text("How it works").wait_for(timeout=10000)
    used = f"Using device: {resolve_device('auto')}"
    page.locator(".latent-device-used").get_by_text(used).wait_for(timeout=10000)
    page.locator(".latent-tips").get_by_text("deterministic mode").wait_for(timeout=10000)
    app.click("latent-mode", "Set z exactly")
    page.locator(".latent-z-0 .noUi-handle").first.wait_for(timeout=10000)
    assert page.locator(".latent-z-0 .bk-slider-title").first.inner_text().startswith("z1")
    assert (
        page.locator(".latent-z-0").first.get_attribute("title") == "Value for latent dimension 1"
    )
    assert app.errors == []


def test_statistics_show_what_applies_in_each_mode(app):
    stats = app.page.locator(".latent-stats").first
    assert "μ:" in stats.inner_text() and "σ:" in stats.inner_text()
    for mode in ["Prior", "Set z exactly"]:
        app.click("latent-mode", mode)
        expect(stats).not_to_contain_text("μ", timeout=10000)
        text = stats.inner_text()
        assert "σ:" not in text and re.search(r"z: mean [+-]\d\.\d{3}, std", text), text
    app.click("latent-mode", "Sample")
    expect(stats).to_contain_text("σ:", timeout=10000)


def test_enter_loads_the_path_and_a_retry_shows_the_error_again(app, tmp_path):
    """A missing checkpoint: the original's hint with the command that trains it. Enter on the
    same path again (after another model loaded) tries it again, as Load does."""
    missing = tmp_path / "vae_high_kl.pth"
    path_input = app.page.locator(".latent-path input").first
    path_input.fill(str(missing))
    path_input.press("Enter")
    error = app.page.locator(".latent-error").first
    hint = f"train a model first: python train.py --beta 10 --epochs 10 --checkpoint-path {missing}"
    error.get_by_text(hint).wait_for(timeout=10000)
    app.page.locator(".latent-zoo select").first.select_option(label="mnist-beta10")
    app.page.locator(".latent-info").get_by_text("mnist-beta10").wait_for(timeout=10000)
    error.wait_for(state="hidden", timeout=10000)
    path_input.press("Enter")  # the same path, unchanged in the box
    error.get_by_text(hint).wait_for(timeout=10000)
    assert app.errors == []


def test_bad_path_shows_error_and_app_keeps_working(app, tmp_path):
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"\x00garbage" * 10)
    path_input = app.page.locator(".latent-path input").first
    path_input.fill(str(bad))
    path_input.press("Enter")
    app.page.locator(".latent-error").get_by_text("corrupt.pth").wait_for(timeout=10000)
    before = app.image()
    app.press("latent-mu-1", times=5)
    app.wait_image_change(before)  # the previous model still decodes
    path_input.fill(str(tmp_path / "missing.pth"))
    path_input.press("Enter")
    app.page.get_by_text("checkpoint not found").wait_for(timeout=10000)
    assert app.errors == []


def test_switch_to_other_latent_size(app, ckpt20):
    path_input = app.page.locator(".latent-path input").first
    path_input.fill(str(ckpt20))
    path_input.press("Enter")
    app.page.locator(".latent-mu-15 .noUi-handle").first.wait_for(timeout=15000)
    app.page.wait_for_function(f"() => ({BARS})().length === 20", timeout=10000)
    # 20 dimensions are paged 16 at a time: the second page holds μ17..μ20 (latent-mu-16..19).
    app.page.locator(".latent-pager select").first.select_option(label="17–20")
    app.page.locator(".latent-mu-19 .noUi-handle").first.wait_for(timeout=10000)
    before = app.image()
    app.press("latent-mu-19", times=10)
    app.wait_image_change(before)
    assert app.errors == []


def test_url_reproduces_image(browser, app, server):
    app.press("latent-mu-0", times=30)
    app.press("latent-sigma-3", key="ArrowLeft", times=40)
    app.click("latent-resample")
    app.page.wait_for_function(
        "() => new URLSearchParams(window.location.search).get('sigma')?.includes('0.6')",
        timeout=10000,
    )
    app.page.wait_for_timeout(1200)  # let the last debounced URL write land (1 s after)
    url, image = app.page.url, app.image()
    other = browser.new_context().new_page()
    copy = App(other, url)
    assert copy.image() == pytest.approx(image, abs=1e-6)
    assert copy.slider("latent-mu-0") == pytest.approx(0.3)
    other.context.close()


def test_malformed_url_gives_notice(browser, server):
    query = urllib.parse.urlencode(
        {"mu": json.dumps([9] + [0] * 11), "z": "[1, NaN]", "seed": "x", "mode": "warp"}
    )
    page = browser.new_context().new_page()
    app = App(page, f"{server.url}?{query}")
    notice = page.locator(".latent-notice")
    for text in ["mu: 1 value(s) outside", "seed 'x'", "mode 'warp'", "z: 1 value(s) not finite"]:
        notice.get_by_text(text).wait_for(timeout=10000)
    assert app.slider("latent-mu-0") == 3.0
    assert app.errors == []
    page.context.close()


def test_sessions_do_not_share_state(browser, server):
    first = App(browser.new_context().new_page(), server.url)
    second = App(browser.new_context().new_page(), server.url)
    image = second.image()
    before = first.image()
    first.press("latent-mu-0", times=10)
    first.click("latent-resample")
    first.wait_image_change(before)
    assert second.image() == image
    assert second.slider("latent-mu-0") == 0
    second.page.reload()
    second.page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    assert second.image() == image


def test_zoo_default_and_switch(browser, zoo_server):
    page = browser.new_context().new_page()
    app = App(page, zoo_server.url)
    page.locator(".latent-info").get_by_text(zoo.DEFAULT).wait_for(timeout=10000)
    before = app.image()
    page.locator(".latent-zoo select").first.select_option(label="mnist-beta10")
    app.wait_image_change(before)
    page.locator(".latent-info").get_by_text("mnist-beta10").wait_for(timeout=10000)
    assert app.errors == []
    page.context.close()


def test_128_dimensions_are_paged(app, checkpoint_factory):
    big = checkpoint_factory("big128.pth", 128, seed=3)
    path_input = app.page.locator(".latent-path input").first
    path_input.fill(str(big))
    path_input.press("Enter")
    app.page.wait_for_function(f"() => ({BARS})().length === 128", timeout=15000)
    assert app.page.locator(".noUi-handle:visible").count() == 2 * 16  # μ and σ of 16 dims
    app.page.locator(".latent-pager select").first.select_option(label="113–128")
    app.page.locator(".latent-sigma-127 .noUi-handle").first.wait_for(timeout=10000)
    assert app.page.locator(".latent-mu-0").count() == 0
    before = app.image()
    app.press("latent-mu-127", times=10)
    app.wait_image_change(before)
    assert app.slider("latent-mu-127") == pytest.approx(0.1)
    assert app.errors == []
