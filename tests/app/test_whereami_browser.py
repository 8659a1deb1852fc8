"""Where z stands (the Explore tab's nearest data and typicality) in headless Chromium against a
real `panel serve` of a bundled model: the nearest strip follows μ, a click on it loads that
image's posterior, and z = (4, …, 4) set exactly is off the data's manifold while z = 0 is not.
Tests wait on conditions, never on sleeps."""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from pagejs import FIND, SLIDER
from playwright.sync_api import expect

from explorer import names
from explorer.compute import typicality

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# A short fingerprint of the strip's pixels: enough to see any change, cheap to compare.
STRIP = f"""() => {{
  const source = ({FIND})('{names.NEAREST_SOURCE}');
  if (!source) return null;
  const values = Array.from(source.data.image[0]);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * ((i % 97) + 1);
  return values.length + ':' + sum;
}}"""


@pytest.fixture(scope="module")
def server(start_server):
    return start_server("--checkpoint", "mnist-beta1")  # a zoo model: it has a data sample


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(f"() => ({STRIP})() !== null", timeout=30000)
    page.locator(f".{names.TYPICALITY}").first.wait_for(timeout=30000)
    return context, page, errors


def typicality_text(page) -> str:
    return page.locator(f".{names.TYPICALITY} div").last.inner_text()


def captions(page) -> str:
    """The label and distance under each image of the strip (spans in a Bokeh shadow root)."""
    return " | ".join(page.locator(f".{names.NEAREST} span").all_inner_texts())


def percentile(page) -> float:
    return float(re.search(r"percentile (\d+) of the data", typicality_text(page)).group(1))


def test_the_nearest_strip_follows_mu_and_a_click_loads_a_posterior(browser, server):
    context, page, errors = open_page(browser, server.url)
    before = page.evaluate(STRIP)
    caption = captions(page)
    assert len(re.findall(r"\d\n\d+\.\d\d", caption)) == 8  # a label and distance each
    handle = page.locator(f".{names.mu_slider(0)} .noUi-handle").first
    handle.focus()
    handle.press("End")  # μ₀ to its bound, 3: other images lie nearest
    page.wait_for_function(f"(b) => ({STRIP})() !== b", arg=before, timeout=15000)
    assert page.evaluate(SLIDER, names.mu_slider(0)) == 3.0
    first = page.locator(f".{names.NEAREST} span").first
    expect(first).not_to_have_text(caption.split(" | ")[0])  # its distance, at least, moved
    # a click on the first (nearest) image: μ and σ become its posterior's
    box = page.locator(f".{names.NEAREST} canvas").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 16, box["y"] + box["height"] / 2)
    page.wait_for_function(f"() => ({SLIDER})('{names.mu_slider(0)}') !== 3.0", timeout=10000)
    sigmas = [page.evaluate(SLIDER, names.sigma_slider(d)) for d in range(12)]
    assert max(sigmas) < 1.0  # a posterior's σ, not the prior's 1
    context.close()
    assert errors == []


def test_z_far_out_is_off_the_manifold_and_z_zero_is_not(browser, server):
    query = {"mode": "deterministic", "z": json.dumps([4.0] * 12), "model": "mnist-beta1"}
    context, page, errors = open_page(browser, f"{server.url}?{urllib.parse.urlencode(query)}")
    warning = page.locator(f".{names.OFF_MANIFOLD}").first
    expect(warning).to_be_visible(timeout=15000)
    expect(warning).to_contain_text(typicality.WARNING)
    assert percentile(page) == 0
    page.locator(f".{names.RESET} button").first.click()  # z = 0, still set exactly
    expect(warning).to_be_hidden(timeout=15000)
    assert page.evaluate(SLIDER, names.z_slider(0)) == 0
    assert percentile(page) > 1
    assert "exact mixture" in typicality_text(page)  # the page says which q it uses
    context.close()
    assert errors == []
