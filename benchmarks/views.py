"""How fast each exploration view follows a slider: server-side compute, then in-browser repaint.

1. In process: a LatentModel and its views; for each view, shown alone, a μ slider move
   (``LatentModel.set_value``) is timed until every watcher has run (decode, tile, write the
   Bokeh source). "explore" is the main image alone, the cost every move pays anyway.
2. In headless Chromium against `panel serve apps/explorer.py`: for each tab, a key press on
   a μ slider is timed from keydown to the animation frame in which the view's data source holds
   the new values (as benchmarks/latency.py does for the main image).
3. In process, the Explore tab's "where z stands" (explorer.app.whereami): its per-model work
   (the sample's posterior, each mean's held-out density, the strip's render), and per μ move
   its update (nearest images, typicality, strip and text written), and the nearest search and
   the typicality alone. The update runs on the turn after the image's, so it adds to no repaint.

Figures, not a test. Prints a table and, last, one JSON line.

    python benchmarks/views.py [--moves 30] [--presses 20] [--checkpoint mnist-beta1] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from browser import ARM, FIND, WAIT, launch, serve_explorer, summary

from explorer import names

# tab → (view CSS class, its data source, the column a μ move changes)
TABS = {"Explore": (None, names.IMAGE_SOURCE, "image"), **names.VIEW_TABS}


def server_side(checkpoint: str, moves: int) -> dict[str, dict]:
    """Per view: the time of one μ move with that view shown (all watchers, in process)."""
    from explorer.app.views.tabs import ExplorationViews
    from explorer.latent.space import LatentModel

    model = LatentModel(checkpoint=checkpoint, rng_seed=0)
    views = ExplorationViews(model)
    results = {}
    for index, name in enumerate(TABS):
        views.show(index - 1)  # -1: no view, the main image alone
        times = []
        for k in range(moves + 3):
            value = round(0.01 * ((k % 20) + 1) * (1 if (k // 20) % 2 == 0 else -1), 2)
            start = time.perf_counter()
            model.set_value("mu", 0, value)
            if k >= 3:  # the first moves warm caches up
                times.append((time.perf_counter() - start) * 1000)
        results[name] = summary(times)
    return results


def where_am_i(checkpoint: str, moves: int) -> dict[str, dict]:
    """The nearest data and typicality: per-model work once, then per μ move (in process)."""
    from explorer.app.views.session import SessionData
    from explorer.app.whereami import WhereAmI
    from explorer.compute import neighbours
    from explorer.latent.space import LatentModel

    model = LatentModel(checkpoint=checkpoint, rng_seed=0)
    start = time.perf_counter()
    where = WhereAmI(model, SessionData(model))  # no server: its per-model work runs at once
    prepared_ms = (time.perf_counter() - start) * 1000
    prepared = where.prepared
    times = {"update": [], "update, new strip": [], "nearest": [], "typicality": []}

    def new_strip():
        where.shown = where.shown[:0]  # as if other images were nearest: the strip is written
        where.update()

    for k in range(moves + 3):
        value = round(0.05 * ((k % 20) + 1) * (1 if (k // 20) % 2 == 0 else -1), 2)
        model.set_value("mu", 0, value)  # decodes, and updates the strip once
        z = model.z
        for name, work in [
            ("update", where.update),
            ("update, new strip", new_strip),
            ("nearest", lambda z=z: neighbours.nearest(z, prepared.mu, where.k)),
            ("typicality", lambda z=z: prepared.aggregate.where(z)),
        ]:
            start = time.perf_counter()
            work()
            if k >= 3:  # the first moves warm caches up
                times[name].append((time.perf_counter() - start) * 1000)
    results = {name: summary(values) for name, values in times.items()}
    results["per model"] = {"median_ms": round(prepared_ms, 1), "p90_ms": "-"}
    return results


def in_browser(checkpoint: str, presses: int, log: Path) -> dict[str, dict]:
    """Per tab: keydown on a μ slider → the frame whose data source holds the new values."""
    from playwright.sync_api import sync_playwright

    proc, url = serve_explorer(log, "--checkpoint", checkpoint)
    results = {}
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=60000)
            for tab, (_, source, column) in TABS.items():
                page.locator(".bk-tab", has_text=tab).first.click()
                page.wait_for_function(f"() => ({FIND})('{source}') !== null", timeout=60000)
                handle = page.locator(f".{names.mu_slider(0)} .noUi-handle").first
                times, missed = [], 0
                for k in range(presses + 2):
                    handle.focus()
                    page.evaluate(ARM, [source, column])
                    page.keyboard.press("ArrowRight" if (k // 10) % 2 == 0 else "ArrowLeft")
                    elapsed = page.evaluate(WAIT)
                    if k < 2:
                        continue  # warm-up
                    if elapsed is None:
                        missed += 1
                    else:
                        times.append(elapsed)
                results[tab] = summary(times) | {"missed": missed}
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30, help="server-side moves per view")
    parser.add_argument("--presses", type=int, default=20, help="browser key presses per tab")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--log-dir", default="/tmp")
    parser.add_argument("--no-browser", action="store_true", help="server-side figures only")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the app does
    server = server_side(args.checkpoint, args.moves)
    where = where_am_i(args.checkpoint, args.moves)
    browser = {}
    if not args.no_browser:
        browser = in_browser(args.checkpoint, args.presses, Path(args.log_dir) / "views-bench.log")
    print(f"{'view':<20}{'server median':>15}{'p90':>8}{'browser median':>16}{'p90':>8}")
    for tab, row in server.items():
        b = browser.get(tab, {})
        print(
            f"{tab:<20}{row['median_ms']:>15}{row['p90_ms']:>8}"
            f"{b.get('median_ms', '-'):>16}{b.get('p90_ms', '-'):>8}"
        )
    print(f"\n{'where z stands':<20}{'median':>15}{'p90':>8}  (in process, ms)")
    for name, row in where.items():
        print(f"{name:<20}{row['median_ms']:>15}{row['p90_ms']:>8}")
    worst = max((b["p90_ms"] for b in browser.values()), default=None)
    print(f"target: each view repaints within 100 ms of a slider move (worst browser p90: {worst})")
    line = {
        "benchmark": "views",
        "checkpoint": args.checkpoint,
        "cpu_threads": torch.get_num_threads(),
        "server_ms": {tab: row["median_ms"] for tab, row in server.items()},
        "browser_ms": {tab: row["median_ms"] for tab, row in browser.items()},
        "browser_p90_ms": {tab: row["p90_ms"] for tab, row in browser.items()},
        "missed": {tab: row["missed"] for tab, row in browser.items()},
        "where_ms": {name: row["median_ms"] for name, row in where.items()},
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
