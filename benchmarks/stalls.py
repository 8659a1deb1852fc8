"""Stalls: how long one session's slider waits while another session does something heavy.

Starts `panel serve apps/explorer.py` and opens session B, a Bokeh client as
benchmarks/load.py drives them: it moves μ0 --rate times a second, each move timed from sending
the value to the server's patch of the image source, and waited for before the next (a stall
shows as one long wait). Session A runs in a child process (its own work, such as applying a
2 MB page download, must not delay B's clock) and does one action after another, each timed
until its result reaches A: downloads, the first open of each tab, the GIF downloads, loading a
zoo model, loading a ~100 MB compressed checkpoint (made here, in a temporary folder). B's moves
sent between an action's start and its end (plus TAIL_S) give B's waits during that action;
"idle" is the baseline. Round 0 warms the server up and is not counted; each round opens a
fresh session A.

With ``--compare DIR`` a second server runs the checkout in DIR (say, a copy of the code from
before a change, served with DIR first on its path) and the two take turns, round by round, so
that both meet the same load from the rest of a shared machine. Prints a table and, last, one
JSON line.

    python benchmarks/stalls.py [--rounds 3] [--rate 10] [--big-mb 100] [--compare DIR]
        [--json OUT.json]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import torch
from browser import serve_explorer
from load import ClientSession, percentile, slider_values
from panel.models.widgets import EnterEvent

import explorer.app.explorer  # noqa: F401  (registers the app's own Bokeh models: pulled documents hold them)
from explorer import names

ROOT = Path(__file__).resolve().parent.parent
IMAGE_SOURCE = names.IMAGE_SOURCE
PAUSE_S = 0.6  # between A's actions, so that one's tail does not run into the next
TAIL_S = 0.2  # B's steps this long after an action's end still count for it
IDLE_S = 3.0
LOST_S = 5.0  # a move of B's unanswered this long is lost (an error), and B goes on
# tab index → (title, the data source its first build sends, the GIF download it then offers)
TABS = {
    1: ("Traversal", names.TRAVERSAL_SOURCE, names.download("traversal-gif")),
    2: ("Samples", names.SAMPLES_SOURCE, None),
    3: ("Encode", names.ENCODE_SOURCE, None),
    4: ("Interpolation", names.INTERP_SOURCE, names.download("interpolation-gif")),
    5: ("2-D map", names.MAP_SOURCE, None),
    6: ("Compare models", names.COMPARE_SOURCE, None),
    7: ("KL / active units", names.KL_SOURCE, None),
}
DOWNLOADS = {"png": "PNG", "html": "page (HTML)", "live": "living page (HTML)"}


def make_big_checkpoint(path: Path, megabytes: float) -> Path:
    """A valid checkpoint of the original app's layout whose optimizer state (read by torch.load,
    then ignored) makes the file ``megabytes`` large, its zip entries deflated (torch.save
    writes them stored): reading it costs the inflating and the unpickling of a big file."""
    from explorer.model import VAE, VAEConfig

    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=12))
    count = int(megabytes * 2**20 / 4 / 8)
    payload = {
        "config": {"latent_dim": 12, "beta": 1.0, "epochs": 1},
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": {"state": {i: {"exp_avg": torch.randn(count)} for i in range(8)}},
        "train_losses": [1.0],
        "val_losses": [1.0],
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with (
        zipfile.ZipFile(buffer) as stored,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as deflated,
    ):
        for item in stored.infolist():
            deflated.writestr(item.filename, stored.read(item.filename))
    return path


# -- session A ----------------------------------------------------------------------------------


class Enter(EnterEvent):
    """Panel's Enter event of a text input as BokehJS sends it, with the text: Panel's own class,
    made for receiving it, sends only the model."""

    def event_values(self) -> dict:
        return {**super().event_values(), "value_input": self.value_input}


class Actor(ClientSession):
    """Session A: applies the server's patches to its document (so that models a tab sends can be
    found and used) and waits for the patch that ends each action."""

    def __init__(self, page_url: str, timeout: float):
        super().__init__(page_url, timeout)
        self._waiting: list[tuple[object, asyncio.Future]] = []

    async def listen(self) -> None:
        while (message := await self._read()) is not None:
            if message.msgtype != "PATCH-DOC":
                continue
            try:
                message.apply_to_document(self.doc, self)
            except Exception as exc:  # a patch this client cannot apply: say so, go on
                print(f"A: patch not applied ({type(exc).__name__}: {exc})", file=sys.stderr)
            for test, future in self._waiting:
                if not future.done() and test(message):
                    future.set_result(time.perf_counter())
        self.closed = True

    def _outgoing(self, event) -> None:
        if getattr(event, "setter", None) is not self:  # not the server's own patch echoed
            self._outbox.append(event)

    def find(self, css: str):
        for model in self.doc.models:
            if css in (getattr(model, "css_classes", None) or []):
                return model
        raise RuntimeError(f"no model with class {css} in session A")

    def enter(self, css: str, text: str) -> None:
        """Type ``text`` into a text input and press Enter, as a browser reports it."""
        model = self.find(css)
        model.value = text
        self.doc.callbacks.send_event(Enter(model, value_input=text))

    def touches(self, model_id: str, attr: str | None = None):
        def test(message) -> bool:
            return any(
                event.get("model", {}).get("id") == model_id
                and (attr is None or event.get("attr") == attr)
                for event in message.content.get("events", [])
            )

        return test

    def has(self, name: str):
        return lambda _message: self.doc.get_model_by_name(name) is not None

    async def act(self, send, done, timeout: float) -> tuple[float, float, bool]:
        """Send a change; (start, end, finished) once ``done(patch)`` holds or after timeout."""
        future = asyncio.get_running_loop().create_future()
        entry = (done, future)
        self._waiting.append(entry)
        start = time.perf_counter()
        send()
        await self._flush()
        try:
            end, ok = await asyncio.wait_for(future, timeout), True
        except TimeoutError:
            end, ok = time.perf_counter(), False
        self._waiting.remove(entry)
        return start, end, ok


async def one_round(url: str, big: Path, number: int, timeout: float) -> list[dict]:
    records = []

    def record(action: str, start: float, end: float, ok: bool = True) -> None:
        records.append({"round": number, "action": action, "start": start, "end": end, "ok": ok})

    start = time.perf_counter()
    actor = Actor(url, timeout)
    await actor.open()
    listener = asyncio.create_task(actor.listen())
    record("open session A", start, time.perf_counter())
    image = actor.doc.get_model_by_name(IMAGE_SOURCE).id
    await asyncio.sleep(PAUSE_S)
    start = time.perf_counter()
    await asyncio.sleep(IDLE_S)
    record("idle", start, time.perf_counter())

    async def click(css: str, label: str) -> None:
        await asyncio.sleep(PAUSE_S)
        button = actor.find(css)
        done = actor.touches(button.id, "data")
        record(
            label,
            *await actor.act(lambda: setattr(button, "clicks", button.clicks + 1), done, timeout),
        )

    for kind, label in DOWNLOADS.items():
        await click(names.download(kind), f"download {label}")
    tabs = actor.find(names.TABS)
    for index, (title, source, gif) in TABS.items():
        await asyncio.sleep(PAUSE_S)
        opened = await actor.act(
            lambda i=index: setattr(tabs, "active", i), actor.has(source), timeout
        )
        record(f"open {title}", *opened)
        if gif is not None:
            await click(gif, f"{title} GIF")
    await asyncio.sleep(PAUSE_S)
    await actor.act(lambda: setattr(tabs, "active", 0), actor.has(IMAGE_SOURCE), timeout)
    await asyncio.sleep(PAUSE_S)
    picker = actor.find(names.ZOO)
    loaded = await actor.act(
        lambda: setattr(picker, "value", "mnist-beta10"), actor.touches(image), timeout
    )
    record("load zoo model (picker)", *loaded)
    await asyncio.sleep(PAUSE_S)
    now = time.time_ns()
    os.utime(big, ns=(now, now))  # a new modification time: the server reads the file again
    loaded = await actor.act(
        lambda: actor.enter(names.PATH, str(big)), actor.touches(image), timeout
    )
    record(f"load {big.stat().st_size / 2**20:.0f} MB checkpoint", *loaded)
    await asyncio.sleep(PAUSE_S)
    actor.close()
    await asyncio.wait([listener], timeout=5)
    return records


def run_actor(big: str, timeout: float, commands, results) -> None:
    """Session A's process: for each (url, round number) on ``commands``, that round's records
    (or what went wrong) on ``results``; None ends it."""
    while (command := commands.get()) is not None:
        url, number = command
        try:
            results.put(asyncio.run(one_round(url, Path(big), number, timeout)))
        except Exception as exc:
            results.put(f"session A failed: {type(exc).__name__}: {exc}")


# -- session B and the figures ------------------------------------------------------------------


class Mover(ClientSession):
    """Session B: moves μ0 and waits for that move's image before the next one (so that a move
    whose image never comes counts as lost, rather than delaying the count of every later one)."""

    def __init__(self, page_url: str, timeout: float):
        super().__init__(page_url, timeout)
        self.answered = asyncio.Event()
        self.lost: list[tuple[float, float]] = []  # (sent at, value) of moves never answered

    async def listen(self) -> None:
        while (message := await self._read()) is not None:
            if message.msgtype == "PATCH-DOC" and self._touches_image(message) and self.pending:
                now = time.perf_counter()
                self.latencies.append((now, now - self.pending.popleft()))
                self.answered.set()
        self.closed = True

    async def step(self, value: float, timeout: float) -> None:
        self.answered.clear()
        await self.move(value)
        if not self.pending:
            return
        try:
            await asyncio.wait_for(self.answered.wait(), timeout)
        except TimeoutError:
            self.pending.clear()
            self.errors += 1
            self.lost.append((time.perf_counter() - timeout, value))


async def open_mover(url: str, timeout: float) -> tuple[Mover, asyncio.Task]:
    session = Mover(url, timeout)
    await session.open()
    session.attach_slider()
    return session, asyncio.create_task(session.listen())


async def move_until(session: Mover, rate: float, stop: asyncio.Event, timeout: float) -> None:
    """A step every 1/rate seconds (the next at once when one took longer) until ``stop``."""
    loop, values = asyncio.get_running_loop(), slider_values(0)
    next_at = loop.time()
    while not stop.is_set():
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        await session.step(next(values), timeout)
        next_at = max(next_at + 1.0 / rate, loop.time())


async def measure(urls: dict[str, str], big: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Per server: A's records, B's (sent at, seconds) steps and B's errors. The servers take
    turns round by round, so that each meets the same load from the rest of the machine."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    commands, results = context.Queue(), context.Queue()
    actor = context.Process(target=run_actor, args=(str(big), args.timeout, commands, results))
    actor.start()
    found = {
        name: {"records": [], "b": await open_mover(url, args.timeout)}
        for name, url in urls.items()
    }
    try:
        for number in range(args.rounds + 1):
            for name, url in urls.items():
                session, _ = found[name]["b"]
                stop = asyncio.Event()
                driver = asyncio.create_task(move_until(session, args.rate, stop, LOST_S))
                commands.put((url, number))
                records = await loop.run_in_executor(None, results.get)
                stop.set()
                await driver
                if isinstance(records, str):
                    raise RuntimeError(records)
                found[name]["records"] += records
                print(f"round {number} on {name}: done", file=sys.stderr)
    finally:
        commands.put(None)
        actor.join(30)
    for entry in found.values():
        session, listener = entry.pop("b")
        session.close()
        await asyncio.wait([listener], timeout=5)
        entry["steps"] = [(answered - seconds, seconds) for answered, seconds in session.latencies]
        entry["errors"] = session.errors
        entry["lost"] = session.lost
    return found


def summarize(records: list[dict], steps: list[tuple[float, float]]) -> dict[str, dict]:
    """Per action (rounds ≥ 1): A's own wait and B's waits in its windows."""
    actions: dict[str, dict] = {}
    for rec in records:
        if rec["round"] == 0:
            continue
        entry = actions.setdefault(rec["action"], {"a_ms": [], "b": [], "failed": 0})
        entry["a_ms"].append((rec["end"] - rec["start"]) * 1000)
        entry["failed"] += not rec["ok"]
        end = rec["end"] + TAIL_S
        entry["b"] += [s * 1000 for sent, s in steps if rec["start"] <= sent <= end]
    return {
        name: {
            "a_ms": round(percentile(entry["a_ms"], 0.5), 1),
            "b_steps": len(entry["b"]),
            "b_p50_ms": _round(percentile(entry["b"], 0.5)),
            "b_p95_ms": _round(percentile(entry["b"], 0.95)),
            "b_max_ms": _round(max(entry["b"], default=None)),
            "failed": entry["failed"],
        }
        for name, entry in actions.items()
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def print_table(results: dict[str, dict]) -> None:
    """One row per action; per server, A's wait and B's p95 and max."""
    names = list(results)
    head = "| action in session A |" + "".join(
        f" {name}: A waits | {name}: B p95 | {name}: B max |" for name in names
    )
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for action in results[names[0]]["actions"]:
        cells = [action]
        for name in names:
            row = results[name]["actions"].get(action, {})
            late = f" ({row['failed']} unfinished)" if row.get("failed") else ""
            cells += [
                _ms(row.get("a_ms")) + late,
                _ms(row.get("b_p95_ms")),
                _ms(row.get("b_max_ms")),
            ]
        print("| " + " | ".join(cells) + " |")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds (after one warm-up)")
    parser.add_argument("--rate", type=float, default=10.0, help="B's slider steps a second")
    parser.add_argument("--big-mb", type=float, default=100.0, help="the big checkpoint's size")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before giving up")
    parser.add_argument(
        "--compare",
        type=Path,
        help="also serve the checkout in this folder (say, a copy from before a change), in turns",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON line here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    roots = {"this": ROOT} | ({"compared": args.compare.resolve()} if args.compare else {})
    with tempfile.TemporaryDirectory(prefix="vae-stalls-") as folder:
        folder = Path(folder)
        big = make_big_checkpoint(folder / "stalls-big.pth", args.big_mb)
        servers = {
            name: serve_explorer(folder / f"{name}.log", root=root) for name, root in roots.items()
        }
        try:
            urls = {name: url for name, (_, url) in servers.items()}
            found = asyncio.run(measure(urls, big, args))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(15)
        logs = {name: (folder / f"{name}.log").read_text() for name in roots}
    results = {
        name: {
            "root": str(root),
            "b_errors": found[name]["errors"],
            "server_tracebacks": logs[name].count("Traceback (most recent call last)"),
            "actions": summarize(found[name]["records"], found[name]["steps"]),
        }
        for name, root in roots.items()
    }
    result = {
        "rounds": args.rounds,
        "rate_hz": args.rate,
        "loadavg": round(os.getloadavg()[0], 2),
        "servers": results,
    }
    print_table(results)
    for name, row in results.items():
        print(
            f"{name} ({row['root']}): B errors (no reply in {LOST_S:g} s) {row['b_errors']}, "
            f"server tracebacks {row['server_tracebacks']}"
        )
    print(f"load average {result['loadavg']}")
    if args.json:
        args.json.write_text(json.dumps(result) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
