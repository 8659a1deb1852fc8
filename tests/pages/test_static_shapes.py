"""The static page of a colour model: its image is an image_rgba glyph whose pixels are the
decoded image (RGBA packed, rows bottom-up, as explorer.plots writes them), painted in colour
at 5 screen pixels per image pixel. The page is opened from its file in headless Chromium with
every other request refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import open_offline
from pagejs import FIND
from PIL import Image

from explorer import names, plots
from explorer.compute.decoding import decode_image
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from explorer.pages import static
from tests.formats.factories import colour_conv64

Z = [1.0, -0.5, 2.0, -1.5]
IMAGE = f"""() => {{
  const source = ({FIND})('{names.IMAGE_SOURCE}');
  if (!source) return null;
  const views = [...Bokeh.index.all_views()].filter(view => view.model.type === 'Figure');
  const view = views.find(v => v.model.renderers[0].data_source === source);
  if (!view || !view.has_finished()) return null;
  const page = view.el.getBoundingClientRect(), frame = view.frame.bbox;
  return {{
    glyph: view.model.renderers[0].glyph.type,
    pixels: Array.from(source.data.image[0]),
    box: {{x: page.x + frame.x, y: page.y + frame.y, width: frame.width, height: frame.height}},
  }};
}}"""


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_static_page_of_a_colour_model_shows_its_image(browser, tmp_path):
    model = LatentModel.of(colour_conv64(), "colour64", mode="deterministic", z_set=Z)
    image = decode_image(model.vae, np.asarray(Z, np.float32))
    np.testing.assert_array_equal(model.image, image)
    path = static.export_html(model, tmp_path / "colour.html")
    page, log = open_offline(browser, path, viewport={"width": 1300, "height": 900})
    try:
        page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
        shown = page.evaluate(IMAGE)
        assert shown["glyph"] == "ImageRGBA"
        want = plots.rgba(image)[::-1].ravel()  # Bokeh's rows run bottom-up
        np.testing.assert_array_equal(np.asarray(shown["pixels"], np.uint32), want)
        box = shown["box"]
        assert (box["width"], box["height"]) == (320, 320)  # 64 pixels, 5 screen px each
        with Image.open(io.BytesIO(page.screenshot(clip=box))) as shot:
            painted = np.asarray(shot.convert("RGB"), dtype=np.int16)[2::5, 2::5]
        assert painted.shape == (64, 64, 3)
        assert np.abs(painted - to_uint8(image)).max() <= 2
        page.get_by_text("64×64 RGB").first.wait_for(timeout=10000)  # the model's facts
        assert log["errors"] == [] and log["refused"] == []
    finally:
        page.context.close()
