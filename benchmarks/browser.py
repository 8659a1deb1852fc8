"""What the browser benchmarks share: Chromium's launch, and timing a key press to a repaint.

A press is timed inside the page, from the keydown event (captured on the window) to the
animation frame in which a named Bokeh data source holds a new value in one column: ``ARM``
before the press, then ``WAIT`` (a promise of the milliseconds, or null after 5 s).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from explorer import names

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# ARM's arguments for the decoded image: its source, and its column as explorer/plots.py names
# it (IMAGE_COLUMN; not imported here: plots loads HoloViews into the client).
IMAGE = [names.IMAGE_SOURCE, "image"]
# The model named ``name`` in any Bokeh document of the page, or null.
FIND = """(name) => {
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    const model = doc.get_model_by_name(name);
    if (model) return model;
  }
  return null;
}"""
ARM = f"""([name, column]) => {{
  window.__source = ({FIND})(name);
  window.__column = column;
  window.__old = column === 'image' ? window.__source.data.image[0] : window.__source.data[column];
  window.__t0 = null;
  if (!window.__hooked) {{
    window.addEventListener('keydown', () => {{
      if (window.__t0 === null) window.__t0 = performance.now();
    }}, true);
    window.__hooked = true;
  }}
}}"""
WAIT = """() => new Promise((resolve) => {
  const start = performance.now();
  const current = () => window.__column === 'image'
    ? window.__source.data.image[0] : window.__source.data[window.__column];
  const tick = () => {
    if (current() !== window.__old) resolve(performance.now() - window.__t0);
    else if (performance.now() - start > 5000) resolve(null);
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


def handle(css: str) -> str:
    """The selector of the handle of the slider with class ``css`` (``names.mu_slider(0)``)."""
    return f".{css} .noUi-handle"


def launch(playwright):
    """Headless Chromium, Debian's, with the flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary(values: list[float]) -> dict[str, float]:
    """Median, p90, min and max of a list of milliseconds, rounded to 0.1 ms."""
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
    }


def serve_explorer(log: Path, *app_args: str, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`panel serve apps/explorer.py` of ``root`` (a copy of the code: first on the path too) on a
    free port, ``app_args`` given to the app, its output in ``log``: (process, URL)."""
    port = free_port()
    command = [
        sys.executable, "-m", "panel", "serve", "apps/explorer.py",
        "--port", str(port), "--address", "127.0.0.1",
        "--allow-websocket-origin", f"127.0.0.1:{port}",
    ]  # fmt: skip
    if app_args:
        command += ["--args", *app_args]
    env = os.environ | {"PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}/explorer"
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"server did not start; see {log}")
