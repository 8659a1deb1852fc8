"""Shared fixtures: small real checkpoints, and a real `panel serve` process for browser tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer import checkpoint
from explorer.figures.png import to_uint8
from explorer.model import VAE, VAEConfig

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def make_checkpoint(path: Path, latent_dim: int = 12, seed: int = 0, **meta) -> Path:
    """A real (randomly initialised) VAE saved in our format."""
    torch.manual_seed(seed)
    model = VAE(VAEConfig(latent_dim=latent_dim))
    # Random BatchNorm statistics so that images differ visibly between z values.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    defaults = {"beta": 1.0, "epochs": 1, "dataset": "mnist-5k"}
    return checkpoint.save(path, model, defaults | meta)


@pytest.fixture
def checkpoint_factory(tmp_path):
    """make_checkpoint into the test's tmp_path: factory(name, latent_dim, seed)."""
    return lambda name, latent_dim=12, seed=0: make_checkpoint(tmp_path / name, latent_dim, seed)


@pytest.fixture(scope="session")
def ckpt12(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "random12.pth", 12, seed=1)


@pytest.fixture(scope="session")
def loaded(ckpt12):
    """ckpt12 loaded (the figure and animation tests decode with it)."""
    return checkpoint.load(ckpt12)


# train.py's arguments for a small model of the generated shapes (32×32 RGB, 6 dimensions, β = 4)
# that at this seed gives x and y a dimension each, with a MIG gap of about 0.3 for both: about
# a minute of one CPU thread (single-threaded: the same weights on every run).
SHAPES_TRAINING = (
    "--dataset", "shapes", "--image-size", "32", "--limit", "2000", "--epochs", "8",
    "--latent-dim", "6", "--beta", "4", "--lr", "2e-3", "--batch-size", "64", "--seed", "7",
    "--num-threads", "1",
)  # fmt: skip


@pytest.fixture(scope="session")
def shapes_ckpt(tmp_path_factory) -> Path:
    """A model of the generated shapes, trained by train.py (SHAPES_TRAINING)."""
    path = tmp_path_factory.mktemp("shapes-model") / "shapes.pth"
    command = [sys.executable, "train.py", *SHAPES_TRAINING, "--checkpoint-path", str(path)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return path


def drawn(image: np.ndarray, scale: int = 2) -> np.ndarray:
    """An image in [0, 1] as a figure draws it: 8-bit grey, each pixel a scale×scale block."""
    return to_uint8(image).repeat(scale, axis=0).repeat(scale, axis=1)


@pytest.fixture(scope="session")
def ckpt20(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "random20.pth", 20, seed=2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real `panel serve apps/explorer.py` process on a free port."""

    def __init__(self, log: Path, *args: str, options: tuple[str, ...] = ()):
        """``args`` go to the app; ``options`` to `panel serve` (more apps, session lifetimes)."""
        self.port = free_port()
        self.log = log
        command = [
            sys.executable, "-m", "panel", "serve", "apps/explorer.py", *options,
            "--port", str(self.port), "--address", "127.0.0.1",
            "--allow-websocket-origin", f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        if args:
            command += ["--args", *args]
        self._log_handle = log.open("w")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log_handle, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/explorer"

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"panel serve exited:\n{self.log.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"panel serve did not start:\n{self.log.read_text()}")

    def logs(self) -> str:
        if not self._log_handle.closed:
            self._log_handle.flush()
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log_handle.close()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    """Factory: start_server(*app_args, options=()) → a running Server, stopped at the end of the
    session.

    Each server's log must hold no traceback when it stops.
    """
    servers = []

    def start(*args: str, options: tuple[str, ...] = ()) -> Server:
        log = tmp_path_factory.mktemp("server") / "server.log"
        servers.append(Server(log, *args, options=options))
        return servers[-1]

    yield start
    for srv in servers:
        srv.stop()
    for srv in servers:
        assert unexpected_tracebacks(srv.logs()) == [], srv.logs()


# Tornado logs these when the server writes to a browser that has just gone away (a closed
# tab): the client's doing, not an error of the app.
GONE_AWAY = ("tornado.websocket.WebSocketClosedError", "tornado.iostream.StreamClosedError")


def unexpected_tracebacks(log: str) -> list[str]:
    """The tracebacks in a server log, less those of clients that went away."""
    blocks = log.split("Traceback (most recent call last):")[1:]
    found = []
    for block in blocks:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        last = lines[0] if lines else ""
        if not last.startswith(GONE_AWAY):
            found.append(last)
    return found


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see README)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60000)
        yield browser
        browser.close()


def box(page, selector: str) -> dict[str, float]:
    """The first element matching ``selector``: its box on the page (x, y, width, height)."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not laid out"
    return found


def open_offline(browser, path: Path, *, console_errors: bool = False, **context_options):
    """A page opened from its file in a new browser context, every other request refused.

    Returns (page, log): ``log["refused"]`` the URLs it asked for, ``log["errors"]`` its uncaught
    errors (and, with ``console_errors``, what it logged as an error).
    """
    page = browser.new_context(**context_options).new_page()
    log: dict[str, list[str]] = {"errors": [], "refused": []}
    page.on("pageerror", lambda exc: log["errors"].append(str(exc)))
    if console_errors:
        page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
    url = path.resolve().as_uri()

    def route(request_route):
        if request_route.request.url == url:
            request_route.continue_()
        else:
            log["refused"].append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url)
    return page, log


def run_async(coroutine) -> object:
    """``asyncio.run(coroutine)`` in a thread of its own: Playwright's sync API (the session's
    ``browser``) keeps an event loop running in the main thread, where asyncio.run refuses."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's thread
            result["error"] = error

    thread = threading.Thread(target=run, name="run_async")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


# -- a session's model and its exploration views, server side (tests/app) ------------------------
@pytest.fixture
def model():
    from explorer.latent.space import LatentModel

    return LatentModel(checkpoint="mnist-beta1", rng_seed=3)


@pytest.fixture
def views(model):
    from explorer.app.views.tabs import ExplorationViews

    return ExplorationViews(model)
