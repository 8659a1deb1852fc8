"""Hostile data over the Bokeh websocket: what a client can send that no widget in a page would.

A real `panel serve` process and a Bokeh protocol client (tests/protocol_client.py) set slider
values to NaN and 1e308, tap at NaN, draw strokes of strings and strokes by the thousand. After
each: the widget shows a valid value again, the server logged at most one line about it and no
traceback, and a fresh session, opened once the hostile one is discarded, still renders a view.
(An exception that escapes a raw Bokeh callback leaves its session's Document patched in as
``curdoc()``: Bokeh 3.9's ``patch_curdoc`` has no try/finally. Once that session was discarded,
every later render in every session failed until a restart.)
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from conftest import Server, run_async
from protocol_client import TIMEOUT, Client

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NAN = float("nan")
# Sessions are discarded half a second after their client leaves; tests/sessions_app.py, served
# beside the app, tells when that has happened.
OPTIONS = (
    "tests/sessions_app.py",
    "--unused-session-lifetime", "500",
    "--check-unused-sessions", "250",
)  # fmt: skip
# What the server logs for any session: not "about" a hostile message.
CONNECTION_LINES = (
    "WebSocket connection opened",
    "WebSocket connection closed",
    "ServerConnection",
    # The server's start-up lines can reach the log after the first test has read its length.
    "Bokeh app running at",
    "Starting Bokeh server",
)


@pytest.fixture(scope="module")
def server(start_server):
    return start_server(options=OPTIONS)  # the bundled model: it brings a data sample


async def discarded(server) -> None:
    """Wait until the server has discarded every session of the app."""
    url = server.url.rsplit("/", 1)[0] + "/sessions_app"
    async with asyncio.timeout(TIMEOUT):
        while True:
            probe = await Client().open(url)
            probe.close()
            if json.loads(probe.doc.get_model_by_name("sessions").text)["live"] == 0:
                return
            await asyncio.sleep(0.1)


# -- the hostile messages: each sends one, and returns the check that the page shows a valid
# state again


def slider(css: str, value: float, shown: float):
    async def send(client: Client):
        if css.startswith("latent-z-"):  # Set-z's sliders are made when its mode is first shown
            client.css("latent-mode").active = 2
        widget = await client.wait(lambda: client.css(css))
        widget.value = value
        return lambda: widget.value == shown

    return send


def interpolation_t(value: float, shown: float):
    async def send(client: Client):
        await client.show("Interpolation")
        t = await client.wait(lambda: client.css("latent-interp-t"))
        assert t.value == 0.5
        t.value = value
        return lambda: t.value == shown

    return send


def seed(value):
    async def send(client: Client):
        widget = client.css("latent-seed")
        before = widget.value
        widget.value = value
        return lambda: widget.value == before

    return send


def tap(tab: str, source: str, x, y):
    async def send(client: Client):
        await client.show(tab)
        figure = await client.wait(lambda: client.figure(source))
        mu = [client.css(f"latent-mu-{i}").value for i in range(12)]
        await client.tap(figure, x, y)
        return lambda: [client.css(f"latent-mu-{i}").value for i in range(12)] == mu

    return send


def strokes(xs, ys):
    async def send(client: Client):
        await client.show("Encode")
        source = await client.wait(lambda: client.doc.get_model_by_name("latent-encode-strokes"))
        source.data = {"xs": xs, "ys": ys}
        return lambda: len(source.data["xs"]) == 0  # the drawing is cleared

    return send


MANY = [[float(k % 28) + 0.5] * 50 for k in range(6000)]
HOSTILE = {
    "mu NaN": slider("latent-mu-0", NAN, 0.0),
    "mu 1e308": slider("latent-mu-1", 1e308, 3.0),
    "sigma -5": slider("latent-sigma-0", -5.0, 0.0),
    "z -inf": slider("latent-z-0", -math.inf, 0.0),  # not finite: refused, not clamped
    "t NaN": interpolation_t(NAN, 0.5),
    "t 1e308": interpolation_t(1e308, 1.0),
    "seed NaN": seed(NAN),
    "seed 1e308": seed(1e308),
    "seed empty": seed(None),
    "gallery tap NaN": tap("Encode", "latent-encode-gallery-source", NAN, NAN),
    "map tap NaN": tap("2-D map", "latent-map-source", NAN, 1.0),
    "strokes of strings": strokes([["a", "b"], [1.0, 2.0]], [[1.0, 2.0], ["c", None]]),
    "6000 strokes of 50 points": strokes(MANY, MANY),
}


async def hostile_then_fresh(server, send) -> None:
    hostile = await Client().open(server.url)
    try:
        await hostile.wait(await send(hostile))  # the widget shows a valid value again
    finally:
        hostile.close()
    await discarded(server)  # a Document left patched in as curdoc() is now a destroyed one

    fresh = await Client().open(server.url)
    try:
        assert len(fresh.doc.get_model_by_name("latent-image-source").data["image"]) == 1
        await fresh.show("Traversal")  # renders in a Panel callback: outside Bokeh's curdoc patch
        traversal = await fresh.wait(lambda: fresh.doc.get_model_by_name("latent-traversal-source"))
        assert len(traversal.data["image"]) == 1
    finally:
        fresh.close()


@pytest.mark.parametrize("send", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_message_is_refused_and_every_session_still_renders(server, send):
    start = len(server.logs())
    run_async(hostile_then_fresh(server, send))
    log = server.logs()[start:]
    assert "Traceback" not in log, log
    about = [
        line
        for line in log.splitlines()
        if line.strip() and not any(text in line for text in CONNECTION_LINES)
    ]
    assert len(about) <= 1, log


@pytest.fixture(scope="module")
def leaking_server(tmp_path_factory):
    """A server of its own: Bokeh logs a traceback for a patch that fails its own validation."""
    server = Server(tmp_path_factory.mktemp("leak") / "server.log", options=OPTIONS)
    yield server
    server.stop()


async def string_for_a_number_then_fresh(server) -> None:
    hostile = await Client().open(server.url)
    try:
        await hostile.send_unchecked(hostile.css("latent-mu-0"), "value", "abc")
    finally:
        hostile.close()
    await discarded(server)
    fresh = await Client().open(server.url)
    try:
        await fresh.show("Traversal")
        traversal = await fresh.wait(lambda: fresh.doc.get_model_by_name("latent-traversal-source"))
        assert len(traversal.data["image"]) == 1
    finally:
        fresh.close()


def test_a_document_left_as_curdoc_by_bokeh_itself_reaches_no_other_session(leaking_server):
    """Bokeh applies a client's patch inside ``patch_curdoc`` too: a string for a slider's number
    fails Bokeh's own validation there, before any callback of ours, and leaves the session's
    Document as curdoc(). Renders take a document of their own, so a later session still works."""
    run_async(string_for_a_number_then_fresh(leaking_server))
    log = leaking_server.logs()
    assert log.count("Traceback") == 1 and "expected a value of type Real" in log, log
