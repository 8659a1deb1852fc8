"""Heavy work off the Bokeh event loop: a worker thread computes, the session's document applies.

The Bokeh server runs every session's callbacks on one IOLoop thread, so a half-second load or
render in one session stalls every other session's sliders. :meth:`Background.run` runs the
work in a small thread pool shared by the process (torch releases the GIL while it computes)
and then applies the result on the session's document through ``add_next_tick_callback``, the
thread-safe way back: it runs under the document's lock with the session as the current
document, so it may write Bokeh and Panel models. Without a server session (a notebook, a test,
a script) both run at once, in the caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import panel as pn
import torch
from panel.io.state import set_curdoc

WORKERS = 2  # the work is short and mostly Python or one torch thread: more would only queue
# Python hands the GIL between threads every 5 ms by default. A slider step on the event loop
# releases and retakes it at each torch op of its decode, so while a worker runs Python (a
# HoloViews render) one decode took ~50 ms; with 0.5 ms turns, ~8 ms (benchmarks/README.md,
# "stalls.py").
SWITCH_INTERVAL_S = 0.0005
# The workers yield the CPU to the event loop: on a machine with few cores a half-second load
# would otherwise take a core the loop's sessions need (Linux sets niceness per thread).
WORKER_NICENESS = 10
log = logging.getLogger(__name__)


@functools.cache
def pool() -> ThreadPoolExecutor:
    """The process's worker threads (made on first use; they hold no session's state)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return ThreadPoolExecutor(
        max_workers=WORKERS, thread_name_prefix="vae-explorer-background", initializer=_yield_cpu
    )


def _yield_cpu() -> None:
    """In each worker as it starts: a lower priority than the event loop's thread, where the
    system sets it per thread (Linux); elsewhere the worker keeps the process's."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


def in_worker(work: Callable[[], Any]) -> Any:
    """``work()`` as a worker runs it: under inference mode (thread-local: entered here)."""
    with torch.inference_mode():
        return work()


async def off_loop(work: Callable[[], Any]) -> Any:
    """Await ``work()`` run in the pool, for a coroutine on the event loop (a download's)."""
    return await asyncio.get_running_loop().run_in_executor(
        pool(), functools.partial(in_worker, work)
    )


class Background:
    """One session's runs of work off the event loop; the latest run of each key wins.

    ``run(work, apply, failed, key)``: ``work()`` in a worker thread, then ``apply(result)`` (or
    ``failed(exception)``) on the session's document. A newer run of the same key makes an older
    one's result stale: it is dropped. A result for a session that has gone is dropped quietly.
    """

    def __init__(self):
        self._latest: dict[str, int] = {}  # key → ticket of its newest run (event-loop thread)
        self._tickets = itertools.count(1)

    def cancel(self, key: str = "") -> None:
        """Drop the result of the run of ``key`` under way, if any."""
        self._latest.pop(key, None)

    def pending(self, key: str = "") -> bool:
        """Whether a run of ``key`` is under way (its result not yet applied)."""
        return key in self._latest

    def run(
        self,
        work: Callable[[], Any],
        apply: Callable[[Any], None],
        failed: Callable[[Exception], None] | None = None,
        key: str = "",
    ) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._latest.pop(key, None)  # whatever was under way is superseded
            try:
                result = in_worker(work)
            except Exception as error:
                if failed is None:
                    raise
                failed(error)
                return
            apply(result)
            return
        ticket = next(self._tickets)
        self._latest[key] = ticket
        future = pool().submit(in_worker, work)
        future.add_done_callback(functools.partial(self._back, doc, key, ticket, apply, failed))

    def _back(self, doc, key, ticket, apply, failed, future: Future) -> None:
        """In the worker thread: hand the result to the session's event-loop turn."""
        finish = functools.partial(self._finish, doc, key, ticket, apply, failed, future)
        try:
            doc.add_next_tick_callback(finish)
        except Exception:  # the document is destroyed: its session has gone
            return

    def _finish(self, doc, key, ticket, apply, failed, future: Future) -> None:
        """On the event loop, under the document's lock. Nothing may escape: Bokeh would leave
        this document as every later ``curdoc()`` of the process (see DESIGN.md, Facts)."""
        if self._latest.get(key) != ticket:
            return  # a newer run of the same key superseded this one
        del self._latest[key]
        try:
            with set_curdoc(doc):
                error = future.exception()
                if error is None:
                    apply(future.result())
                elif failed is not None:
                    failed(error)
                else:
                    raise error
        except Exception:
            log.exception("background work for %s failed", key or "a session")


def download_callback(prepare: Callable[[], Callable[[], bytes]]) -> Callable:
    """A FileDownload callback for bytes that take long to make (a page, a GIF).

    ``prepare()`` runs on the event loop (it may read the session's state and set the file
    name) and returns ``work``; ``work()`` makes the bytes. In a served session the callback is
    a coroutine (Panel runs those on the loop without waiting for them) that awaits ``work`` in
    a worker thread; elsewhere (a notebook, a test) a plain function that calls it.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return lambda: io.BytesIO(in_worker(prepare()))

    async def later() -> io.BytesIO:
        return io.BytesIO(await off_loop(prepare()))

    return later
