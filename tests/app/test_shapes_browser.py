"""The served app in headless Chromium follows the model's image shape: a real `panel serve` of an
RGB 64×64 ONNX model (exported here from a small torch module), the page's image equal to the
server's decode, a slider move repainting it, and a switch to the zoo's 28×28 grey model and back
in one session. Tests wait on conditions, never on sleeps."""

from __future__ import annotations

import numpy as np
import pytest
from pagejs import FIND

from explorer import checkpoint, names, plots, zoo
from explorer.compute import decoding
from tests.formats.factories import export_colour_onnx

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# The image as the page holds it: its shape (rows, columns) and its values (bottom row first;
# an RGB image's pixels as packed RGBA, one uint32 each), or null before it has one.
IMAGE = f"""() => {{
  const source = ({FIND})('{names.IMAGE_SOURCE}');
  if (!source) return null;
  const pixels = source.data['{plots.IMAGE_COLUMN}'][0];
  return {{shape: Array.from(pixels.shape), rgba: pixels instanceof Uint32Array,
           values: Array.from(pixels)}};
}}"""
Z = f"""() => {{
  const source = ({FIND})('{names.BARS_SOURCE}');
  return source ? Array.from(source.data['{plots.Z_COLUMN}']) : null;
}}"""


@pytest.fixture(scope="module")
def colour(tmp_path_factory):
    """colour.onnx (RGB 64×64) with colour.encoder.onnx beside it."""
    return export_colour_onnx(tmp_path_factory.mktemp("colour"), 64)


@pytest.fixture(scope="module")
def server(start_server, colour):
    return start_server("--checkpoint", str(colour))


def shown(page) -> np.ndarray:
    """The page's image, top row first: floats in [0, 1], H×W grey or H×W×3 RGB."""
    image = page.evaluate(IMAGE)
    values = np.array(image["values"])
    if image["rgba"]:
        levels = values.astype(np.uint32).view(np.uint8).reshape(*image["shape"], 4)[..., :3]
        return levels[::-1] / 255.0
    return values.reshape(image["shape"])[::-1]


def decoded(vae, page) -> np.ndarray:
    """The server's decode of the z the page shows (its bars)."""
    return decoding.decode_image(vae, np.array(page.evaluate(Z), dtype=np.float32))


def open_page(browser, url):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=30000)
    return page, errors


def wait_shape(page, shape) -> None:
    page.wait_for_function(
        f"(shape) => {{ const i = ({IMAGE})(); return i !== null && "
        "JSON.stringify(i.shape) === JSON.stringify(shape); }",
        arg=list(shape),
        timeout=30000,
    )


def test_the_page_shows_the_rgb_model_and_a_slider_repaints_it(browser, server, colour):
    vae = checkpoint.load(colour).model
    page, errors = open_page(browser, server.url)
    image = shown(page)
    assert image.shape == (64, 64, 3)
    np.testing.assert_allclose(image, decoded(vae, page), rtol=0, atol=1e-2)
    assert image.std() > 0.01  # a picture, not a flat square
    box = page.locator(f".{names.IMAGE}").first.bounding_box()
    assert box["width"] >= 320  # 5 screen pixels per image pixel

    before = page.evaluate(IMAGE)["values"]
    handle = page.locator(f".{names.mu_slider(0)} .noUi-handle").first
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    page.wait_for_function(
        f"(before) => {{ const i = ({IMAGE})(); return i !== null && "
        "JSON.stringify(i.values) !== JSON.stringify(before); }",
        arg=before,
        timeout=15000,
    )
    moved = shown(page)  # the image and the bars arrive in one message: they agree at any time
    np.testing.assert_allclose(moved, decoded(vae, page), rtol=0, atol=1e-2)
    assert not np.array_equal(moved, image)
    assert errors == []
    page.context.close()


def test_a_switch_from_the_zoo_to_the_rgb_model_by_path_and_back(browser, server, colour):
    mnist = checkpoint.load(zoo.DEFAULT).model
    vae = checkpoint.load(colour).model
    page, errors = open_page(browser, server.url)
    page.locator(f".{names.ZOO} select").first.select_option(label=zoo.DEFAULT)
    wait_shape(page, (28, 28))
    np.testing.assert_allclose(shown(page), decoded(mnist, page), rtol=0, atol=1e-5)

    path = page.locator(f".{names.PATH} input").first
    path.fill(str(colour))
    path.press("Enter")
    wait_shape(page, (64, 64))
    page.locator(f".{names.INFO} h3").get_by_text(colour.name).wait_for(timeout=20000)
    np.testing.assert_allclose(shown(page), decoded(vae, page), rtol=0, atol=1e-2)

    page.locator(f".{names.ZOO} select").first.select_option(label=zoo.DEFAULT)
    wait_shape(page, (28, 28))
    page.locator(f".{names.INFO} h3").get_by_text(zoo.DEFAULT).wait_for(timeout=20000)
    np.testing.assert_allclose(shown(page), decoded(mnist, page), rtol=0, atol=1e-5)
    box = page.locator(f".{names.IMAGE}").first.bounding_box()
    assert round(box["width"]) == 346  # the 28×28 image's box, as before
    assert page.locator(f".{names.ERROR}").first.is_hidden()
    assert errors == []
    page.context.close()
