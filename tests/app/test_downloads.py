"""The app's downloads, clicked in headless Chromium against a real `panel serve`: the image as
PNG, the state as JSON (which `vae-explorer decode --from-json` turns back into the same image),
the static page and the living page of the current z (opened from their files with every
request refused), and the Traversal view's animated GIF of the current z.

Tests wait on conditions (a download, the image changing), never on sleeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import panel as pn
import pytest
from conftest import open_offline
from pagejs import IMAGE
from PIL import Image

from explorer import names
from explorer.app.explorer import LatentExplorer
from explorer.figures import animation
from explorer.figures.png import to_uint8
from explorer.latent import state
from explorer.latent.space import LatentModel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SCRIPT = Path(sys.executable).with_name("vae-explorer")

SETTLED = """() => {
  const query = new URLSearchParams(window.location.search);
  const mu = JSON.parse(query.get('mu') || '[]'), sigma = JSON.parse(query.get('sigma') || '[]');
  return mu[0] === 0.25 && sigma[1] === 0.8 && !['0', null].includes(query.get('seed'));
}"""


def as_shown(values: list[float]) -> np.ndarray:
    """A page's image source → the image as shown (Bokeh's rows run bottom to top)."""
    return np.asarray(values, dtype=np.float32).reshape(28, 28)[::-1]


@pytest.fixture(scope="module")
def server(start_server, ckpt12):
    return start_server("--checkpoint", str(ckpt12))


@pytest.fixture(scope="module")
def app(browser, server):
    """The explorer moved away from its first image: μ0 = 0.25, σ1 = 0.8, a new seed."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    for css, key, times in [("latent-mu-0", "ArrowRight", 25), ("latent-sigma-1", "ArrowLeft", 20)]:
        before = page.evaluate(IMAGE)
        handle = page.locator(f".{css} .noUi-handle").first
        handle.focus()
        for _ in range(times):
            handle.press(key)
        wait_image_change(page, before)
    before = page.evaluate(IMAGE)
    page.locator(".latent-resample button").first.click()
    wait_image_change(page, before)
    # The server has applied every change once it writes them all into the URL (1 s after
    # the last); the image it sent before then is the last one.
    page.wait_for_function(SETTLED, timeout=10000)
    yield page, errors
    context.close()


def wait_image_change(page, before) -> None:
    page.wait_for_function(
        f"(before) => JSON.stringify(({IMAGE})()) !== JSON.stringify(before)",
        arg=before,
        timeout=10000,
    )


def download(page, css: str, folder: Path) -> Path:
    with page.expect_download(timeout=30000) as info:
        page.locator(f".{css} a").first.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def png_pixels(data) -> np.ndarray:
    with Image.open(data) as png:
        assert (png.format, png.mode) == ("PNG", "L")
        return np.asarray(png)


def blocks(image: np.ndarray, scale: int) -> np.ndarray:
    """The image's grey levels, each pixel a scale×scale block (nearest neighbour)."""
    return to_uint8(image).repeat(scale, axis=0).repeat(scale, axis=1)


def test_png_download_is_slide_sized_unless_chosen(ckpt12):
    """The PNG as the server makes it for a click: 8× (224 px) by default, the size chosen
    beside it otherwise."""
    explorer = LatentExplorer(LatentModel(checkpoint=str(ckpt12), rng_seed=1))
    controls = pn.Column(*explorer.main())
    (png,) = controls.select(lambda w: names.download("png") in (w.css_classes or []))
    (scale,) = controls.select(lambda w: names.PNG_SCALE in (w.css_classes or []))
    assert scale.value == 8 and list(scale.options.values()) == [1, 4, 8, 16]
    pixels = png_pixels(png.callback())  # what the button sends
    assert pixels.shape == (224, 224)
    assert np.array_equal(pixels, blocks(explorer.model.image, 8))
    scale.value = 1
    assert np.array_equal(png_pixels(png.callback()), to_uint8(explorer.model.image))


def test_png_download_is_the_current_image(app, tmp_path, ckpt12):
    page, errors = app
    image = as_shown(page.evaluate(IMAGE))
    path = download(page, "latent-download-png", tmp_path)
    assert path.name == f"{ckpt12.stem}-z.png"
    assert np.array_equal(png_pixels(path), blocks(image, 8))  # 224 px: ready for a slide
    page.locator(".latent-png-scale select").first.select_option(label="1× (28 px)")
    try:
        assert np.array_equal(
            png_pixels(download(page, "latent-download-png", tmp_path)), to_uint8(image)
        )
    finally:
        page.locator(".latent-png-scale select").first.select_option(label="8× (224 px)")
    assert errors == []


def test_json_download_decodes_to_the_same_image(app, tmp_path, ckpt12):
    page, errors = app
    image = as_shown(page.evaluate(IMAGE))
    path = download(page, "latent-download-json", tmp_path)
    assert path.name == f"{ckpt12.stem}-z.json"
    saved = json.loads(path.read_text())
    # The operator's --checkpoint path stays on the server: visitors get its file name only.
    assert (saved["checkpoint"], saved["mode"], saved["latent_dim"]) == (ckpt12.name, "sample", 12)
    assert str(ckpt12.parent) not in path.read_text()
    assert saved["mu"][0] == pytest.approx(0.25)
    assert saved["sigma"][1] == pytest.approx(0.8)
    assert saved["seed"] != 0  # resampled
    out = tmp_path / "decoded.npy"
    result = subprocess.run(
        [str(SCRIPT), "decode", str(ckpt12), "--from-json", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(out), image, rtol=0, atol=1e-6)
    assert errors == []


def test_html_download_is_the_current_page_offline(app, browser, tmp_path, ckpt12):
    page, errors = app
    image = as_shown(page.evaluate(IMAGE))
    path = download(page, "latent-download-html", tmp_path)
    assert path.name == f"{ckpt12.stem}-z.html"
    offline, log = open_download(browser, path)
    try:
        np.testing.assert_allclose(as_shown(offline.evaluate(IMAGE)), image, rtol=0, atol=1e-6)
        offline.get_by_text("latent size").first.wait_for(timeout=10000)
        assert log == {"refused": [], "errors": []}
    finally:
        offline.context.close()
    assert errors == []


def test_living_page_download_draws_the_apps_image_itself(app, browser, tmp_path, ckpt12):
    """The living page starts where the app is (same μ, σ and seed, so the same ε) and draws
    that image with its own JavaScript decoder; its sliders then work with no server."""
    page, errors = app
    image = as_shown(page.evaluate(IMAGE))
    path = download(page, "latent-download-live", tmp_path)
    assert path.name == f"{ckpt12.stem}-z.live.html"
    offline, log = open_download(browser, path)
    try:
        offline.wait_for_function("() => window.vaeUpdateMs !== undefined", timeout=30000)
        np.testing.assert_allclose(as_shown(offline.evaluate(IMAGE)), image, rtol=0, atol=1e-4)
        before = offline.evaluate(IMAGE)
        handle = offline.locator(".latent-mu-0 .noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        wait_image_change(offline, before)
        assert log == {"refused": [], "errors": []}
    finally:
        offline.context.close()
    assert errors == []


def open_download(browser, path: Path):
    """A downloaded page opened from its file, every other request refused: (page, log)."""
    page, log = open_offline(browser, path)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    return page, log


def test_traversal_gif_download_animates_the_current_z(app, tmp_path, ckpt12):
    page, errors = app
    saved = json.loads(download(page, "latent-download-json", tmp_path).read_text())
    page.locator(".bk-tab", has_text="Traversal").first.click()
    try:
        page.locator(".latent-download-traversal-gif a").first.wait_for(timeout=30000)
        path = download(page, "latent-download-traversal-gif", tmp_path)
    finally:
        page.locator(".bk-tab", has_text="Explore").first.click()
    assert path.name == f"{ckpt12.stem}-traversal.gif"
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * animation.STEPS - 2 > 1
        assert gif.info["loop"] == 0
        gif.seek(5)
        frame = np.asarray(gif.convert("L"), dtype=np.int16)
    model = state.model_from_json(saved, checkpoint=str(ckpt12))
    expected = animation.traversal(model.vae, model.current_z(), name=ckpt12.name)[5]
    assert np.abs(frame - np.asarray(expected.image, dtype=np.int16)).max() <= 1
    assert errors == []
