"""Debounced: run an action once, a while after the last of a burst of calls, on the session's
document (the URL follows the sliders this way)."""

from __future__ import annotations

import time

import panel as pn

from explorer.app import untrusted


class Debounced:
    """Calls ``action`` once, ``delay_ms`` after the last call, on this session's document.

    Keeps work that need not follow every slider step (the URL) off the repaint's path. A call
    only moves the deadline; one timer at a time checks it (re-arming a Bokeh timeout on every
    step cost more than the write it delays). Runs at once where there is no server session (a
    notebook, a test).
    """

    def __init__(self, action, delay_ms: int, name: str = "URL update"):
        self._action = action
        self._delay_s = delay_ms / 1000
        self._due = 0.0
        self._doc = None
        # Bokeh runs timers the way it runs callbacks: nothing may escape (explorer.app.untrusted).
        self._guarded_run = untrusted.guarded(name, self._run)

    def __call__(self, *_events) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._action()
            return
        self._due = time.monotonic() + self._delay_s
        if self._doc is None:
            self._doc = doc
            doc.add_timeout_callback(self._guarded_run, round(self._delay_s * 1000))

    def _run(self) -> None:
        left = self._due - time.monotonic()
        if left > 0.001:
            self._doc.add_timeout_callback(self._guarded_run, round(left * 1000))
            return
        self._doc = None
        self._action()
