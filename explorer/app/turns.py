"""Page opens served in turn: a server process builds one session at a time, and the next only
once the last has had a moment to be pulled.

An open is three messages to one process: the websocket's (which builds the session, ≈ 0.6 s of
CPU), then the browser's request for the document (the pull), then its "ready". When a class
opens the link at once, each message queues behind the builds of the websockets that came in
meanwhile, so nearly every student waited until nearly the whole class was built (a burst's
median open ≈ its slowest; benchmarks/README.md, #19). In turn, the first students have their
page while the rest are still being built, and the whole class takes no longer.

The turn is a per-process queue of page opens, not of anyone's data: the one piece of state a
process shares across its sessions on purpose (explorer.app.server installs it once).
"""

from __future__ import annotations

import asyncio

from bokeh.application.handlers.handler import Handler

# How long a session's turn lasts after its build: the browser's answer to the build (its
# request for the document) arrives within milliseconds and is served in this time; the idle
# rest is all a turn costs the process.
PULL_GRACE_S = 0.05


class OpensInTurn(Handler):
    """A Bokeh application handler whose session hook makes each new session wait its turn:
    sessions are built in the order they arrive, the next once the last one's build is done and
    PULL_GRACE_S has passed (in which its pull is served)."""

    def __init__(self) -> None:
        super().__init__()
        self._turn = asyncio.Lock()  # made on the server's event loop, where every hook runs

    def modify_document(self, doc) -> None:
        pass  # it builds nothing: the app's own handler does

    async def on_session_created(self, session_context) -> None:
        await self._turn.acquire()
        loop = asyncio.get_running_loop()
        # Bokeh builds the session as soon as this returns, in the same step of the event loop;
        # a callback scheduled now runs once that step is over, build or error alike.
        loop.call_soon(loop.call_later, PULL_GRACE_S, self._turn.release)


def take_turns(doc) -> None:
    """Make the served application that ``doc`` belongs to build its sessions in turn, from the
    next session on (once per process; nothing outside a server, as in a notebook).

    Bokeh's public route: an extra handler on the session's application, whose
    ``on_session_created`` Bokeh awaits before building each session."""
    context = doc.session_context if doc is not None else None
    server = getattr(context, "server_context", None)
    if server is None or server.application_context is None:
        return
    application = server.application_context.application
    if not any(isinstance(handler, OpensInTurn) for handler in application.handlers):
        application.add(OpensInTurn())
