"""The deploy of deploy/ measured: K explorer processes behind nginx's sticky cookie, a
classroom's burst of page opens through it, how the sessions spread, and what a process's death
does to the others' sessions.

Starts K ``panel serve apps/explorer.py`` backends with deploy/README.md's options (a port each,
sessions reused, the deployment's session lifetimes, ``--zoo-only``) and nginx with
deploy/nginx.conf, only its ``listen`` port and its upstream's servers rewritten to free ports,
in a temporary prefix. Then:

1. **A burst** (benchmarks/burst.py's): N page opens started within --within seconds through
   nginx, each timed to its first image;
2. **the spread**: the websockets each backend opened in the burst (its log);
3. **a death**: M sessions opened through nginx, one backend killed (SIGKILL), then every session
   moves μ0. Those of the dead backend lose their websocket (the page then says "reload":
   tests/app/test_disconnect_browser.py); each other session must still get its new image; and
   pages opened afterwards must still open (nginx passes them to a live backend).

Prints a line per phase and, last, one JSON line.

    python benchmarks/behind_nginx.py [--backends 4] [--sessions 200] [--within 10]
        [--survivors 24] [--nginx /usr/sbin/nginx]

Needs nginx (Debian: ``apt-get install nginx``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bokeh
import panel
from burst import LIFETIMES, burst, warmed
from latency import ROOT, free_port, wait_port
from load import Server, open_session

OPENED = "WebSocket connection opened"
UPSTREAM = re.compile(r"(upstream explorer \{\n(?:\s*hash[^\n]*\n)?)(.*?)(\n\s*\})", re.S)


def start_backend(port: int, public: str, log: Path, checkpoint: str) -> subprocess.Popen:
    """One explorer process as deploy/README.md runs it, behind a proxy at ``public``."""
    command = [
        str(Path(sys.executable).parent / "panel"), "serve", "apps/explorer.py",
        "--port", str(port), "--address", "127.0.0.1",
        "--allow-websocket-origin", public, "--use-xheaders",
        "--num-procs", "1", "--reuse-sessions",
        "--unused-session-lifetime", str(LIFETIMES[0]),
        "--check-unused-sessions", str(LIFETIMES[1]),
        "--args", "--zoo-only", "--checkpoint", checkpoint,
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_port(proc, port, log)
    return proc


def nginx_config(listen: int, backends: list[int]) -> str:
    """deploy/nginx.conf with its listen port and its upstream's servers replaced."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in backends)
    text, found = UPSTREAM.subn(lambda m: m.group(1) + servers + m.group(3), text)
    text, listens = re.subn(r"listen \d+;", f"listen {listen};", text)
    if (found, listens) != (1, 1):
        raise SystemExit("deploy/nginx.conf no longer has one upstream explorer and one listen")
    return text


def start_nginx(binary: str, listen: int, backends: list[int], prefix: Path) -> subprocess.Popen:
    for folder in ("logs", "tmp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(nginx_config(listen, backends))
    prefix.parent.chmod(0o755)  # run as root, nginx's workers are "nobody" (deploy/README.md)
    prefix.chmod(0o777)
    for path in prefix.rglob("*"):
        path.chmod(0o777)
    command = [binary, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"]
    log = prefix / "logs" / "stderr.log"
    proc = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_port(proc, listen, log)
    return proc


def websockets(logs: list[Path]) -> list[int]:
    """The websockets each backend has opened so far, by its log."""
    return [log.read_text().count(OPENED) for log in logs]


async def a_death(url: str, count: int, victim: subprocess.Popen, logs: list[Path]) -> dict:
    """``count`` sessions through nginx, the victim killed, then one μ0 move each."""
    before = websockets(logs)
    opened = [await open_session(url, 60) for _ in range(count)]
    spread = [now - then for now, then in zip(websockets(logs), before, strict=True)]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    await asyncio.sleep(1.0)  # the dead process's websockets close
    for session, _, _ in opened:
        await session.move(1.234)
    await asyncio.sleep(5.0)  # every live session's answer (a repaint takes milliseconds)
    lost = sum(session.closed for session, _, _ in opened)
    answered = sum(bool(session.latencies) for session, _, _ in opened)
    unanswered = [s for s, _, _ in opened if not s.closed and not s.latencies]
    after = []
    for _ in range(max(4, len(logs))):  # new visitors: nginx sends them to a live backend
        try:
            session, seconds, _ = await open_session(url, 60)
            session.close()
            after.append(round(seconds, 2))
        except Exception as error:  # counted: a page that does not open
            after.append(f"{type(error).__name__}: {error}"[:120])
    for session, _, task in opened:
        task.cancel()
        if not session.closed:
            session.close()
    return {
        "sessions": count,
        "spread": spread,
        "on_the_dead_backend": spread[0],
        "lost_their_websocket": lost,
        "answered": answered,
        "unanswered_live": len(unanswered),
        "new_opens_after": after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=200, help="page opens in the burst")
    parser.add_argument("--within", type=float, default=10.0, help="seconds the opens start in")
    parser.add_argument("--survivors", type=int, default=24, help="sessions in the death phase")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds before an error")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    args = parser.parse_args()
    if not Path(args.nginx).exists():
        raise SystemExit(f"no nginx at {args.nginx} (Debian: apt-get install nginx)")
    folder = Path(tempfile.mkdtemp(prefix="vae-nginx-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    listen = free_port()
    url = f"http://127.0.0.1:{listen}/explorer"
    with contextlib.ExitStack() as stack:
        ports = [free_port() for _ in range(args.backends)]
        logs = [folder / f"backend-{port}.log" for port in ports]
        procs = []
        for port, log in zip(ports, logs, strict=True):
            procs.append(start_backend(port, f"127.0.0.1:{listen}", log, args.checkpoint))
            stack.callback(lambda p=procs[-1]: p.poll() is None and (p.terminate(), p.wait(15)))
        proxy = start_nginx(args.nginx, listen, ports, folder / "nginx")
        stack.callback(lambda: (proxy.terminate(), proxy.wait(15)))
        server = Server(url, pids=tuple(p.pid for p in procs), procs=len(procs))

        started = time.perf_counter()
        asyncio.run(warmed(server, args.timeout))
        before = websockets(logs)  # the warm-up's websockets not counted in the spread
        result = asyncio.run(burst(server, args.sessions, args.within, args.timeout, warm=False))
        spread = [now - then for now, then in zip(websockets(logs), before, strict=True)]
        wall = time.perf_counter() - started
        print(
            f"burst through nginx, {args.backends} backends: {result['first_image']} of "
            f"{args.sessions} got their first image, {result['errors']} errors; open p50 "
            f"{result['open_p50_s']} s, p95 {result['open_p95_s']} s, max "
            f"{result['open_max_s']} s; all open after {result['all_open_after_s']} s; "
            f"server CPU {result['server_cpu_ms_per_open']} ms an open (with warm-up: {wall:.0f} s)"
        )
        print(f"spread: websockets per backend in the burst (warm-up excluded): {spread}")
        time.sleep((LIFETIMES[0] + 2 * LIFETIMES[1]) / 1000)  # the burst's sessions discarded
        death = asyncio.run(a_death(url, args.survivors, procs[0], logs))
        print(
            f"a death: {death['sessions']} sessions spread {death['spread']}; the first backend "
            f"killed: {death['lost_their_websocket']} lost their websocket, "
            f"{death['answered']} others repainted, {death['unanswered_live']} live sessions "
            f"unanswered; new page opens afterwards: {death['new_opens_after']}"
        )
    line = {
        "benchmark": "behind_nginx",
        "backends": args.backends,
        "burst": {k: v for k, v in result.items() if k != "error_kinds"} | {"spread": spread},
        "error_kinds": result["error_kinds"],
        "death": death,
        "nproc": os.cpu_count(),
        "panel": panel.__version__,
        "bokeh": bokeh.__version__,
        "nginx": subprocess.run([args.nginx, "-v"], capture_output=True, text=True).stderr.strip(),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
