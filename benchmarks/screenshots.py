"""Screenshots of the served explorer: each mode on the Explore tab, then each exploration tab,
at a projector's 1280×720 (or ``--size``), to look at what a change did to the page.

Pictures, not a test. Prints the files it wrote.

    python benchmarks/screenshots.py [--out /tmp/shots] [--size 1280x720] [--checkpoint mnist-beta1]
        [--readme]   # also docs/screenshot.png, the README's picture (Sample mode, Explore tab)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from browser import FIND, ROOT, launch, serve_explorer

from explorer import names
from explorer.latent.table import MODE_LABELS

SETTLE_MS = 1500  # after a click: the server's reply and Bokeh's repaint
README_PICTURE = ROOT / "docs" / "screenshot.png"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def take(checkpoint: str, out: Path, width: int, height: int, readme: bool) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    proc, url = serve_explorer(out / "server.log", "--checkpoint", checkpoint)
    written = []

    def shoot(page, name: str) -> None:
        page.wait_for_timeout(SETTLE_MS)
        path = out / f"{name}.png"
        page.screenshot(path=path)
        written.append(path)

    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            page.locator(f".{names.mu_slider(0)} .noUi-handle").first.wait_for(timeout=60000)
            for mode, label in MODE_LABELS.items():
                page.locator(f".{names.MODE} button", has_text=label).first.click()
                shoot(page, f"mode-{mode}")
                if mode == "sample" and readme:
                    README_PICTURE.write_bytes((out / "mode-sample.png").read_bytes())
                    written.append(README_PICTURE)
            page.locator(f".{names.MODE} button", has_text=MODE_LABELS["sample"]).first.click()
            tabs = {tab: source for tab, (_, source, _column) in names.VIEW_TABS.items()}
            tabs |= {tab: source for tab, (_, source) in names.MODEL_TABS.items()}
            for tab, source in tabs.items():
                page.locator(".bk-tab", has_text=tab).first.click()
                page.wait_for_function(f"() => ({FIND})('{source}') !== null", timeout=60000)
                shoot(page, f"tab-{slug(tab)}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/shots", help="folder for the PNG files")
    parser.add_argument("--size", default="1280x720", help="the browser window, WIDTHxHEIGHT")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--readme", action="store_true", help="also write docs/screenshot.png")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    for path in take(args.checkpoint, Path(args.out), width, height, args.readme):
        print(path)


if __name__ == "__main__":
    main()
