"""Text from files and links is shown as text, never run as markup; the operator's paths stay on
the server.

A checkpoint whose file name carries a backtick and ``<img onerror=…>``, and whose metadata
carries script, is opened in each place text is shown: the sidebar, the error and notice lines,
the downloads, the static and living pages. Each script would set ``window.__xss``; it must
stay unset, and the text must read as written.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from conftest import make_checkpoint, open_offline
from test_browser import App

from explorer.access import CheckpointAccess
from explorer.latent import state
from explorer.latent.space import LatentModel
from explorer.pages import living, static
from explorer.pages.fragments import literal

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NAME = "x`<img src=x onerror=window.__xss=1>`.pth"
DATASET = "<script>window.__xss=2</script><img src=x onerror=window.__xss=3>"
MISSING = "nope`<img src=x onerror=window.__xss=4>`.pth"
QUERY_MODEL = "<img src=x onerror=window.__xss=5>"
XSS_RAN = "() => window.__xss !== undefined"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return make_checkpoint(folder / NAME, 12, seed=3, dataset=DATASET)


def operator_model(path) -> LatentModel:
    """A model opened as the app opens the operator's --checkpoint."""
    return LatentModel(checkpoint=str(path), access=CheckpointAccess.confined([], trusted=[path]))


def test_literal_escapes_html_and_markdown():
    text = literal("a`b<img src=x>[l](javascript:x) *e*")
    assert "<" not in text and "`" not in text.replace("\\`", "")
    assert "\\[l\\]\\(javascript:x\\)" in text


def test_operator_path_is_shown_by_name_only(hostile):
    model = operator_model(str(hostile))
    assert model.public_checkpoint == NAME
    secret = str(hostile.parent)
    for text in (state.dumps(model), static.page_html(model), living.page_html(model)):
        assert secret not in text


def test_a_visitors_own_path_is_kept(hostile, ckpt12):
    model = operator_model(str(ckpt12))
    model.checkpoint = str(hostile)  # typed in the page: the visitor knows it already
    assert model.public_checkpoint == str(hostile)
    assert state.to_json(model)["checkpoint"] == str(hostile)


@pytest.mark.parametrize("kind", ["static", "living"])
def test_pages_show_hostile_names_as_text(browser, hostile, tmp_path, kind):
    model = operator_model(str(hostile))
    path = tmp_path / f"{kind}.html"
    (static if kind == "static" else living).export_html(model, path)
    page, log = open_offline(browser, path)
    page.locator(".latent-info").first.wait_for(timeout=30000)
    assert not page.evaluate(XSS_RAN)
    assert NAME in page.locator(".latent-info").first.inner_text()
    assert log["errors"] == []
    page.context.close()


@pytest.fixture(scope="module")
def server(start_server, hostile):
    return start_server("--checkpoint", str(hostile))


def test_served_page_shows_hostile_text_as_text(browser, server, hostile):
    query = urllib.parse.urlencode({"model": QUERY_MODEL})
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    app = App(page, f"{server.url}?{query}")
    info = page.locator(".latent-info").first
    info.get_by_text(DATASET).wait_for(timeout=10000)  # the metadata, as written
    info.get_by_text(NAME).wait_for(timeout=10000)
    page.locator(".latent-notice").get_by_text(QUERY_MODEL).wait_for(timeout=10000)
    # An error that names a hostile path
    path_input = page.locator(".latent-path input").first
    path_input.fill(str(hostile.parent / MISSING))
    path_input.press("Enter")
    page.locator(".latent-error").get_by_text(MISSING).wait_for(timeout=10000)
    # The same file typed in: the sidebar again, now from the visitor's own path
    path_input.fill(str(hostile))
    path_input.press("Enter")
    page.locator(".latent-error").first.wait_for(state="hidden", timeout=10000)
    info.get_by_text(NAME).wait_for(timeout=10000)
    # Downloads: the JSON names the file as text; no file name carries markup
    with page.expect_download(timeout=30000) as download:
        page.locator(".latent-download-json a").first.click()
    assert "<" not in download.value.suggested_filename
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["model"] == NAME
    assert not page.evaluate(XSS_RAN)
    assert app.errors == []
    context.close()
