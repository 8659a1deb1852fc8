"""Static HTML export of a fixed z: `vae-explorer export` (run as a user runs it, in a subprocess)
and explorer.pages.static, each page then opened from its file in headless Chromium with every
network request refused.

The command lines run once per module, side by side (each imports torch, HoloViews and Bokeh);
each test checks its own run.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import open_offline
from pagejs import FIND
from PIL import Image

from explorer import checkpoint, zoo
from explorer.compute.decoding import decode_image
from explorer.latent import state
from explorer.latent.space import LatentModel
from explorer.pages import static

SCRIPT = Path(sys.executable).with_name("vae-explorer")
Z = [0.5, -1.25, 2.0, 0.0, -3.5, 1.0, 0.75, -0.5, 3.9, 0.1, -0.1, 0.0]
MU = [-1.25, 0.5, 0.0, 2.0, -3.0, 3.0, 0.25, 0.0, 0.0, -0.75, 1.0, 0.0]
SIGMA = [0.5, 1.5, 0.0, 1.0, 2.0, 0.1, 1.0, 1.0, 1.0, 1.0, 0.3, 1.0]
JSON_SETTINGS = {"mode": "sample", "mu": [0.3] * 12, "sigma": [0.6] * 12, "seed": 4242}


def text(values: list[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


# Command lines: {ckpt} has latent size 12, {tmp} is a scratch folder, the rest are VALUES.
VALUES = {"Z": text(Z), "MU": text(MU), "SIGMA": text(SIGMA), "ZEROS": ",".join(["0"] * 12)}
# name → (command line, the LatentModel settings the page must show)
GOOD = {
    "z": ("{ckpt} --z {Z} --out {tmp}/z.html", {"mode": "deterministic", "z_set": Z}),
    "sample": (
        "{ckpt} --mu {MU} --sigma {SIGMA} --seed 77 --out {tmp}/sample.html",
        {"mode": "sample", "mu": MU, "sigma": SIGMA, "seed": 77},
    ),
    "defaults": ("{ckpt} --out {tmp}/defaults.HTML", {}),
    "prior": ("{ckpt} --prior --seed 5 --out {tmp}/prior.html", {"mode": "prior", "seed": 5}),
    "from-json": ("--from-json {tmp}/state.json --out {tmp}/json.html", JSON_SETTINGS),
    "zoo": (zoo.DEFAULT + " --z {Z} --out {tmp}/zoo.html", {"mode": "deterministic", "z_set": Z}),
}
# name → (command line, exit status, words the one-line message must contain, in lower case)
BAD = {
    "wrong count": ("{ckpt} --z 1,2,3 --out {tmp}/bad.html", 2, "--z: expected 12 values"),
    "not a number": ("{ckpt} --z 1,abc,0,0,0,0,0,0,0,0,0,0 --out {tmp}/bad.html", 2, "'abc'"),
    "nan": ("{ckpt} --z 0,0,0,0,0,0,0,0,0,0,0,nan --out {tmp}/bad.html", 2, "not a finite"),
    "z out of range": ("{ckpt} --z -4.5,0,0,0,0,0,0,0,0,0,0,0 --out {tmp}/bad.html", 2, "[-4, 4]"),
    "mu wrong count": ("{ckpt} --mu -1,0 --out {tmp}/bad.html", 2, "--mu: expected 12"),
    "sigma negative": (
        "{ckpt} --sigma -0.5,1,1,1,1,1,1,1,1,1,1,1 --out {tmp}/bad.html",
        2,
        "[0, 2]",
    ),
    "z with mu": ("{ckpt} --z {ZEROS} --mu {ZEROS} --out {tmp}/bad.html", 2, "--z cannot be"),
    "z with seed": ("{ckpt} --z {ZEROS} --seed 3 --out {tmp}/bad.html", 2, "with --seed"),
    "json with z": ("--from-json {tmp}/state.json --z {ZEROS} --out {tmp}/bad.html", 2, "--z"),
    "prior with mu": ("{ckpt} --prior --mu {ZEROS} --out {tmp}/bad.html", 2, "--prior cannot be"),
    "seed negative": ("{ckpt} --seed -1 --out {tmp}/bad.html", 2, "--seed must be in"),
    "seed not an int": ("{ckpt} --seed 1.5 --out {tmp}/bad.html", 2, "invalid int value"),
    "not html": ("{ckpt} --out {tmp}/bad.png", 2, "must end in .html"),
    "no --out": ("{ckpt}", 2, "--out"),
    "no checkpoint": ("--z {ZEROS} --out {tmp}/bad.html", 2, "ckpt is required"),
    "bad state": ("--from-json {tmp}/bad-state.json --out {tmp}/bad.html", 2, "mu[1] = 7"),
    "missing checkpoint": ("{tmp}/nope.pth --out {tmp}/bad.html", 1, "not found"),
    "unwritable": ("{ckpt} --out {tmp}/no/such/dir/bad.html", 1, "cannot write"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory, ckpt12):
    tmp = tmp_path_factory.mktemp("export")
    model = LatentModel(checkpoint=str(ckpt12), device="cpu")
    model.param.update(**JSON_SETTINGS)
    (tmp / "state.json").write_text(state.dumps(model))
    (tmp / "bad-state.json").write_text('{"mu": [0, 7]}')
    return {"ckpt": str(ckpt12), "tmp": str(tmp)}


def run(line: str, files: dict) -> subprocess.CompletedProcess:
    argv = [str(SCRIPT), "export", *line.format(**files, **VALUES).split()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=files["tmp"])


@pytest.fixture(scope="module")
def results(files):
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: install the package (pip install -e .)"
    runs = {name: line for name, (line, _) in GOOD.items()}
    runs.update({name: line for name, (line, _, _) in BAD.items()})
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = {name: pool.submit(run, line, files) for name, line in runs.items()}
        return {name: future.result() for name, future in done.items()}


def page_path(name: str, files: dict) -> Path:
    return Path(GOOD[name][0].split()[-1].format(**files))


def expected_model(name: str, files: dict) -> LatentModel:
    """The app's state for these settings: a LatentModel, the very object each session has."""
    source = zoo.DEFAULT if name == "zoo" else files["ckpt"]
    model = LatentModel(checkpoint=source, device="cpu")
    model.param.update(**SETTINGS[name])
    return model


@pytest.mark.parametrize("name", GOOD)
def test_export_writes_a_self_contained_page(results, files, name):
    result = results[name]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    path = page_path(name, files)
    size = path.stat().st_size
    assert result.stdout == f"wrote {path} ({size:,} bytes)\n"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # Everything inline: no script or stylesheet is fetched, from the network or from a file
    # (test_page_renders_offline checks that the page asks for nothing at all).
    assert re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=", page) == []
    assert "latent-image-source" in page
    assert "latent-bars-source" in page
    assert 1_000_000 < size < 1_500_000  # Bokeh's core script (1.3 MB); no widgets, WebGL, Panel
    if name == "z":  # the text is HTML, readable without JavaScript
        assert all(f"z{i + 1}&nbsp;{v:+.4f}" in page for i, v in enumerate(Z))


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_fail_with_one_line(results, files, case):
    result = results[case]
    _, status, words = BAD[case]
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vae-explorer export")
    assert words in lines[0].lower()
    assert result.stdout == ""
    assert not (Path(files["tmp"]) / "bad.html").exists()


def test_help_is_clear(files):
    result = run("--help", files)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: vae-explorer export")
    for words in ["--z", "--mu", "--sigma", "--seed", "--prior", "--from-json", "no network"]:
        assert words in result.stdout


def test_python_api_pages_are_self_contained(api_pages):
    assert api_pages["api-model"].name == "api-model.html"
    for path in api_pages.values():
        page = path.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>")
        assert re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=", page) == []


def test_nothing_to_export_without_a_model(tmp_path):
    model = LatentModel(checkpoint=str(tmp_path / "missing.pth"), device="cpu")
    with pytest.raises(ValueError, match="not found"):
        static.page_html(model)


# -- in the browser ------------------------------------------------------------------------------

# Pages written from Python: from a LatentModel, and from a state dict (see explorer.latent.state).
API = {
    "api-model": {"mode": "sample", "mu": MU, "sigma": SIGMA, "seed": 2**31 - 1},
    "api-state": {"mode": "deterministic", "z_set": [-v for v in Z]},
}
SETTINGS = {name: settings for name, (_, settings) in GOOD.items()} | API


@pytest.fixture(scope="module")
def api_pages(files) -> dict[str, Path]:
    # As in the server: Panel models that link external JS and CSS files are registered (Bokeh
    # would link them from any page written in this process); the page must not.
    importlib.import_module("panel.models.tabulator")
    model = expected_model("api-model", files)
    pages = {"api-model": static.export_html(model, Path(files["tmp"]) / "api-model.html")}
    data = state.to_json(expected_model("api-state", files))
    pages["api-state"] = static.export_html(data, Path(files["tmp"]) / "api-state.html")
    return pages


PAGE_DATA = f"""() => {{
  const image = ({FIND})('latent-image-source');
  const bars = ({FIND})('latent-bars-source');
  if (!image || !bars) return null;
  return {{image: Array.from(image.data.image[0]), z: Array.from(bars.data.z)}};
}}"""
FIGURES = "() => [...Bokeh.index.all_views()].filter(view => view.model.type === 'Figure')"
DRAWN = f"() => ({FIGURES})().length === 2 && ({FIGURES})().every(view => view.has_finished())"
IMAGE_BOX = f"""() => {{
  const view = ({FIGURES})().find(
    view => view.model.renderers[0].data_source.name === 'latent-image-source');
  const page = view.el.getBoundingClientRect(), frame = view.frame.bbox;
  return {{x: page.x + frame.x, y: page.y + frame.y, width: frame.width, height: frame.height}};
}}"""


def open_page(browser, path: Path):
    """Open a page from its file with every other request refused; returns (page, data, log)."""
    page, log = open_offline(browser, path, viewport={"width": 1300, "height": 900})
    page.wait_for_function(f"() => ({PAGE_DATA})() !== null", timeout=30000)
    page.wait_for_function(DRAWN, timeout=30000)
    return page, page.evaluate(PAGE_DATA), log


def shown_image(data: dict) -> np.ndarray:
    """The page's image as the app shows it: Bokeh's image rows run bottom to top."""
    return np.asarray(data["image"], dtype=np.float64).reshape(28, 28)[::-1]


def painted_image(page) -> np.ndarray:
    """The grey levels painted at the centre of each of the 28×28 image cells (12 px each)."""
    box = page.evaluate(IMAGE_BOX)
    assert (box["width"], box["height"]) == (336, 336)
    with Image.open(io.BytesIO(page.screenshot(clip=box))) as shot:
        pixels = np.asarray(shot.convert("L"), dtype=np.int16)
    return pixels[6::12, 6::12]


@pytest.mark.browser
@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", list(SETTINGS))
def test_page_renders_offline_with_the_apps_image(browser, results, api_pages, files, name):
    if name in GOOD:
        assert results[name].returncode == 0, results[name].stderr
        path = page_path(name, files)
    else:
        path = api_pages[name]
    page, data, log = open_page(browser, path)
    try:
        model = expected_model(name, files)  # what the app shows for these settings
        z = model.z
        if name == "z":
            assert np.array_equal(z, np.asarray(Z, dtype=np.float32))
        # The same image as the app shows (the same LatentModel code) and as decode gives.
        source = zoo.DEFAULT if name == "zoo" else files["ckpt"]
        direct = decode_image(checkpoint.load(source).model, z)
        assert np.array_equal(model.image, direct)
        assert len(data["image"]) == 784
        np.testing.assert_allclose(shown_image(data), direct, rtol=0, atol=1e-6)
        np.testing.assert_allclose(data["z"], z, rtol=0, atol=1e-6)
        painted = painted_image(page)
        assert np.abs(painted - np.rint(direct * 255)).max() <= 2
        for i in (0, 11):
            page.get_by_text(f"z{i + 1}\u00a0{z[i]:+.4f}").first.wait_for(timeout=10000)
        page.get_by_text("latent size").first.wait_for(timeout=10000)
        page.get_by_text(model.info.name).first.wait_for(timeout=10000)
        assert log["errors"] == []
        assert log["refused"] == []  # it asked for nothing beyond its own file
    finally:
        page.context.close()
