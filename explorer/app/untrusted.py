"""What a browser sends is untrusted: raw Bokeh callbacks that let no exception escape, and the
checks for the values they receive.

Bokeh runs a model's ``on_change``/``on_event`` callbacks inside ``patch_curdoc``
(bokeh/io/doc.py), which in Bokeh 3.9 has no try/finally: an exception that escapes one leaves
that session's Document as ``curdoc()`` for the whole process, and once the session is gone every
later render fails. So the app registers raw callbacks only through :func:`on_change` and
:func:`on_event`; a failure there is logged as one line and goes no further. A client can still
send anything (the browser console can), so callbacks check values (:func:`clamped`,
:func:`explorer.latent.vector.finite`) and refuse the rest with :func:`refused`: one log line,
no traceback.
"""

from __future__ import annotations

import functools
import logging
import reprlib

from explorer.latent.vector import Bounds

log = logging.getLogger("explorer")


def guarded(name: str, callback):
    """``callback`` that logs one line naming ``name`` instead of raising."""

    @functools.wraps(callback)
    def run(*args):
        try:
            callback(*args)
        except Exception as exc:  # a browser's data must never take down other sessions
            log.warning("%s failed: %s: %s", name, type(exc).__name__, _one_line(exc))

    return run


def on_change(model, attr: str, name: str, callback) -> None:
    """``model.on_change(attr, callback)``, guarded: ``callback(attr, old, new)``."""
    model.on_change(attr, guarded(name, callback))


def on_event(model, event, name: str, callback) -> None:
    """``model.on_event(event, callback)``, guarded: ``callback(event)``."""
    model.on_event(event, guarded(name, callback))


def refused(name: str, value, why: str) -> None:
    """Log one line: ``name`` refused ``value`` (shortened) because ``why``."""
    log.warning("%s refused %s: %s", name, _shortened(value), why)


def clamped(name: str, value, bounds: Bounds) -> float | None:
    """A slider's ``value`` clamped to ``bounds``, or None when it is no finite number (only a
    client, never the slider, sends that); a value it changes or refuses is logged as
    :func:`refused`."""
    fitted = bounds.clamp(value)
    if fitted != value:
        refused(name, value, "not a number" if fitted is None else f"clamped to {fitted:g}")
    return fitted


def _shortened(value) -> str:
    """A short repr of what may be megabytes of a client's data."""
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict, short.maxstring, short.maxother = 2, 4, 4, 40, 40
    return _one_line(short.repr(value))


def _one_line(text) -> str:
    return " ".join(str(text).split())[:200]
