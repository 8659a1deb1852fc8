"""Slider key press → image repainted, timed inside headless Chromium: ours against bare Bokeh.

Starts both servers, opens one page of each, and alternates key presses between them: each press
is timed from the keydown event to the animation frame in which the image's data source holds the
new image. Also times page load → first image for ours. Figures, not a test.

    python benchmarks/latency.py [--presses 30] [--checkpoint mnist-beta1]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import bokeh
import panel
from browser import ARM, FIND, IMAGE, WAIT, free_port, handle, launch, summary
from playwright.sync_api import sync_playwright

from explorer import names

ROOT = Path(__file__).resolve().parent.parent
FIRST_IMAGE = f"""() => new Promise((resolve) => {{
  const tick = () => {{
    const source = ({FIND})('{names.IMAGE_SOURCE}');
    if (source && source.data.image && source.data.image.length) resolve(performance.now());
    else requestAnimationFrame(tick);
  }};
  tick();
}})"""


def start_server(command: list[str], port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    return wait_port(proc, port, log)


def wait_port(proc: subprocess.Popen, port: int, log: Path) -> subprocess.Popen:
    """Wait until ``proc`` listens on ``port`` (60 s at most)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"server exited; see {log}")
        time.sleep(0.2)
    raise RuntimeError(f"server did not start; see {log}")


def servers(checkpoint: str, stack: ExitStack, log_dir: Path) -> dict[str, str]:
    ours_port, ref_port = free_port(), free_port()
    bin_dir = Path(sys.executable).parent
    apps = {
        "ours": (
            [str(bin_dir / "panel"), "serve", "apps/explorer.py", "--port", str(ours_port),
             "--args", "--checkpoint", checkpoint],
            ours_port, f"http://localhost:{ours_port}/explorer",
        ),
        "bare_bokeh": (
            [str(bin_dir / "bokeh"), "serve", "benchmarks/reference_app.py", "--port",
             str(ref_port), "--args", "--checkpoint", checkpoint],
            ref_port, f"http://localhost:{ref_port}/reference_app",
        ),
    }  # fmt: skip
    urls = {}
    for name, (command, port, url) in apps.items():
        proc = start_server(command, port, log_dir / f"latency-{name}.log")
        stack.callback(proc.wait, 10)
        stack.callback(proc.terminate)
        urls[name] = url
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--log-dir", default="/tmp")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"ours": [], "bare_bokeh": []}
    missed = {"ours": 0, "bare_bokeh": 0}
    with sync_playwright() as pw, ExitStack() as stack:
        urls = servers(args.checkpoint, stack, Path(args.log_dir))
        browser = launch(pw)
        stack.callback(browser.close)
        pages = {}
        first_image = []
        for name, url in urls.items():
            # Warm the server (imports, first render), then time a fresh page load.
            for attempt in range(2 if name == "ours" else 1):
                page = browser.new_page()
                page.goto(url)
                loaded = page.evaluate(FIRST_IMAGE)
                if name == "ours" and attempt == 1:
                    first_image.append(loaded)
            page.locator(handle(names.mu_slider(0))).first.wait_for(timeout=30000)
            pages[name] = page
        for i in range(args.presses):
            key = "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft"
            for name, page in pages.items():
                page.bring_to_front()
                page.locator(handle(names.mu_slider(0))).first.focus()
                page.evaluate(ARM, IMAGE)
                page.keyboard.press(key)
                elapsed = page.evaluate(WAIT)
                if elapsed is None:
                    missed[name] += 1
                else:
                    times[name].append(elapsed)
    result = {name: summary(values) | {"missed": missed[name]} for name, values in times.items()}
    ratio = result["ours"]["median_ms"] / result["bare_bokeh"]["median_ms"]
    print(f"{'app':<12}{'median':>9}{'p90':>9}{'min':>9}{'max':>9}{'missed':>8}")
    for name, row in result.items():
        print(
            f"{name:<12}{row['median_ms']:>9}{row['p90_ms']:>9}{row['min_ms']:>9}"
            f"{row['max_ms']:>9}{row['missed']:>8}"
        )
    print(f"ours / bare Bokeh (median): {ratio:.2f}  (target <= 1.3)")
    print(f"page load -> first image (warm server): {first_image[0]:.0f} ms (target <= 2000)")
    line = {
        "benchmark": "latency",
        "presses": args.presses,
        "ours_median_ms": result["ours"]["median_ms"],
        "bare_bokeh_median_ms": result["bare_bokeh"]["median_ms"],
        "ratio": round(ratio, 2),
        "ours_p90_ms": result["ours"]["p90_ms"],
        "bare_bokeh_p90_ms": result["bare_bokeh"]["p90_ms"],
        "missed": missed,
        "first_image_ms": round(first_image[0]),
        "panel": panel.__version__,
        "bokeh": bokeh.__version__,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
