"""The exploration views in headless Chromium against a real `panel serve` of the bundled model.

Each view is a tab: it appears only when its tab is opened (hidden tabs cost nothing), carries
its CSS class, and follows a slider. Tests wait on conditions (a data source's values changing),
never on sleeps; sources are found by name in the page.
"""

from __future__ import annotations

import pytest
from pagejs import COLUMN, FIND, SLIDER

from explorer import names

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


VIEWS = names.VIEW_TABS  # tab title → (container class, source, column a μ move changes)


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", "mnist-beta1")  # a zoo model: it has a data sample


class Page:
    def __init__(self, page, url: str):
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(url)
        page.wait_for_function(f"() => ({FIND})('{names.IMAGE_SOURCE}') !== null", timeout=30000)
        page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=30000)

    def column(self, source: str, column: str = "image"):
        return self.page.evaluate(COLUMN, [source, column])

    def wait_change(self, source: str, before, column: str = "image"):
        self.page.wait_for_function(
            f"([s, c, b]) => {{ const v = ({COLUMN})([s, c]); return v !== null && v !== b; }}",
            arg=[source, column, before],
            timeout=15000,
        )
        return self.column(source, column)

    def open(self, title: str) -> None:
        self.page.locator(".bk-tab", has_text=title).first.click()
        css, source, _ = VIEWS[title]
        self.page.wait_for_function(f"() => ({FIND})('{source}') !== null", timeout=30000)
        self.page.locator(f".{css}").first.wait_for(state="visible", timeout=10000)

    def press(self, css: str, key: str = "ArrowRight", times: int = 1) -> None:
        handle = self.page.locator(f".{css} .noUi-handle").first
        handle.focus()
        for _ in range(times):
            handle.press(key)

    def map_dims(self) -> tuple[int, int]:
        """The two dimensions the map shows, 0-based (its selects read "z<i + 1>")."""
        values = [
            self.page.locator(f".{axis} select").first.input_value()
            for axis in (names.MAP_X, names.MAP_Y)
        ]
        return int(values[0].removeprefix("z")) - 1, int(values[1].removeprefix("z")) - 1

    def click_plot(self, css: str, fx: float, fy: float) -> None:
        """Click a plot's canvas at a fraction (fx, fy) of its frame, from the top left."""
        box = self.page.locator(f".{css} .bk-Canvas, .{css} canvas").first.bounding_box()
        self.page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


@pytest.fixture
def app(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    yield Page(context.new_page(), server.url)
    context.close()


def test_hidden_views_are_not_rendered(app):
    for _, source, _ in VIEWS.values():
        assert app.column(source) is None
    app.open("Samples")
    assert app.column(names.TRAVERSAL_SOURCE) is None  # only the opened tab


@pytest.mark.parametrize("title", list(VIEWS))
def test_view_renders_and_follows_a_slider(app, title):
    css, source, column = VIEWS[title]
    app.open(title)
    before = app.column(source, column)
    assert before is not None
    dim = next(d for d in range(12) if d not in app.map_dims()) if css == names.MAP else 2
    app.press(names.mu_slider(dim), times=10)  # the sliders stay below every tab
    after = app.wait_change(source, before, column)
    assert after != before
    assert app.page.evaluate(SLIDER, names.mu_slider(dim)) == pytest.approx(0.1)
    assert app.errors == []


def test_map_click_moves_z(app):
    app.open("2-D map")
    _, j = app.map_dims()
    before = app.column(names.MAP_SOURCE)
    other = next(d for d in range(12) if d not in app.map_dims())
    app.page.locator(f".{names.MAP_X} select").first.select_option(
        f"z{other + 1}"
    )  # a Panel widget
    app.wait_change(names.MAP_SOURCE, before)
    i, j = app.map_dims()
    assert i == other
    app.click_plot(names.MAP, 0.9, 0.1)  # top right: both dimensions near +3
    app.page.wait_for_function(
        f"([a, b]) => ({SLIDER})(a) > 1.5 && ({SLIDER})(b) > 1.5",
        arg=[names.mu_slider(i), names.mu_slider(j)],
        timeout=10000,
    )
    assert app.page.evaluate(SLIDER, names.sigma_slider(i)) == 0  # z lands exactly on the point
    assert app.errors == []


def test_encode_a_data_image_and_a_drawing(app):
    app.open("Encode")
    app.page.wait_for_function(f"() => ({FIND})('{names.ENCODE_GALLERY_SOURCE}') !== null")
    before = app.column(names.ENCODE_SOURCE)
    app.click_plot(names.ENCODE_GALLERY, 0.03, 0.03)  # the first image
    shown = app.wait_change(names.ENCODE_SOURCE, before)
    app.page.get_by_text("q(z|x) of image 0").wait_for(timeout=10000)
    assert app.page.evaluate(SLIDER, names.mu_slider(0)) != 0  # μ and σ are the posterior's
    canvas = app.page.locator(f".{names.ENCODE_CANVAS} canvas").first.bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] * 0.2
    app.page.mouse.move(x, y)
    app.page.mouse.down()
    for k in range(1, 11):
        app.page.mouse.move(x, y + k * canvas["height"] * 0.06, steps=2)
    app.page.mouse.up()
    app.page.get_by_text("q(z|x) of your drawing").wait_for(timeout=10000)
    app.wait_change(names.ENCODE_SOURCE, shown)
    strokes = f"() => ({FIND})('{names.ENCODE_STROKES}').data.xs.length"
    assert app.page.evaluate(strokes) > 0
    app.page.locator(f".{names.ENCODE_CLEAR} button").first.click()  # the view's Event parameter
    app.page.wait_for_function(f"() => ({strokes})() === 0", timeout=10000)
    assert app.errors == []


def test_interpolation_t_slider(app):
    app.open("Interpolation")
    at_t = app.column(names.INTERP_T_SOURCE)
    app.press(names.INTERP_T, times=20)
    app.wait_change(names.INTERP_T_SOURCE, at_t)
    strip = app.column(names.INTERP_SOURCE)
    app.page.locator(f".{names.INTERP_METHOD} button", has_text="spherical").first.click()
    strip = app.wait_change(names.INTERP_SOURCE, strip)  # the path bends: A and B stay
    app.page.locator(f".{names.interp_point('A', 'random')} button").first.click()
    app.wait_change(names.INTERP_SOURCE, strip)
    assert app.errors == []
