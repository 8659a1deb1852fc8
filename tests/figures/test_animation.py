"""Animated GIFs: each frame's cells are the right decodes, the animation runs there and back and
loops, the GIF holds the frames exactly; and ``vae-explorer figure ... --out FILE.gif`` writes
them (run as a user runs it, in a subprocess). The app's GIF buttons: tests/app/test_views.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import drawn
from PIL import Image, ImageSequence

from explorer import checkpoint
from explorer.cli import figure
from explorer.cli.common import CommandError
from explorer.compute import decoding, grids
from explorer.data import samples
from explorer.figures import animation
from explorer.figures.png import to_uint8
from explorer.figures.stills import FigureError

SCRIPT = Path(sys.executable).with_name("vae-explorer")
SCALE = 2
ONES, MINUS = ",".join(["1"] * 12), ",".join(["-1"] * 12)


def gif_frames(data: bytes) -> tuple[list[np.ndarray], dict]:
    """A GIF's frames as 8-bit grey arrays, and its first frame's info (loop, duration)."""
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        info = dict(gif.info)
        return [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)], info


def test_there_and_back_visits_each_end_once():
    assert animation.there_and_back(4) == [0, 1, 2, 3, 2, 1]
    assert animation.there_and_back(2) == [0, 1]


def test_traversal_frames_are_the_swept_decodes(loaded):
    z = np.linspace(-1, 1, 12).astype(np.float32)
    dims = [3, 7, 0, 11, 5]  # 5 dimensions: a 2 × 3 grid, one blank cell
    frames = animation.traversal(loaded.model, z, dims=dims, steps=5, scale=SCALE)
    assert len(frames) == 8  # 5 values there, 3 back
    assert len({f.image.size for f in frames}) == 1
    values = grids.sweep(5)
    for k, frame in enumerate(frames):
        v = values[animation.there_and_back(5)[k]]
        assert len(frame.cells) == 2 and len(frame.cells[0]) == 3
        for i, d in enumerate(dims):
            moved = z.copy()
            moved[d] = v
            expected = drawn(decoding.decode(loaded.model, moved[None])[0])
            np.testing.assert_array_equal(frame.cell(i // 3, i % 3), expected)
        assert (frame.cell(1, 2) == 255).all()  # no sixth dimension: a blank cell
    for k in range(1, 4):  # there and back: frame k is frame 8 - k
        np.testing.assert_array_equal(np.asarray(frames[k].image), np.asarray(frames[8 - k].image))
    assert not np.array_equal(np.asarray(frames[0].image), np.asarray(frames[4].image))


def test_interpolation_frames_run_from_a_to_b_and_back(loaded):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 12)).astype(np.float32)
    frames = animation.interpolation(loaded.model, a, b, steps=5, scale=SCALE)
    assert len(frames) == 8
    ends = decoding.decode(loaded.model, np.stack([a, b]))
    for frame in frames:  # A and B stand at the ends of every frame
        np.testing.assert_array_equal(frame.cell(0, 0), drawn(ends[0]))
        np.testing.assert_array_equal(frame.cell(0, 3), drawn(ends[1]))
    for col in (1, 2):  # linear, spherical
        np.testing.assert_array_equal(frames[0].cell(0, col), drawn(ends[0]))  # t = 0: A
        np.testing.assert_array_equal(frames[4].cell(0, col), drawn(ends[1]))  # middle, t = 1: B
    halfway = decoding.decode(loaded.model, grids.lerp(a, b, [0.5]))[0]
    np.testing.assert_array_equal(frames[2].cell(0, 1), drawn(halfway))
    np.testing.assert_array_equal(frames[6].cell(0, 1), drawn(halfway))  # on the way back
    assert not np.array_equal(frames[2].cell(0, 1), frames[2].cell(0, 2))  # the paths differ
    one = animation.interpolation(loaded.model, a, b, steps=3, methods=("spherical",), scale=1)
    assert len(one[0].cells[0]) == 3  # A, the chosen path, B


def test_gif_holds_the_frames_exactly_and_loops(loaded):
    frames = animation.traversal(loaded.model, np.zeros(12), dims=[0, 1, 2], steps=4, scale=1)
    images, info = gif_frames(animation.gif_bytes(frames, frame_ms=90))
    assert len(images) == 6
    assert info["loop"] == 0 and info["duration"] == 90
    for image, frame in zip(images, frames, strict=True):
        np.testing.assert_array_equal(image, np.asarray(frame.image))


def test_the_command_fills_in_defaults_and_refuses_what_does_not_fit(loaded, ckpt20):
    frames = figure.make_frames("traversal", checkpoint.load(ckpt20), scale=1)
    assert len(frames) == 2 * animation.STEPS - 2
    assert sum(len(row) for row in frames[0].cells) == 16  # the first 16 dimensions, 4 × 4
    zoo_model = checkpoint.load("mnist-beta1")
    frames = figure.make_frames("interpolation", zoo_model, steps=3, scale=1)
    sample = samples.load_sample("mnist-beta1", "mnist-5k", n=2)
    a, b = decoding.encode(zoo_model.model, sample.images)[0]
    ends = to_uint8(decoding.decode(zoo_model.model, np.stack([a, b])))
    np.testing.assert_array_equal(frames[0].cell(0, 1), ends[0])  # the first two sample images
    np.testing.assert_array_equal(frames[2].cell(0, 2), ends[1])
    with pytest.raises(CommandError, match="only traversal and interpolation animate"):
        figure.make_frames("samples", loaded)
    with pytest.raises(CommandError, match="from 0 to 11"):
        figure.make_frames("traversal", loaded, dims=[12])
    with pytest.raises(CommandError, match="at least 2"):
        figure.make_frames("interpolation", loaded, steps=1)
    with pytest.raises(CommandError, match="--steps must be at most 41, got 1000"):
        figure.make_frames("traversal", loaded, steps=1000)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("traversal", {"steps": 41, "scale": 16}),  # 80 frames of about 1900 × 1500 pixels
        ("traversal", {"dims": list(range(12)), "steps": 41, "scale": 6}),
        ("interpolation", {"steps": 41, "scale": 16, "a": [0.0] * 12, "b": [1.0] * 12}),
    ],
)
def test_an_oversized_animation_is_refused_before_decoding(loaded, kind, options):
    calls = []
    handle = loaded.model.decoder.register_forward_hook(lambda *_: calls.append(1))
    try:
        with pytest.raises(FigureError, match=r"the animation would be 80 frames of [\d,x]+ pix"):
            figure.make_frames(kind, loaded, **options)
    finally:
        handle.remove()
    assert calls == []  # nothing decoded, no frame drawn


def test_the_largest_default_animation_fits():
    """16 dimensions (the default rows), 41 steps, the default scale: well within MAX_PIXELS."""
    loaded = checkpoint.load("mnist-beta1")
    frames = figure.make_frames("traversal", loaded, steps=41)
    width, height = frames[0].image.size
    assert len(frames) == 80 and 80 * width * height <= animation.MAX_PIXELS


# -- the command -------------------------------------------------------------------------------
GOOD = {
    "traversal": ["traversal", "{ckpt}", "--out", "{tmp}/t.gif", "--dims", "0,5,7", "--steps",
                  "4", "--frame-ms", "80"],
    "interpolation": ["interpolation", "{ckpt}", "--out", "{tmp}/i.GIF", "--a", MINUS,
                      "--b", ONES],
}  # fmt: skip
BAD = {
    "suffix": (["traversal", "{ckpt}", "--out", "{tmp}/t.jpg"], ".png or .gif"),
    "kind": (["samples", "{ckpt}", "--out", "{tmp}/s.gif"], "only traversal and interpolation"),
    "frame-ms png": (["traversal", "{ckpt}", "--out", "{tmp}/t.png", "--frame-ms", "80"], ".gif"),
    "frame-ms short": (["traversal", "{ckpt}", "--out", "{tmp}/t.gif", "--frame-ms", "5"], "20"),
    "dims": (["traversal", "{ckpt}", "--out", "{tmp}/t.gif", "--dims", "12"], "from 0 to 11"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, ckpt12):
    """Every command line of GOOD and BAD, run side by side."""
    tmp = tmp_path_factory.mktemp("gifs")
    lines = {**GOOD, **{name: args for name, (args, _) in BAD.items()}}

    def run(args):
        argv = [str(SCRIPT), "figure", *(a.format(ckpt=ckpt12, tmp=tmp) for a in args)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(lines, pool.map(run, lines.values()), strict=True))
    return results, tmp


def test_figure_command_writes_gifs(runs, loaded):
    results, tmp = runs
    for name in GOOD:
        assert results[name].returncode == 0, results[name].stderr
    assert "gif, 6 frames" in results["traversal"].stdout
    images, info = gif_frames((tmp / "t.gif").read_bytes())
    assert info["duration"] == 80 and info["loop"] == 0
    expected = animation.traversal(
        loaded.model, np.zeros(12), dims=[0, 5, 7], steps=4, name="random12.pth"
    )
    assert len(images) == len(expected) == 6
    for image, frame in zip(images, expected, strict=True):
        np.testing.assert_array_equal(image, np.asarray(frame.image))
    images, info = gif_frames((tmp / "i.GIF").read_bytes())
    assert len(images) == 40 and info["duration"] == animation.FRAME_MS
    ends = decoding.decode(loaded.model, np.array([[-1.0] * 12, [1.0] * 12], np.float32))
    frames = animation.interpolation(loaded.model, [-1.0] * 12, [1.0] * 12, name="random12.pth")
    np.testing.assert_array_equal(frames[0].cell(0, 1), drawn(ends[0]))
    np.testing.assert_array_equal(images[20], np.asarray(frames[20].image))


@pytest.mark.parametrize("name", list(BAD))
def test_figure_command_gif_errors_are_one_line(runs, name):
    results, _ = runs
    result = results[name]
    assert result.returncode == 2, result.stderr
    assert BAD[name][1] in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
