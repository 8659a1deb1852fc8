"""Moves that mean something, in headless Chromium against a real `panel serve` of the bundled
mnist-beta1 (issue #18): the Arithmetic tab's class slider moves its image, and the 2-D map on
the data's principal components marks z and its nearest data, and a click moves z there. Tests
wait on conditions (a data source's values changing), never on sleeps."""

from __future__ import annotations

import pytest
from pagejs import COLUMN, FIND, SLIDER

from explorer import names

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# The x and y columns of a points source, as the page holds them.
POINTS = f"""(name) => {{
  const source = ({FIND})(name);
  return source ? [Array.from(source.data.x), Array.from(source.data.y)] : null;
}}"""


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", "mnist-beta1")  # a zoo model: its sample has labels


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({FIND})('{names.IMAGE_SOURCE}') !== null", timeout=30000)
    page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=30000)
    yield page
    assert errors == []
    context.close()


def column(page, source: str, name: str = "image"):
    return page.evaluate(COLUMN, [source, name])


def wait_change(page, source: str, before, name: str = "image"):
    page.wait_for_function(
        f"([s, c, b]) => {{ const v = ({COLUMN})([s, c]); return v !== null && v !== b; }}",
        arg=[source, name, before],
        timeout=15000,
    )
    return column(page, source, name)


def open_tab(page, title: str, source: str, css: str) -> None:
    page.locator(".bk-tab", has_text=title).first.click()
    page.wait_for_function(f"() => ({FIND})('{source}') !== null", timeout=30000)
    page.locator(f".{css}").first.wait_for(state="visible", timeout=10000)


def test_the_class_slider_moves_the_image(page):
    open_tab(page, "Arithmetic", names.ARITHMETIC_T_SOURCE, names.ARITHMETIC)
    at_t, path = column(page, names.ARITHMETIC_T_SOURCE), column(page, names.ARITHMETIC_PATH_SOURCE)
    handle = page.locator(f".{names.ARITHMETIC_T} .noUi-handle").first
    handle.focus()
    for _ in range(20):
        handle.press("ArrowRight")
    wait_change(page, names.ARITHMETIC_T_SOURCE, at_t)
    assert page.evaluate(SLIDER, names.ARITHMETIC_T) == pytest.approx(0.7)
    assert column(page, names.ARITHMETIC_PATH_SOURCE) == path  # t moves along the same path
    # another class A: a new path, written in place
    page.locator(f".{names.ARITHMETIC_FROM} select").first.select_option("0")
    wait_change(page, names.ARITHMETIC_PATH_SOURCE, path)
    # z(t) to the sliders: μ becomes z(t) and σ 0
    page.locator(f".{names.ARITHMETIC_SEND} button").first.click()
    page.wait_for_function(f"(css) => ({SLIDER})(css) === 0", arg=names.sigma_slider(0))
    assert page.evaluate(SLIDER, names.mu_slider(0)) != 0


def test_the_map_on_principal_components_marks_z_and_a_click_moves_it(page):
    open_tab(page, "2-D map", names.MAP_SOURCE, names.MAP)
    points = page.evaluate(POINTS, names.MAP_NEAREST_SOURCE)
    assert points is not None and len(points[0]) == 8  # the nearest data, ringed
    manifold = column(page, names.MAP_SOURCE)
    page.locator(f".{names.MAP_AXES} select").first.select_option("PC1 / PC2")
    manifold = wait_change(page, names.MAP_SOURCE, manifold)
    page.locator(f".{names.MAP_X}").first.wait_for(state="hidden", timeout=10000)
    assert page.evaluate(POINTS, names.MAP_NEAREST_SOURCE) != points  # on the plane now
    mu = [page.evaluate(SLIDER, names.mu_slider(d)) for d in range(12)]
    box = page.locator(f".{names.MAP} .bk-Canvas, .{names.MAP} canvas").first.bounding_box()
    page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + 0.1 * box["height"])  # top right
    cross = f"() => {{ const p = ({POINTS})('{names.MAP_CURRENT_SOURCE}'); "
    cross += "return p && p[0][0] > 1.5 && p[1][0] > 1.5; }"
    page.wait_for_function(cross, timeout=10000)  # z's projection is where the click was
    # μ moved along the plane (every dimension the components weigh), σ stays
    assert [page.evaluate(SLIDER, names.mu_slider(d)) for d in range(12)] != mu
    assert page.evaluate(SLIDER, names.sigma_slider(0)) == 1
