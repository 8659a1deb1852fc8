"""`vae-explorer serve` reuses sessions (issue #19): a page's GET is answered from one cached
session's page, and each visitor's own session is built when its websocket connects, from its
URL. A real server and headless Chromium: a link with state still opens that state, on the
first page of a process (the cached session itself) and on those after it (reused)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port
from pagejs import IMAGE, SLIDER

from explorer import names

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FIRST_ROOT = re.compile(r'"roots":\{"([^"]+)"')  # the id of the page's first root model


@pytest.fixture
def served(tmp_path):
    """`vae-explorer serve mnist-beta1` on a free port: its URL; stopped after the test."""
    port = free_port()
    log = tmp_path / "serve.log"
    command = [
        str(Path(sys.executable).with_name("vae-explorer")), "serve", "mnist-beta1",
        "--port", str(port), "--address", "127.0.0.1",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"vae-explorer serve exited:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=60).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def state_url(base: str, model: str, mu0: float) -> str:
    mu = [mu0] + [0.0] * 11
    query = {"mode": "sample", "seed": "0", "model": model, "mu": json.dumps(mu)}
    return base + "?" + urllib.parse.urlencode(query)


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url)
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=90000)
    return page


def shown_state(page) -> tuple[float, dict[str, str]]:
    """The page's μ0 slider, and its URL's query once the app has written it back."""
    mu0 = page.evaluate(SLIDER, names.mu_slider(0))
    page.wait_for_function("() => window.location.search.includes('model=')", timeout=30000)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))
    return mu0, query


def test_a_link_with_state_opens_that_state_with_sessions_reused(browser, served):
    pages = []
    # The first GET of the process: its session is the one whose page later GETs are given.
    for model, mu0 in [("mnist-beta1", 0.75), ("fashion-mnist-beta1", 1.5), ("mnist-beta10", -2)]:
        page = open_page(browser, state_url(served, model, mu0))
        pages.append(page)
        shown_mu0, query = shown_state(page)
        assert shown_mu0 == pytest.approx(mu0)
        assert query["model"] == model and json.loads(query["mu"])[0] == pytest.approx(mu0)
    assert len({tuple(p.evaluate(IMAGE)) for p in pages}) == 3  # three images, one each

    # Reused, not built per GET: two GETs give the page of the same session's roots.
    first, second = (urllib.request.urlopen(served).read().decode() for _ in range(2))
    assert FIRST_ROOT.search(first).group(1) == FIRST_ROOT.search(second).group(1)
    for page in pages:
        page.context.close()
