"""A researcher's own 32-dimension checkpoint, loaded by path in headless Chromium against a real
`panel serve` (issue #20): the z-values box holds its lines without spilling over the "Order by
KL" checkbox, and the bundled-model picker no longer names the zoo model it replaced."""

from __future__ import annotations

import pytest
from pagejs import IMAGE
from playwright.sync_api import expect

from explorer import names, zoo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PATH_CHOICE = "— a checkpoint path —"
# The values box's own bottom and what it shows (its last line: the statistics), the checkbox's
# top, and whether the box shows all it holds (it scrolls when too narrow for its lines).
FIT = f"""() => {{
  const find = (root, css) => {{
    const found = root.querySelector('.' + css);
    if (found) return found;
    for (const element of root.querySelectorAll('*'))
      if (element.shadowRoot) {{
        const inner = find(element.shadowRoot, css);
        if (inner) return inner;
      }}
    return null;
  }};
  const box = find(document, '{names.VALUES}');
  const stats = find(box.shadowRoot, '{names.STATS}');
  const order = find(document, '{names.ORDER_KL}');
  return {{box: box.getBoundingClientRect().bottom, stats: stats.getBoundingClientRect().bottom,
           order: order.getBoundingClientRect().top,
           holds: box.scrollHeight <= box.clientHeight + 1}};
}}"""


@pytest.fixture(scope="module")
def server(start_server):
    return start_server()


def dims_shown(page, n: int) -> None:
    expect(page.locator(f".{names.Z_VALUES} span")).to_have_count(n, timeout=20000)


def fits(page) -> None:
    fit = page.evaluate(FIT)
    assert fit["holds"], fit  # every line shown
    assert fit["stats"] <= fit["box"] + 0.5, fit  # the last line inside the box
    assert fit["box"] <= fit["order"], fit  # the box above the checkbox, not over it


def picker(page) -> str:
    """The label the picker shows."""
    select = page.locator(f".{names.ZOO} select").first
    return select.evaluate("(s) => s.options[s.selectedIndex].text")


@pytest.mark.parametrize("width", [1280, 1440])
def test_a_32_dimension_checkpoint_fits_and_the_picker_lets_go(
    browser, server, checkpoint_factory, width
):
    big = checkpoint_factory("big32.pth", 32, seed=4)
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    dims_shown(page, 12)
    assert picker(page) == zoo.DEFAULT
    fits(page)

    path = page.locator(f".{names.PATH} input").first
    path.fill(str(big))
    path.press("Enter")
    page.locator(f".{names.INFO} h3").get_by_text(big.name).wait_for(timeout=20000)
    dims_shown(page, 32)
    assert picker(page) == PATH_CHOICE  # no longer the zoo model
    fits(page)
    assert page.locator(f".{names.INFO} h3").get_by_text(big.name).count() == 1  # not reloaded

    # And back: the picker names the bundled model chosen, which loads.
    page.locator(f".{names.ZOO} select").first.select_option(label=zoo.DEFAULT)
    page.locator(f".{names.INFO} h3").get_by_text(zoo.DEFAULT).wait_for(timeout=20000)
    dims_shown(page, 12)
    assert picker(page) == zoo.DEFAULT
    fits(page)
    assert errors == []
    page.context.close()
