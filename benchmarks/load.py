"""Many concurrent Bokeh client sessions moving the μ0 slider: ours against bare Bokeh.

Starts our app (panel serve apps/explorer.py) and the bare-Bokeh reference (bokeh serve
benchmarks/reference_app_sliders.py: a μ slider per dimension, as many as ours; ``--reference
one``: reference_app.py, one slider), each with short session lifetimes and benchmarks/probe_app.py
beside it, and opens N sessions on each as a browser does: GET the page for its token, open the
websocket (TCP_NODELAY, as browsers set), pull the document, announce ``document_ready``. All
sessions run on one event loop. Each moves μ0 (the Bokeh Slider with css class latent-mu-0) HZ
times a second by a document patch; an update's latency runs from sending the value to receiving
the server's patch of the image source's ``image`` column, and no reply within --timeout is an
error. The two apps take turns of --turn seconds, so that both meet the same load from the rest
of a shared machine. Server memory is read before the sessions, with them, and after they close
and expire. With --disconnect-fraction F that share of the sessions is dropped halfway through
without a websocket close handshake while the rest go on. Prints a table and, last, one JSON
line.

    python benchmarks/load.py --sessions 32 --seconds 20 --rate 2
        [--disconnect-fraction 0.5] [--only ours|bare_bokeh] [--num-procs K] [--target URL]
        [--reference sliders|one] [--runs 3]

``--runs N`` repeats the whole measurement with fresh servers and prints, last, the median of
the runs' p95 ratios: a ratio of two figures of a few milliseconds scatters from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import bokeh
import panel
import panel.models  # registers Panel's Bokeh models, so that our documents deserialize
import psutil
from bokeh.client.websocket import WebSocketClientConnectionWrapper
from bokeh.document import Document
from bokeh.events import DocumentReady
from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from latency import free_port, start_server
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect

from explorer import names

# Short session expiry, so that memory can be seen to return. Not shorter: a session made by the
# page GET expires unless its websocket arrives within the lifetime, and on a busy server it
# then gets built a second time (seen here with 2000 ms at load average 7).
LIFETIME_MS, CHECK_MS = 5000, 1000
IMAGE_SOURCE = names.IMAGE_SOURCE
SLIDER_CLASS = names.mu_slider(0)
TOKEN = re.compile(r'"token":\s*"([^"]+)"')
TARGETS = {"errors": 0, "p95_ratio": 1.3, "mb_per_session": 5.0}  # issue #19's


# -- one client session ------------------------------------------------------------------------


class ClientSession:
    """One browser-like session: a Bokeh document kept in sync over one websocket."""

    def __init__(self, page_url: str, timeout: float, page_timeout: float = 60):
        self.page_url = page_url
        self.timeout = timeout
        self.page_timeout = page_timeout  # for the page's GET and its websocket's connect
        self.protocol = Protocol()
        self.receiver = Receiver(self.protocol)
        self.doc = Document()
        self.pending: deque[float] = deque()  # send times of updates not yet answered
        self.latencies: list[tuple[float, float]] = []  # (answered at, seconds)
        self.errors = 0
        self.dropped = False
        self.closed = False
        self._outbox: list = []
        self._slider = None
        self._source_id = None

    async def open(self) -> float:
        """GET the page, connect, pull the document, say it is ready; returns the seconds taken."""
        start = time.perf_counter()
        await self.connect()
        (await self._expect("PULL-DOC-REPLY")).push_to_document(self.doc)
        self.doc.on_change(self._outgoing)
        # BokehJS sends this once the page is drawn; Panel holds back model updates until then.
        self.doc.callbacks.send_event(DocumentReady())
        await self._flush()
        return time.perf_counter() - start

    async def connect(self) -> None:
        """GET the page, open its websocket, ask for the document (the reply is still to read)."""
        page = await AsyncHTTPClient().fetch(self.page_url, request_timeout=self.page_timeout)
        token = TOKEN.search(page.body.decode())
        if token is None:
            raise RuntimeError(f"no session token in {self.page_url}")
        base = self.page_url.split("?")[0]
        headers = {"Origin": "/".join(base.split("/")[:3])}
        cookies = [c.split(";")[0] for c in page.headers.get_list("Set-Cookie")]
        if cookies:  # e.g. a proxy's sticky-session cookie: a browser sends it back
            headers["Cookie"] = "; ".join(cookies)
        request = HTTPRequest(
            base.replace("http", "ws", 1) + "/ws",
            headers=headers,
            request_timeout=self.page_timeout,
        )
        self.ws = await websocket_connect(
            request, subprotocols=["bokeh", token.group(1)], max_message_size=2**26
        )
        self.ws.stream.set_nodelay(True)  # browsers do; without it Nagle adds ~40 ms a reply
        self._wrapper = WebSocketClientConnectionWrapper(self.ws)
        await self._expect("ACK")
        await self._send(self.protocol.create("PULL-DOC-REQ"))

    def attach_slider(self) -> None:
        """Find the μ0 slider and the image source in the pulled document."""
        sliders = [m for m in self.doc.models if SLIDER_CLASS in getattr(m, "css_classes", [])]
        source = self.doc.get_model_by_name(IMAGE_SOURCE)
        if not sliders or source is None:
            raise RuntimeError(f"no {SLIDER_CLASS} slider or {IMAGE_SOURCE} in {self.page_url}")
        self._slider, self._source_id = sliders[0], source.id

    async def listen(self) -> None:
        """Read the server's patches; each patch of the image column answers the oldest update.

        The patches are not applied to this document: a browser does that in its own process,
        while here it would take the one event loop from every other session's timing.
        """
        while (message := await self._read()) is not None:
            if message.msgtype == "PATCH-DOC" and self._touches_image(message) and self.pending:
                now = time.perf_counter()
                self.latencies.append((now, now - self.pending.popleft()))
        self.closed = True

    async def move(self, value: float) -> None:
        """Set μ0 as a browser does: a document patch to the server."""
        self._slider.value = value
        if self._outbox:  # an unchanged value sends nothing and gets no reply
            self.pending.append(time.perf_counter())
            await self._flush()

    def expire(self, now: float) -> None:
        """Count updates unanswered for longer than the timeout as errors."""
        while self.pending and now - self.pending[0] > self.timeout:
            self.pending.popleft()
            self.errors += 1

    def drop(self) -> None:
        """Vanish as a crashed browser does: close the TCP stream, no websocket close frame."""
        self.dropped = True
        self.pending.clear()
        self.ws.stream.close()

    def close(self) -> None:
        if not self.dropped:
            self.ws.close(1000, "done")

    # -- wire ----------------------------------------------------------------------------------
    def _outgoing(self, event) -> None:
        self._outbox.append(event)

    async def _flush(self) -> None:
        events, self._outbox = self._outbox, []
        if events:
            await self._send(self.protocol.create("PATCH-DOC", events))

    async def _send(self, message) -> None:
        try:
            await message.send(self._wrapper)
        except WebSocketClosedError:
            self.closed = True

    async def _read(self):
        while True:
            fragment = await self.ws.read_message()
            if fragment is None:
                return None
            message = await self.receiver.consume(fragment)
            if message is not None:
                return message

    async def _expect(self, msgtype: str):
        while (message := await self._read()) is not None:
            if message.msgtype == msgtype:
                return message
        raise RuntimeError(f"connection closed while waiting for {msgtype}")

    def _touches_image(self, message) -> bool:
        for event in message.content.get("events", []):
            if event.get("model", {}).get("id") != self._source_id:
                continue
            if "image" in (event.get("cols") or []) or event.get("attr") == "data":
                return True
        return False


async def open_session(url: str, timeout: float) -> tuple[ClientSession, float, asyncio.Task]:
    session = ClientSession(url, timeout)
    seconds = await session.open()
    session.attach_slider()
    return session, seconds, asyncio.create_task(session.listen())


async def read_probe(url: str) -> dict:
    """The probe page's JSON (benchmarks/probe_app.py): live objects after gc, RSS."""
    session = ClientSession(url, 10)
    await session.open()
    session.close()
    return json.loads(session.doc.get_model_by_name("probe").text)


# -- driving the sessions ----------------------------------------------------------------------


def slider_values(index: int):
    """Endless μ0 values for one session: a bounce between -2.5 and 2.5 in 0.05 steps, each
    different from the last (an unchanged value would send nothing)."""
    value, step = round(-2.5 + (index * 0.35) % 5.0, 2), 0.05
    while True:
        if not -2.5 <= value + step <= 2.5:
            step = -step
        value = round(value + step, 2)
        yield value


async def drive(session: ClientSession, index: int, rate: float, end: float, turn: int) -> None:
    """Move μ0 ``rate`` times a second until ``end`` (loop time), from a random phase."""
    loop = asyncio.get_running_loop()
    period = 1.0 / rate
    next_at = loop.time() + random.Random(index * 1000 + turn).random() * period
    for value in slider_values(index * 1000 + turn):
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        if session.dropped or session.closed or loop.time() >= end:
            return
        await session.move(value)
        next_at = max(next_at + period, loop.time() - period)  # fall behind, but never burst


async def watchdog(sessions: list[ClientSession], stop: asyncio.Event) -> None:
    while not stop.is_set():
        now = time.perf_counter()
        for session in sessions:
            session.expire(now)
        await asyncio.sleep(0.2)


def drop(sessions: list[ClientSession], fraction: float) -> float:
    """Drop ``fraction`` of the sessions, spread evenly; when."""
    count = round(len(sessions) * fraction)
    for i in range(count):
        sessions[int(i * len(sessions) / count)].drop()
    return time.perf_counter()


async def settle(sessions: list[ClientSession], timeout: float) -> None:
    """Wait for outstanding replies; what is still unanswered after ``timeout`` is an error."""
    deadline = time.perf_counter() + timeout
    while any(s.pending for s in sessions) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    for session in sessions:
        session.expire(float("inf"))


async def fresh_session_ok(url: str, timeout: float) -> bool:
    """After the load: does a new session open and follow three slider moves?"""
    try:
        session, _, listener = await open_session(url, timeout)
    except Exception:
        return False
    for value in (0.5, -0.5, 1.0):
        await session.move(value)
        await settle([session], timeout)
    ok = session.errors == 0 and len(session.latencies) == 3
    session.close()
    await asyncio.wait([listener], timeout=5)
    return ok


# -- the server under test ---------------------------------------------------------------------


@dataclass
class Server:
    """A panel/bokeh serve process (with its --num-procs children), or a URL served elsewhere."""

    url: str
    probe_url: str | None = None
    proc: subprocess.Popen | None = None
    log: Path | None = None
    procs: int = 1
    pids: tuple[int, ...] = ()  # of a --target server, for its CPU and memory

    def tree(self) -> list[psutil.Process]:
        pids = [*self.pids, *([self.proc.pid] if self.proc is not None else [])]
        found = []
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
        return found

    def _sum(self, read) -> float | None:
        """``read(process)`` summed over the server's processes; None without any."""
        values = []
        for process in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                values.append(read(process))
        return sum(values) if values else None

    def rss_mb(self) -> float | None:
        rss = self._sum(lambda p: p.memory_info().rss)
        return None if rss is None else round(rss / 2**20, 1)

    def cpu_seconds(self) -> float | None:
        return self._sum(lambda p: sum(p.cpu_times()[:2]))

    def stop(self) -> None:
        """Terminate the server and its --num-procs children (they outlive a killed parent)."""
        if self.proc is None:
            return
        tree = self.tree()
        for process in tree:
            process.terminate()
        _, alive = psutil.wait_procs(tree, timeout=15)
        for process in alive:
            process.kill()
        self.proc.wait(5)


REFERENCES = {  # the bare-Bokeh app: a μ slider per dimension, or one slider
    "sliders": "benchmarks/reference_app_sliders.py",
    "one": "benchmarks/reference_app.py",
}


def start_app(name: str, num_procs: int, log_dir: Path, reference: str = "sliders") -> Server:
    """Our app or the reference, on a free port, with short session lifetimes and the probe."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    script, tool = {
        "ours": ("apps/explorer.py", "panel"),
        "bare_bokeh": (REFERENCES[reference], "bokeh"),
    }[name]
    command = [
        str(bin_dir / tool), "serve", script, "benchmarks/probe_app.py",
        "--port", str(port), "--address", "127.0.0.1",
        "--allow-websocket-origin", f"127.0.0.1:{port}",
        "--unused-session-lifetime", str(LIFETIME_MS),
        "--check-unused-sessions", str(CHECK_MS),
        "--num-procs", str(num_procs),
    ]  # fmt: skip
    log = log_dir / f"load-{name}.log"
    proc = start_server(command, port, log)
    base = f"http://127.0.0.1:{port}"
    probe = f"{base}/probe_app" if num_procs == 1 else None  # a probe sees one process only
    return Server(f"{base}/{Path(script).stem}", probe, proc, log, num_procs)


async def wait_expired(server: Server) -> dict | None:
    """Wait until the server has discarded every closed session; the probe's last reading."""
    if server.probe_url is None:
        await asyncio.sleep((LIFETIME_MS + 2 * CHECK_MS) / 1000 + 1)
        return None
    deadline = time.perf_counter() + 30
    while True:
        probe = await read_probe(server.probe_url)
        if probe["sessions"] == 0 or time.perf_counter() > deadline:
            return probe
        await asyncio.sleep(0.5)


def cpu_by_process(server: Server) -> dict[int, float]:
    cpu = {}
    for process in server.tree():
        with contextlib.suppress(psutil.NoSuchProcess):
            cpu[process.pid] = sum(process.cpu_times()[:2])
    return cpu


async def warm_up(server: Server, timeout: float) -> None:
    """First sessions import and cache things once per process: keep them out of the figures.

    With --num-procs the kernel picks the process of each connection, so sessions are opened
    until every process has served one (its CPU time grew by a session's worth), or 10 tries.
    """
    start = cpu_by_process(server)
    for attempt in range(10 * server.procs):
        session, _, _ = await open_session(server.url, timeout)
        for value in (0.3, 0.6):
            await session.move(value)
        await settle([session], timeout)
        session.close()
        now = cpu_by_process(server)
        grown = [pid for pid, cpu in now.items() if cpu - start.get(pid, 0) > 0.3]
        if attempt >= 1 and len(grown) >= server.procs:
            break
    await wait_expired(server)


# -- one app under load ------------------------------------------------------------------------


async def open_all(url: str, count: int, timeout: float, concurrency: int = 4):
    """Open ``count`` sessions, ``concurrency`` at a time (users do not all arrive at once)."""
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            return await open_session(url, timeout)

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [o[0] for o in opened], [o[1] for o in opened], [o[2] for o in opened]


class Meter:
    """Wall time, server CPU and this process's CPU over one phase."""

    def __init__(self, server: Server):
        self.server = server
        self.start = (time.perf_counter(), server.cpu_seconds(), time.process_time())

    def stop(self) -> dict:
        wall, server_cpu, client_cpu = self.start
        now = self.server.cpu_seconds()
        return {
            "seconds": time.perf_counter() - wall,
            "server_cpu": None if now is None else now - server_cpu,
            "client_cpu": time.process_time() - client_cpu,
        }


def add(total: dict, part: dict) -> None:
    for key, value in part.items():
        total[key] = (
            None if value is None or total.get(key, 0) is None else total.get(key, 0) + value
        )


async def drive_in_turns(servers: dict[str, Server], opened: dict[str, list], args) -> dict:
    """Drive each app's sessions in turn, --turn seconds at a time, --seconds in all for each.

    The machine is shared: taking turns, the apps meet the same load from everything else.
    With --disconnect-fraction, sessions are dropped at the start of each app's second half.
    """
    loop = asyncio.get_running_loop()
    turns = max(2 if args.disconnect_fraction > 0 else 1, round(args.seconds / args.turn))
    length = args.seconds / turns
    records = {
        name: {"run": {}, "loadavg": [], "dropped_at": None, "driven_s": args.seconds}
        for name in servers
    }
    stop = asyncio.Event()
    guard = asyncio.create_task(watchdog([s for ss in opened.values() for s in ss], stop))
    for turn in range(turns):
        for name, server in servers.items():
            sessions, record = opened[name], records[name]
            if turn == turns // 2 and args.disconnect_fraction > 0:
                record["dropped_at"] = drop(sessions, args.disconnect_fraction)
            record["loadavg"].append(os.getloadavg()[0])
            meter, end = Meter(server), loop.time() + length
            moves = (drive(s, i, args.rate, end, turn) for i, s in enumerate(sessions))
            await asyncio.gather(*moves)
            await settle(sessions, args.timeout)
            add(record["run"], meter.stop())
    stop.set()
    await guard
    for name, server in servers.items():
        records[name]["lost"] = sum(s.closed for s in opened[name] if not s.dropped)
        records[name]["with_sessions_mb"] = server.rss_mb()
    return records


async def after_expiry(server: Server) -> dict:
    """Memory once the closed sessions are discarded (and, with the probe, after malloc_trim)."""
    probe = await wait_expired(server)
    after = {"rss_mb": server.rss_mb(), "probe": probe, "probe_trim": None}
    if server.probe_url is not None:
        after["probe_trim"] = await read_probe(server.probe_url + "?trim=1")
    return after


def progress(message: str) -> None:
    """A phase has begun (stderr, so that stdout stays the report)."""
    print(f"load.py {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


async def open_round(server: Server, args: argparse.Namespace) -> dict:
    meter = Meter(server)
    sessions, open_seconds, listeners = await open_all(server.url, args.sessions, args.timeout)
    return {
        "sessions": sessions,
        "open_seconds": open_seconds,
        "opening": meter.stop(),
        "listeners": listeners,
    }


async def close_round(server: Server, record: dict) -> None:
    """Read the probe with the sessions open, close them, wait for the server to free them."""
    if server.probe_url is not None:
        record["with_probe"] = await read_probe(server.probe_url)
    for session in record["sessions"]:
        session.close()
    await asyncio.wait(record.pop("listeners"), timeout=10)
    record["after"] = await after_expiry(server)


async def one_round(servers: dict[str, Server], args: argparse.Namespace, number: int) -> dict:
    """Open each app's sessions, drive them in turns, close and expire them; the records."""
    records = {}
    for name, server in servers.items():
        progress(f"round {number}: opening {args.sessions} sessions of {name}")
        records[name] = await open_round(server, args)
    progress(f"round {number}: driving {' and '.join(servers)} in turns, {args.seconds:g} s each")
    opened = {name: record["sessions"] for name, record in records.items()}
    runs = await drive_in_turns(servers, opened, args)
    progress(f"round {number}: closing the sessions; waiting for the servers to discard them")
    await asyncio.gather(*(close_round(servers[name], records[name]) for name in servers))
    return {name: records[name] | runs[name] for name in servers}


async def run_all(servers: dict[str, Server], args: argparse.Namespace) -> dict[str, dict]:
    """Warm up, read memory, run --rounds rounds, try a fresh session; each app's figures."""
    before = {}
    for name, server in servers.items():
        progress(f"{name} at {server.url}: warming up")
        await warm_up(server, args.timeout)
        before[name] = {"rss_mb": server.rss_mb(), "probe": await wait_expired(server)}
    rounds = [await one_round(servers, args, number) for number in range(1, args.rounds + 1)]
    results = {}
    for name, server in servers.items():
        fresh = await fresh_session_ok(server.url, args.timeout)
        results[name] = summarize([r[name] for r in rounds], before[name])
        results[name] |= {"fresh_session_ok": fresh, "log": server.log and str(server.log)}
    return results


# -- figures -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def latency_stats(latencies: list[float]) -> dict:
    return {
        "p50_ms": ms(percentile(latencies, 0.5)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "max_ms": ms(max(latencies, default=None)),
    }


def per(seconds: float | None, count: int, digits: int = 1) -> float | None:
    """Milliseconds per item of ``seconds``."""
    return None if seconds is None or not count else round(seconds / count * 1e3, digits)


def total(rounds: list[dict], phase: str, key: str) -> float | None:
    values = [r[phase][key] for r in rounds]
    return None if None in values else sum(values)


def after_drop(round_: dict) -> list[float]:
    """The survivors' latencies after the round's drop."""
    at = round_["dropped_at"]
    survivors = [s for s in round_["sessions"] if not s.dropped]
    return [seconds for s in survivors for when, seconds in s.latencies if at and when > at]


def objects(probe: dict | None) -> int | None:
    return None if probe is None else probe["objects"]


def round_memory(round_: dict) -> dict:
    """RSS (MB) and gc-tracked objects of the server with the round's sessions and after."""
    after = round_["after"]
    return {
        "with_sessions_mb": round_["with_sessions_mb"],
        "after_mb": after["rss_mb"],
        "after_trim_mb": (after["probe_trim"] or {}).get("rss_after_trim_mb"),
        "objects_with": objects(round_.get("with_probe")),
        "objects_after": objects(after["probe"]),
    }


def memory_summary(rounds: list[dict], before: dict) -> dict:
    first, n = rounds[0], len(rounds[0]["sessions"])
    before_mb, before_objects = before["rss_mb"], objects(before["probe"])
    memory = [round_memory(r) for r in rounds]
    with_objects = memory[0]["objects_with"]
    live = (first.get("with_probe") or {}).get("sessions")  # dropped ones may be gone already
    return {
        "rss_before_mb": before_mb,
        "rss_with_sessions_mb": first["with_sessions_mb"],
        "rss_after_mb": memory[-1]["after_mb"],
        "mb_per_session": (
            None if before_mb is None else round((first["with_sessions_mb"] - before_mb) / n, 2)
        ),
        "objects_before": before_objects,
        "objects_per_session": (
            round((with_objects - before_objects) / live) if with_objects and live else None
        ),
        "memory_rounds": memory,
        "probe_before": before["probe"],
        "probe_after": rounds[-1]["after"]["probe"],
    }


def summarize(rounds: list[dict], before: dict) -> dict:
    """One app's figures from its rounds' sessions and records."""
    sessions = [s for r in rounds for s in r["sessions"]]
    survivors = [s for s in sessions if not s.dropped]
    answered = [seconds for s in sessions for _, seconds in s.latencies]
    dropped = [seconds for r in rounds for seconds in after_drop(r)]
    run_seconds = total(rounds, "run", "seconds")
    open_seconds = [seconds for r in rounds for seconds in r["open_seconds"]]
    return {
        "sessions": len(rounds[0]["sessions"]),
        "rounds": len(rounds),
        "dropped": len(sessions) - len(survivors),
        "lost": sum(r["lost"] for r in rounds),
        "answered": len(answered),
        "errors": sum(s.errors for s in sessions),
        "survivor_errors": sum(s.errors for s in survivors),
        "updates_per_s": round(len(answered) / sum(r["driven_s"] for r in rounds), 1),
        **latency_stats(answered),
        "after_drop": latency_stats(dropped) | {"answered": len(dropped)},
        "open_p50_ms": ms(statistics.median(open_seconds)),
        "open_max_ms": ms(max(open_seconds)),
        "open_all_s": round(rounds[0]["opening"]["seconds"], 1),
        "server_cpu_ms_per_open": per(total(rounds, "opening", "server_cpu"), len(sessions), 0),
        "server_cpu_ms_per_update": per(total(rounds, "run", "server_cpu"), len(answered)),
        "client_cpu_fraction": round(total(rounds, "run", "client_cpu") / run_seconds, 2),
        "loadavg_1min": round(statistics.mean(x for r in rounds for x in r["loadavg"]), 2),
        **memory_summary(rounds, before),
    }


COLUMNS = [
    ("answered", "answered", 9), ("errors", "errors", 7), ("survivor_errors", "surv.err", 9),
    ("updates_per_s", "upd/s", 7), ("p50_ms", "p50", 7), ("p95_ms", "p95", 7),
    ("max_ms", "max", 7), ("open_p50_ms", "open", 7), ("server_cpu_ms_per_update", "cpu/upd", 8),
    ("rss_before_mb", "MB pre", 8), ("rss_with_sessions_mb", "MB with", 8),
    ("rss_after_mb", "MB post", 8), ("mb_per_session", "MB/sess", 8), ("loadavg_1min", "load", 6),
]  # fmt: skip


def memory_line(row: dict) -> str:
    """RSS before, with and after each round's sessions; what the probe counted."""
    if row["rss_before_mb"] is None:
        return "memory: not measured (a --target server without --target-pid)"
    rounds = "; ".join(
        f"round {i}: {m['with_sessions_mb']} with, {m['after_mb']} after expiry"
        + (f" ({m['after_trim_mb']} after malloc_trim)" if m["after_trim_mb"] else "")
        for i, m in enumerate(row["memory_rounds"], start=1)
    )
    line = f"RSS MB {row['rss_before_mb']} before; {rounds}"
    probe = row["probe_after"]
    if probe is not None:
        left = probe["objects"] - row["objects_before"]
        line += (
            f"; gc objects: {row['objects_per_session']} a session, {left:+} after expiry, "
            f"live LatentModels {probe['LatentModel']}, sessions {probe['sessions']}"
        )
    return line


def print_table(results: dict[str, dict]) -> None:
    print(f"{'app':<11}" + "".join(f"{title:>{width}}" for _, title, width in COLUMNS))
    for name, row in results.items():
        cells = "".join(f"{'-' if row[key] is None else row[key]!s:>{width}}"
                        for key, _, width in COLUMNS)  # fmt: skip
        print(f"{name:<11}{cells}")
    print("(latencies and open times in ms; cpu/upd: server CPU ms per answered update; MB: RSS)")
    for name, row in results.items():
        if row["dropped"]:
            after = row["after_drop"]
            verdict = "kept being served" if row["survivor_errors"] == 0 else "had errors"
            survivors = row["sessions"] * row["rounds"] - row["dropped"]
            print(
                f"{name}: {row['dropped']} sessions dropped mid-run; the other {survivors} "
                f"{verdict} (after the drop: {after['answered']} answered, "
                f"p95 {after['p95_ms']} ms, {row['survivor_errors']} errors)"
            )
        print(f"{name}: {memory_line(row)}")
        fresh = "works" if row["fresh_session_ok"] else "FAILS"
        print(f"{name}: a fresh session afterwards {fresh}")


def verdict(results: dict[str, dict]) -> dict:
    """The issue's targets, where both apps were measured."""
    out: dict = {}
    if "ours" in results and "bare_bokeh" in results:
        ours, bare = results["ours"], results["bare_bokeh"]
        ratio = ours["p95_ms"] / bare["p95_ms"] if ours["p95_ms"] and bare["p95_ms"] else None
        out["p95_ratio"] = None if ratio is None else round(ratio, 2)
        out["p95_ratio_ok"] = ratio is not None and ratio <= TARGETS["p95_ratio"]
    if "ours" in results:
        ours = results["ours"]
        out["errors_ok"] = ours["errors"] == TARGETS["errors"]
        if ours["mb_per_session"] is not None:
            out["mb_per_session_ok"] = ours["mb_per_session"] <= TARGETS["mb_per_session"]
    return out


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=2.0, help="slider moves per second each")
    parser.add_argument("--disconnect-fraction", type=float, default=0.0)
    parser.add_argument("--only", choices=["ours", "bare_bokeh"])
    parser.add_argument("--num-procs", type=int, default=1, help="server processes of each app")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before an error")
    parser.add_argument(
        "--turn", type=float, default=2.0, help="seconds an app is driven before the other's turn"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="open-drive-close rounds (memory is read after each)"
    )
    parser.add_argument("--target", help="load an app already served at this page URL instead")
    parser.add_argument(
        "--target-pid", type=int, action="append", default=[], help="its server processes"
    )
    parser.add_argument("--log-dir", type=Path, help="server logs (default: a new temp folder)")
    parser.add_argument(
        "--reference", choices=list(REFERENCES), default="sliders", help="the bare-Bokeh app"
    )
    parser.add_argument("--runs", type=int, default=1, help="whole measurements, fresh servers")
    return parser.parse_args(argv)


def start_servers(names: list[str], args: argparse.Namespace, log_dir: Path, stack) -> dict:
    if args.target:
        pids = tuple(args.target_pid)
        return {"target": Server(args.target, pids=pids, procs=len(pids) or 1)}
    servers = {}
    for name in names:
        servers[name] = start_app(name, args.num_procs, log_dir, args.reference)
        stack.callback(servers[name].stop)
    return servers


def main() -> None:
    args = parse_args()
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="vae-load-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    names = [args.only] if args.only else ["ours", "bare_bokeh"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    runs = []
    for number in range(1, args.runs + 1):
        with contextlib.ExitStack() as stack:
            servers = start_servers(names, args, log_dir, stack)
            runs.append(asyncio.run(run_all(servers, args)))
        if args.runs > 1:
            print(f"-- run {number} of {args.runs}")
        print_table(runs[-1])
    results = runs[-1]
    line = {
        "benchmark": "load",
        "sessions": args.sessions,
        "seconds": args.seconds,
        "rate_hz": args.rate,
        "disconnect_fraction": args.disconnect_fraction,
        "num_procs": args.num_procs,
        "session_lifetime_ms": [LIFETIME_MS, CHECK_MS],
        "apps": results,
        "reference": REFERENCES[args.reference],
        "targets": verdict(results),
        "nproc": os.cpu_count(),
        "panel": panel.__version__,
        "bokeh": bokeh.__version__,
    }
    if args.runs > 1:
        ratios = [verdict(run).get("p95_ratio") for run in runs]
        line["runs"] = [{name: run[name]["p95_ms"] for name in names} for run in runs]
        line["p95_ratios"] = ratios
        known = [r for r in ratios if r is not None]
        line["median_p95_ratio"] = round(statistics.median(known), 2) if known else None
        print(f"p95 ratio by run: {ratios}; median {line['median_p95_ratio']}")
    print(json.dumps(line))


if __name__ == "__main__":
    main()
