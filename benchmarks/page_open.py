"""What a page open costs the server: ours against bare-Bokeh references, sessions pulled one
after another.

Starts each app on a free port (one process each, benchmarks/load.py's settings), opens two
sessions to warm it up (first sessions import and cache things once per process), then opens
--opens sessions per app as a browser does (GET the page, websocket, pull the document,
``document_ready``; benchmarks/load.py's ClientSession), one at a time, the apps taking turns
one open each so that they meet the same load from the rest of a shared machine. The sessions
stay open until the end, so that discarding them is not counted. Server CPU (user + system of
the server process, psutil) over an app's opens / its opens is its CPU per page open; also
each open's wall time and the models of the document pulled.

    python benchmarks/page_open.py [--opens 16] [--checkpoint mnist-beta1] [--only ours ...]
        [--tree NAME=PATH ...]

``--tree before=/tmp/old`` also serves our app from another copy of the code (its ``explorer``
package first on ``PYTHONPATH``; the script and benchmarks are this tree's), as app ``before``.

``ours`` is served with ``--reuse-sessions``, as ``vae-explorer serve`` does; ``ours_no_reuse``
without. The references: ``bare_bokeh_sliders`` (benchmarks/reference_app_sliders.py: one μ
slider per dimension, 12 for mnist-beta1, and one image: issue #19's yardstick),
``bare_bokeh_sliders_sigma``
(the same with a σ slider per dimension too, 24), ``bare_bokeh`` (reference_app.py, one slider),
and ``panel_template`` (reference_panel_app.py: the 12 sliders and the image in Panel's Bootstrap
template, Panel's own floor).
Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bokeh
import panel
from latency import ROOT, free_port, wait_port
from load import CHECK_MS, LIFETIME_MS, ClientSession, Server

from explorer import names

TARGET_RATIO = 2.0  # issue #19: ≤ 2× the same-sliders bare-Bokeh page
APPS = {  # name: (tool, script, its own arguments, the server's options)
    # As `vae-explorer serve` runs it: a page's GET answered from one cached session's page, the
    # session built when its websocket connects (deploy/README.md).
    "ours": ("panel", "apps/explorer.py", [], ["--reuse-sessions"]),
    "ours_no_reuse": ("panel", "apps/explorer.py", [], []),
    "bare_bokeh_sliders": ("bokeh", "benchmarks/reference_app_sliders.py", [], []),
    "bare_bokeh_sliders_sigma": ("bokeh", "benchmarks/reference_app_sliders.py", ["--sigma"], []),
    "bare_bokeh": ("bokeh", "benchmarks/reference_app.py", [], []),
    "panel_template": ("panel", "benchmarks/reference_panel_app.py", [], []),
}
REFERENCE = "bare_bokeh_sliders"


def start(
    name: str,
    checkpoint: str,
    num_procs: int,
    log_dir: Path,
    tree: str | None = None,
    lifetimes: tuple[int, int] = (LIFETIME_MS, CHECK_MS),
) -> Server:
    """App ``name`` on a free port, with load.py's session lifetimes (or ``lifetimes``, ms);
    ``tree``: our app, with the ``explorer`` package of that folder."""
    tool, script, extra, flags = APPS["ours" if tree else name]
    port = free_port()
    command = [
        str(Path(sys.executable).parent / tool), "serve", script,
        "--port", str(port), "--address", "127.0.0.1",
        "--allow-websocket-origin", f"127.0.0.1:{port}",
        "--unused-session-lifetime", str(lifetimes[0]),
        "--check-unused-sessions", str(lifetimes[1]),
        "--num-procs", str(num_procs), *flags,
        "--args", "--checkpoint", checkpoint, *extra,
    ]  # fmt: skip
    log = log_dir / f"page-open-{name}.log"
    env = dict(os.environ, **({"PYTHONPATH": tree} if tree else {}))
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    wait_port(proc, port, log)
    return Server(f"http://127.0.0.1:{port}/{Path(script).stem}", None, proc, log, num_procs)


def first_image(session: ClientSession) -> bool:
    """Does the pulled document hold a decoded image (not the blank one)?"""
    source = session.doc.get_model_by_name(names.IMAGE_SOURCE)
    if source is None or not source.data.get("image"):
        return False
    image = source.data["image"][0]
    return bool(getattr(image, "size", 0)) and bool(image.any())


async def settled(server: Server, tick: float = 0.1, most: float = 3.0) -> None:
    """Wait until the server has used no CPU for a tick (10 ms of CPU or less: psutil's
    resolution), at most ``most`` seconds: work after the pull (document_ready's callbacks,
    worker threads) then counts in this open, not in nobody's between the apps' turns."""
    last = server.cpu_seconds()
    for _ in range(int(most / tick)):
        await asyncio.sleep(tick)
        now = server.cpu_seconds()
        if now - last <= 0.01:
            return
        last = now


async def open_one(server: Server, timeout: float) -> tuple[ClientSession, dict]:
    session = ClientSession(server.url, timeout)
    before = server.cpu_seconds()
    seconds = await session.open()
    await settled(server)  # what the server does after the pull (document_ready's work)
    cpu = server.cpu_seconds() - before
    return session, {
        "seconds": seconds,
        "cpu": cpu,
        "models": len(session.doc.models),
        "image": first_image(session),
    }


async def measure(servers: dict[str, Server], opens: int, timeout: float) -> dict[str, dict]:
    for server in servers.values():  # warm up: imports and caches once per process
        for _ in range(2):
            session, _ = await open_one(server, timeout)
            session.close()
    await asyncio.sleep((LIFETIME_MS + 2 * CHECK_MS) / 1000)  # the warm-up sessions discarded
    records: dict[str, list[dict]] = {name: [] for name in servers}
    held: list[ClientSession] = []
    loads: list[float] = []
    for _ in range(opens):
        for name, server in servers.items():
            session, record = await open_one(server, timeout)
            records[name].append(record)
            held.append(session)
        loads.append(os.getloadavg()[0])
    for session in held:
        session.close()
    results = {}
    for name, rows in records.items():
        cpu = [r["cpu"] for r in rows]
        results[name] = {
            "opens": len(rows),
            "server_cpu_ms_per_open": round(sum(cpu) / len(cpu) * 1e3, 1),
            "server_cpu_ms_median": round(statistics.median(cpu) * 1e3, 1),
            "open_wall_ms_median": round(statistics.median(r["seconds"] for r in rows) * 1e3, 1),
            "document_models": rows[-1]["models"],
            "first_image": sum(r["image"] for r in rows),
        }
    results["loadavg_1min"] = round(statistics.mean(loads), 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=16, help="page opens per app")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--only", nargs="+", choices=list(APPS), help="these apps only")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH: another copy")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="vae-page-open-"))
    chosen = args.only or list(APPS)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    with contextlib.ExitStack() as stack:
        servers = {}
        trees = dict(t.split("=", 1) for t in args.tree)
        for name in [*chosen, *trees]:
            servers[name] = start(name, args.checkpoint, 1, log_dir, trees.get(name))
            stack.callback(servers[name].stop)
        results = asyncio.run(measure(servers, args.opens, args.timeout))
    load = results.pop("loadavg_1min")
    print(f"{'app':<26}{'cpu/open':>10}{'median':>9}{'wall':>9}{'models':>8}{'images':>8}")
    for name, row in results.items():
        print(
            f"{name:<26}{row['server_cpu_ms_per_open']:>10}{row['server_cpu_ms_median']:>9}"
            f"{row['open_wall_ms_median']:>9}{row['document_models']:>8}"
            f"{row['first_image']:>5}/{row['opens']}"
        )
    print(f"(server CPU ms per page open, mean and median; wall ms median; load average {load})")
    ratios = {}
    if "ours" in results:
        for name, row in results.items():
            if name != "ours":
                ratio = results["ours"]["server_cpu_ms_per_open"] / row["server_cpu_ms_per_open"]
                ratios[name] = round(ratio, 2)
                print(f"ours / {name}: {ratios[name]}")
    line = {
        "benchmark": "page_open",
        "checkpoint": args.checkpoint,
        "apps": results,
        "ratios": ratios,
        "target_ok": ratios[REFERENCE] <= TARGET_RATIO if REFERENCE in ratios else None,
        "loadavg_1min": load,
        "nproc": os.cpu_count(),
        "panel": panel.__version__,
        "bokeh": bokeh.__version__,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
