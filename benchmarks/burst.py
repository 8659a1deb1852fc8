"""A classroom opens the link at once: N sessions opening within a few seconds, each timed to
its first image.

Starts the app (benchmarks/page_open.py's apps, load.py's session lifetimes, --num-procs K on one
port), warms each process up, then starts N page opens spread evenly over --within seconds, as a
browser does them: GET the page, open the websocket, pull the document, send
``document_ready``. An open counts from its GET until the pulled document holds the decoded
image (the image source's ``image`` column, non-empty); one that has not within --timeout, or
fails, is an error. The pulled documents are read as JSON and not built into Bokeh models: the
load generator shares the machine with the server, and building 170 models a session on its one
event loop would delay the opens it times. The sessions stay open until the last has opened.
Prints the open times (p50, p95, max), when the last one opened, the server CPU per open, and,
last, one JSON line.

    python benchmarks/burst.py --sessions 100 --within 10 --num-procs 2 [--app ours]
        [--target URL --target-pid PID ...]   (an app served elsewhere, e.g. behind nginx)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bokeh
import panel
from bokeh.events import DocumentReady
from load import ClientSession, Server, percentile, warm_up
from page_open import APPS, start
from tornado.httpclient import AsyncHTTPClient

from explorer import names

# The deployment's session lifetimes (deploy/README.md), not load.py's short ones: a session made
# by a page's GET is discarded if its websocket comes later than this, and in a burst it may.
LIFETIMES = (15000, 5000)


class FirstImage(ClientSession):
    """A session that opens as a browser does and looks for the image in the pulled JSON."""

    async def open(self) -> float:
        start = time.perf_counter()
        await self.connect()
        self.connected = time.perf_counter() - start  # the GET, and the websocket's ACK
        reply = await self._expect("PULL-DOC-REPLY")
        if not has_image(reply.content):
            raise RuntimeError("the pulled document holds no image")
        self.doc.on_change(self._outgoing)
        self.doc.callbacks.send_event(DocumentReady())  # as BokehJS does once the page is drawn
        await self._flush()
        return time.perf_counter() - start


def has_image(content) -> bool:
    """Does the JSON of a pulled document hold the image source with a non-empty image column?"""
    stack = [content]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            attributes = item.get("attributes")
            if isinstance(attributes, dict) and attributes.get("name") == names.IMAGE_SOURCE:
                data = attributes.get("data") or {}
                entries = data.get("entries") if isinstance(data, dict) else None
                columns = dict(entries) if entries else data
                return bool(columns.get("image"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def one(url: str, delay: float, timeout: float) -> dict:
    await asyncio.sleep(delay)
    session = FirstImage(url, timeout, page_timeout=timeout)
    try:
        seconds = await asyncio.wait_for(session.open(), timeout)
        done, connected = time.perf_counter(), session.connected
        return {"seconds": seconds, "connected": connected, "session": session, "done": done}
    except Exception as error:  # any failure to open is an error of this run
        if getattr(session, "ws", None) is not None:
            session.ws.close()
        return {"error": f"{type(error).__name__}: {error}"[:200]}


async def warmed(server: Server, timeout: float) -> None:
    """load.py's warm-up, then until the deployment's lifetimes have discarded its sessions (load.py
    waits for its own, shorter ones): none of them is discarded during the burst."""
    await warm_up(server, timeout)
    await asyncio.sleep((LIFETIMES[0] + 2 * LIFETIMES[1]) / 1000)


async def burst(
    server: Server, count: int, within: float, timeout: float, warm: bool = True
) -> dict:
    """``warm``: warm the server up first (:func:`warmed`)."""
    # Tornado's client queues requests past 10 at a time: a browser per user has no such queue.
    AsyncHTTPClient.configure(None, max_clients=count + 10)
    if warm:
        await warmed(server, timeout)
    load_before = os.getloadavg()[0]
    cpu = server.cpu_seconds()
    start = time.perf_counter()
    delays = [i * within / count for i in range(count)]
    results = await asyncio.gather(*(one(server.url, d, timeout) for d in delays))
    last = max((r["done"] for r in results if "done" in r), default=start) - start
    cpu = None if cpu is None else server.cpu_seconds() - cpu
    opened = [r for r in results if "seconds" in r]
    for r in opened:
        r["session"].close()
    times = [r["seconds"] for r in opened]
    connected = [r["connected"] for r in opened]
    pulls = [r["seconds"] - r["connected"] for r in opened]
    errors = [r["error"] for r in results if "error" in r]
    return {
        "sessions": count,
        "within_s": within,
        "num_procs": server.procs,
        "first_image": len(opened),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "open_p50_s": round(statistics.median(times), 2) if times else None,
        "open_p95_s": round(percentile(times, 0.95), 2) if times else None,
        "open_max_s": round(max(times), 2) if times else None,
        "all_open_after_s": round(last, 1),
        # Of an open's time, the part until its websocket's ACK (the GET, the session's build
        # where the websocket builds it) and the rest (the document's pull)
        "connected_p50_s": round(statistics.median(connected), 2) if times else None,
        "pull_p50_s": round(statistics.median(pulls), 2) if times else None,
        "server_cpu_ms_per_open": round(cpu / count * 1e3) if cpu is not None else None,
        "loadavg_1min_before": round(load_before, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--within", type=float, default=10.0, help="seconds the opens start in")
    parser.add_argument("--num-procs", type=int, default=1)
    parser.add_argument("--app", choices=list(APPS), default="ours")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before an error")
    parser.add_argument("--target", help="open the pages of an app served at this URL instead")
    parser.add_argument(
        "--target-pid", type=int, action="append", default=[], help="its server processes"
    )
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="vae-burst-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    with contextlib.ExitStack() as stack:
        if args.target:
            pids = tuple(args.target_pid)
            server = Server(args.target, pids=pids, procs=len(pids) or 1)
        else:
            server = start(args.app, args.checkpoint, args.num_procs, log_dir, None, LIFETIMES)
            stack.callback(server.stop)
        result = asyncio.run(burst(server, args.sessions, args.within, args.timeout))
    app = args.target or args.app
    print(
        f"{app}: {result['sessions']} opens started within {args.within:g} s on "
        f"{result['num_procs']} process(es): {result['first_image']} got their first image, "
        f"{result['errors']} errors; open p50 {result['open_p50_s']} s, p95 "
        f"{result['open_p95_s']} s, max {result['open_max_s']} s; all open after "
        f"{result['all_open_after_s']} s (p50 until the websocket's ACK "
        f"{result['connected_p50_s']} s, then the pull {result['pull_p50_s']} s); "
        f"server CPU {result['server_cpu_ms_per_open']} ms an "
        f"open (load average {result['loadavg_1min_before']} before, "
        f"{result['loadavg_1min_after']} after)"
    )
    line = {"benchmark": "burst", "app": app, **result, "nproc": os.cpu_count()}
    line |= {"panel": panel.__version__, "bokeh": bokeh.__version__}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
