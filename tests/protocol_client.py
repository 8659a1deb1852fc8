"""A Bokeh protocol client that holds one session as a browser does (tests that speak to a real
`panel serve` over its websocket).

Not ``bokeh.client.pull_session``: while it waits for a reply it drops the server's patches, so
it never sees a widget set back.
"""

from __future__ import annotations

import asyncio
import re

import panel.models  # noqa: F401  (registers Panel's Bokeh models: the pulled document needs them)
from bokeh.client.websocket import WebSocketClientConnectionWrapper
from bokeh.document import Document
from bokeh.document.events import ModelChangedEvent
from bokeh.events import DocumentReady, Tap
from bokeh.models import Plot
from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

TIMEOUT = 30.0
TOKEN = re.compile(r'"token":\s*"([^"]+)"')


class Client:
    """One session as a browser holds it: the document, the server's patches applied to it, its
    own changes and events sent as patches."""

    def __init__(self):
        self.protocol = Protocol()
        self.receiver = Receiver(self.protocol)
        self.doc = Document()
        self._outbox: list = []

    async def open(self, page_url: str) -> Client:
        """GET the page (which makes the session), connect, pull the document, say it is ready.
        ``acked`` and ``pulled``: when the websocket's ACK and the document came (the event
        loop's clock)."""
        page = await AsyncHTTPClient().fetch(page_url, request_timeout=60)
        token = TOKEN.search(page.body.decode()).group(1)
        origin = "/".join(page_url.split("/")[:3])
        request = HTTPRequest(page_url.replace("http", "ws", 1) + "/ws", headers={"Origin": origin})
        self.ws = await websocket_connect(
            request, subprotocols=["bokeh", token], max_message_size=2**26
        )
        self._wire = WebSocketClientConnectionWrapper(self.ws)
        await self._read_until(lambda message: message.msgtype == "ACK")
        self.acked = asyncio.get_running_loop().time()
        await self._send(self.protocol.create("PULL-DOC-REQ"))
        pulled = await self._read_until(lambda message: message.msgtype == "PULL-DOC-REPLY")
        self.pulled = asyncio.get_running_loop().time()
        pulled.push_to_document(self.doc)
        self.doc.on_change(self._outgoing)
        self.doc.callbacks.send_event(DocumentReady())  # as BokehJS does; Panel waits for it
        await self.roundtrip()
        return self

    def close(self) -> None:
        self.ws.close(1000, "done")

    # -- finding models ------------------------------------------------------------------------
    def css(self, css: str):
        found = [m for m in self.doc.models if css in (getattr(m, "css_classes", None) or [])]
        return found[0] if found else None

    def figure(self, source_name: str) -> Plot | None:
        """The figure that draws the data source named ``source_name``."""
        for model in self.doc.models:
            if isinstance(model, Plot) and any(
                getattr(getattr(r, "data_source", None), "name", None) == source_name
                for r in model.renderers
            ):
                return model
        return None

    # -- talking -------------------------------------------------------------------------------
    async def roundtrip(self) -> None:
        """Send what changed; return once the server has handled it (and its patches are here)."""
        await self._flush()
        request = self.protocol.create("SERVER-INFO-REQ")
        await self._send(request)
        msgid = request.header["msgid"]
        await self._read_until(lambda message: message.header.get("reqid") == msgid)

    async def wait(self, condition):
        """Send what changed, then apply the server's patches until ``condition()`` is truthy."""
        await self.roundtrip()
        while not (result := condition()):
            await self._read_until(lambda message: condition())
        return result

    async def show(self, title: str) -> None:
        tabs = self.css("latent-tabs")
        tabs.active = [tab.title for tab in tabs.tabs].index(title)
        await self.roundtrip()

    async def send_unchecked(self, model, attr: str, value) -> None:
        """Set ``model.attr`` to ``value`` on the server, unchecked here (a string for a number)."""
        event = ModelChangedEvent(self.doc, model, attr, value)
        await self._send(self.protocol.create("PATCH-DOC", [event]))
        await self.roundtrip()

    async def tap(self, figure: Plot, x, y) -> None:
        self.doc.callbacks.send_event(Tap(figure, sx=10.0, sy=10.0, x=x, y=y))
        await self.roundtrip()

    def _outgoing(self, event) -> None:
        if event.setter is not self:  # not a patch of the server's, applied here
            self._outbox.append(event)

    async def _flush(self) -> None:
        events, self._outbox = self._outbox, []
        if events:
            await self._send(self.protocol.create("PATCH-DOC", events))

    async def _send(self, message) -> None:
        await message.send(self._wire)

    async def _read_until(self, done):
        """Read messages (applying the server's patches) until ``done(message)``; returns it."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                fragment = await self.ws.read_message()
                assert fragment is not None, "the server closed the connection"
                message = await self.receiver.consume(fragment)
                if message is None:
                    continue
                if message.msgtype == "PATCH-DOC":
                    message.apply_to_document(self.doc, self)
                if done(message):
                    return message
