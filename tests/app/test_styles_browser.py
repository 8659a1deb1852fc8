"""The served page keeps the template's styling through changes made in the page (issue #20).

A slider handle and the model heading are read with getComputedStyle on a fresh page, then after
each change that rebuilds or rewrites them: choosing another bundled model, loading a checkpoint
by path (another latent size: new sliders), ticking "Order by KL" (new sliders). Each must look
as it did on the fresh page.
"""

from __future__ import annotations

import pytest

from explorer import names, zoo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SLIDER = f".{names.mu_slider(0)}"  # μ of dimension 0
HANDLE = f"{SLIDER} .noUi-handle"
HEADING = f".{names.INFO} h3"
# Read once the element's transitions (a handle's colour fades in) have run their course.
LOOK = """async (element) => {
  await Promise.all(element.getAnimations().map((animation) => animation.finished));
  const style = getComputedStyle(element);
  return Object.fromEntries(%s.map((name) => [name, style.getPropertyValue(name)]));
}"""
HANDLE_LOOK = LOOK % '["width", "height", "border-radius", "background-color"]'
HEADING_LOOK = LOOK % '["font-size", "color", "font-weight", "margin-bottom"]'


@pytest.fixture(scope="module")
def zoo_server(start_server):
    return start_server()


class Page:
    def __init__(self, browser, url: str):
        self.page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url)
        self.page.locator(HANDLE).first.wait_for(timeout=30000)
        self.page.locator(HEADING).first.wait_for(timeout=30000)

    def look(self) -> dict[str, dict[str, str]]:
        return {
            "handle": self.page.locator(HANDLE).first.evaluate(HANDLE_LOOK),
            "heading": self.page.locator(HEADING).first.evaluate(HEADING_LOOK),
        }

    def heading_reads(self, text: str) -> None:
        self.page.locator(HEADING).get_by_text(text).wait_for(timeout=20000)

    def mark_sliders(self) -> None:
        """Mark μ_0's slider as it is now in the page, for :meth:`wait_new_sliders`."""
        self.page.locator(SLIDER).first.evaluate("(element) => element.dataset.seen = 'yes'")

    def wait_new_sliders(self) -> None:
        """Wait for the sliders to be rebuilt: a μ_0 slider not marked by :meth:`mark_sliders`."""
        self.page.locator(f"{SLIDER}:not([data-seen]) .noUi-handle").first.wait_for(timeout=20000)

    def close(self) -> None:
        self.page.context.close()


def test_the_fresh_page_looks_styled(browser, zoo_server):
    """The baseline the other test compares against is the template's look, not a bare one."""
    page = Page(browser, zoo_server.url)
    look = page.look()
    assert look["handle"]["border-radius"] == "50%", look  # the theme's round handle
    assert float(look["heading"]["font-size"].removesuffix("px")) < 20, look  # a sidebar heading
    page.close()


def test_changes_in_the_page_keep_the_template_styles(browser, zoo_server, ckpt20):
    other = "mnist-beta10"
    assert other != zoo.DEFAULT
    fresh = Page(browser, f"{zoo_server.url}?model={other}")
    expected = fresh.look()
    fresh.close()

    page = Page(browser, zoo_server.url)
    page.heading_reads(zoo.DEFAULT)
    assert page.look() == expected  # the same look whichever model a page opens with

    page.page.locator(f".{names.ZOO} select").first.select_option(label=other)
    page.heading_reads(other)
    assert page.look() == expected, "after choosing another bundled model"

    page.mark_sliders()
    page.page.locator(f".{names.ORDER_KL} input").first.check()
    page.wait_new_sliders()
    assert page.look() == expected, "after ticking Order by KL"

    page.mark_sliders()
    path = page.page.locator(f".{names.PATH} input").first
    path.fill(str(ckpt20))
    path.press("Enter")
    page.heading_reads(ckpt20.name)
    page.wait_new_sliders()  # 20 dimensions: new sliders
    assert page.look() == expected, "after loading a checkpoint by path"
    assert page.errors == []
    page.close()
