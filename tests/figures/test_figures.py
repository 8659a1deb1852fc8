"""Publication figures: each one's images are the right decodes, in the right cells; and the
``vae-explorer figure`` command writes them as PNG files (run as a user runs it, in a subprocess).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import drawn
from PIL import Image

from explorer import checkpoint
from explorer.cli import figure
from explorer.cli.common import CommandError
from explorer.compute import decoding, grids
from explorer.data import samples
from explorer.figures import animation, stills
from explorer.figures.png import to_uint8

SCRIPT = Path(sys.executable).with_name("vae-explorer")
SCALE = 2
ONES, MINUS = ",".join(["1"] * 12), ",".join(["-1"] * 12)


def test_grid_layout_labels_and_margins():
    images = np.random.default_rng(0).random((2, 3, 28, 28)).astype(np.float32)
    fig = stills.grid(images, title="T", row_labels=["a", "b"], col_labels=["x", "y", "z"], scale=2)
    assert fig.image.mode == "L"
    for r in range(2):
        for c in range(3):
            np.testing.assert_array_equal(fig.cell(r, c), drawn(images[r, c]))
    (x0, y0, w, h), (x1, _, _, _) = fig.cells[0][0], fig.cells[0][1]
    assert (w, h) == (56, 56) and x1 - x0 == 56 + 2 * stills.GAP
    pixels = np.asarray(fig.image)
    assert (pixels[:, : stills.MARGIN] == 255).all()  # white margins
    assert (pixels[y0 - 4 - stills.FONT_SIZE : y0 - 2, x0 : x0 + w] < 128).any()  # a label
    # a long column label widens its column instead of overlapping the next one
    wide = stills.grid(images[:1], col_labels=["fashion-mnist-beta0.1"] * 3, scale=1)
    assert wide.cells[0][1][0] - wide.cells[0][0][0] > 100


def test_grid_cell_labels_sit_above_each_image():
    images = np.random.default_rng(0).random((2, 2, 28, 28)).astype(np.float32)
    fig = stills.grid(images, title="T", cell_labels=[["a", "b"], ["c", ""]], scale=2)
    for r in range(2):
        for c in range(2):
            np.testing.assert_array_equal(fig.cell(r, c), drawn(images[r, c]))
    pixels = np.asarray(fig.image)
    for r, c in [(0, 0), (1, 0), (1, 1)]:
        x, y, w, _ = fig.cells[r][c]
        above = pixels[y - 4 - stills.FONT_SIZE : y - 2, x : x + w]
        assert (above < 128).any() == (c == 0 or r == 0)  # a label, but none for ""
    assert fig.cells[1][0][1] - fig.cells[0][0][1] >= 56 + stills.FONT_SIZE  # room for it


def test_traversal_figure(loaded):
    z = np.linspace(-1, 1, 12).astype(np.float32)
    fig = stills.traversal(loaded.model, z, steps=5, dims=[3, 7], scale=SCALE)
    assert len(fig.cells) == 2 and len(fig.cells[0]) == 5
    expected = grids.traversal(loaded.model, z, 5, [3, 7])
    np.testing.assert_array_equal(fig.cell(1, 4), drawn(expected[1, 4]))  # z7 = +3
    z7 = z.copy()
    z7[7] = 3.0
    np.testing.assert_array_equal(fig.cell(1, 4), drawn(decoding.decode(loaded.model, z7[None])[0]))


def test_samples_figure(loaded):
    mu, sigma = np.full(12, 0.3), np.full(12, 0.7)
    fig = stills.samples(loaded.model, mu, sigma, count=10, seed=5, scale=SCALE)
    assert len(fig.cells) == 3 and len(fig.cells[0]) == 4  # 10 in a near-square grid
    expected = grids.samples(loaded.model, mu, sigma, 10, 5)
    np.testing.assert_array_equal(fig.cell(2, 1), drawn(expected[9]))
    assert (fig.cell(2, 3) == 255).all()  # no eleventh sample: a blank cell


def test_interpolation_figure_ends_at_a_and_b(loaded):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 12)).astype(np.float32)
    fig = stills.interpolation(loaded.model, a, b, steps=6, scale=SCALE)
    assert len(fig.cells) == 2 and len(fig.cells[0]) == 6  # linear and spherical rows
    ends = decoding.decode(loaded.model, np.stack([a, b]))
    for row in range(2):
        np.testing.assert_array_equal(fig.cell(row, 0), drawn(ends[0]))
        np.testing.assert_array_equal(fig.cell(row, 5), drawn(ends[1]))
    assert not np.array_equal(fig.cell(0, 2), fig.cell(1, 2))  # the paths differ between


def test_manifold_figure(loaded):
    z = np.zeros(12, np.float32)
    fig = stills.manifold(loaded.model, z, (2, 5), n=5, scale=SCALE)
    expected = grids.manifold(loaded.model, z, (2, 5), 5)
    np.testing.assert_array_equal(fig.cell(0, 4), drawn(expected[0, 4]))  # top right: (+3, +3)
    corner = z.copy()
    corner[2] = corner[5] = 3.0
    np.testing.assert_array_equal(
        fig.cell(0, 4), drawn(decoding.decode(loaded.model, corner[None])[0])
    )
    assert fig.cells[0][1][0] - fig.cells[0][0][0] == 28 * SCALE  # no gaps: one surface


def test_compare_figure(loaded, ckpt12, checkpoint_factory):
    other = checkpoint.load(checkpoint_factory("other.pth", 12, seed=9)).model
    latents = np.random.default_rng(2).standard_normal((3, 12)).astype(np.float32)
    fig = stills.compare({"first": loaded.model, "second": other}, latents, scale=SCALE)
    assert len(fig.cells) == 3 and len(fig.cells[0]) == 2
    np.testing.assert_array_equal(fig.cell(2, 1), drawn(decoding.decode(other, latents[2:])[0]))
    np.testing.assert_array_equal(
        fig.cell(2, 0), drawn(decoding.decode(loaded.model, latents[2:])[0])
    )


# -- the command -------------------------------------------------------------------------------
def test_the_command_fills_in_defaults_and_refuses_what_does_not_fit(loaded, ckpt20):
    zoo_model = checkpoint.load("mnist-beta1")
    fig = figure.make_still("compare", zoo_model, count=2, scale=1)
    assert len(fig.cells) == 2 and len(fig.cells[0]) == 3  # this model and its two β siblings
    fig = figure.make_still("interpolation", zoo_model, steps=3, scale=1)
    sample = samples.load_sample("mnist-beta1", "mnist-5k", n=2)
    a, b = decoding.encode(zoo_model.model, sample.images)[0]
    ends = to_uint8(decoding.decode(zoo_model.model, np.stack([a, b])))
    np.testing.assert_array_equal(fig.cell(0, 0), ends[0])  # the first two sample images
    np.testing.assert_array_equal(fig.cell(1, 2), ends[1])
    assert len(figure.make_still("traversal", checkpoint.load(ckpt20), scale=1).cells) == 16
    with pytest.raises(CommandError, match="negative"):
        figure.make_still("samples", loaded, sigma=[-1.0] * 12)
    with pytest.raises(CommandError, match="two different"):
        figure.make_still("manifold", loaded, dims=[3])
    with pytest.raises(CommandError, match="each dimension may be given once"):
        figure.make_still("manifold", loaded, dims=[3, 3])
    with pytest.raises(CommandError, match="from 0 to 11"):
        figure.make_still("traversal", loaded, dims=[12])
    with pytest.raises(CommandError, match="20 latent dimensions"):
        figure.make_still("compare", loaded, others={"big": checkpoint.load(ckpt20).model})


def test_the_command_draws_every_figure_it_offers(loaded):
    for kind in figure.FIGURES:
        fig = figure.make_still(kind, loaded, count=2, steps=3, others={}, scale=1)
        assert isinstance(fig, stills.Figure) and fig.cells


def test_the_command_gives_the_drawings_caps():
    """The command states the drawing's caps in --help without importing torch: its copies must
    agree."""
    assert (figure.MAX_SIDE, figure.MAX_GIF_PIXELS) == (stills.MAX_SIDE, animation.MAX_PIXELS)


@pytest.fixture
def decodes(loaded):
    """How many batches loaded.model's decoder has run while the test ran."""
    calls = []
    handle = loaded.model.decoder.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


# options within their caps one by one whose figure would still be too large
OVERSIZED = {
    "traversal": {"steps": 41, "scale": 16},  # 41 columns of 480 pixels
    "samples": {"count": 256, "scale": 16},
    "interpolation": {"steps": 41, "scale": 12},
    "manifold": {"steps": 41, "scale": 4},
    "compare": {"count": 256},  # 256 rows at the default scale
}


@pytest.mark.parametrize("kind", OVERSIZED)
def test_an_oversized_figure_is_refused_before_decoding(loaded, decodes, kind):
    with pytest.raises(stills.FigureError, match=r"the figure would be [\d,]+x[\d,]+ pixels"):
        figure.make_still(kind, loaded, a=[0.0] * 12, b=[1.0] * 12, others={}, **OVERSIZED[kind])
    assert decodes == []  # refused before anything was decoded, let alone drawn


def test_the_largest_figures_within_the_caps_are_drawn(loaded, decodes):
    fig = figure.make_still("manifold", loaded, steps=figure.MAX_STEPS)
    assert max(fig.image.size) <= stills.MAX_SIDE and len(decodes) == 1
    fig = figure.make_still("samples", loaded, count=figure.MAX_COUNT)
    assert max(fig.image.size) <= stills.MAX_SIDE
    dims = list(range(12))
    fig = figure.make_still("traversal", loaded, steps=figure.MAX_STEPS, dims=dims)
    assert max(fig.image.size) <= stills.MAX_SIDE


CAPPED = {
    "steps": ({"steps": 42}, "--steps must be at most 41, got 42"),
    "count": ({"count": 257}, "--count must be at most 256, got 257"),
    "scale": ({"scale": 17}, "--scale must be at most 16, got 17"),
    "dims twice": ({"dims": [1, 1]}, "--dims: each dimension may be given once"),
    "no dims": ({"dims": []}, "--dims: give at least one dimension"),
    "models": ({"others": {str(k): None for k in range(9)}}, "--models: at most 8 models"),
}


@pytest.mark.parametrize("case", CAPPED)
def test_the_command_refuses_options_beyond_their_caps(loaded, decodes, case):
    options, words = CAPPED[case]
    with pytest.raises(CommandError) as error:
        figure.make_still("compare" if case == "models" else "traversal", loaded, **options)
    assert words in str(error.value)
    assert decodes == []


def test_long_labels_keep_their_end():
    images = np.zeros((1, 2, 28, 28), np.float32)
    long = "/a/very/long/folder/of/many/checkpoints/vae_high_kl.pth"
    fig = stills.grid(images, col_labels=[long, "short"], scale=1)
    short = stills.grid(images, col_labels=["..." + long[-29:], "short"], scale=1)
    assert np.array_equal(np.asarray(fig.image), np.asarray(short.image))
    with pytest.raises(stills.FigureError, match="the figure would be"):
        stills.grid(images, title="T" * 2000)


GOOD = {
    "traversal": ["traversal", "{ckpt}", "--out", "{tmp}/t.png", "--dims", "0,5", "--steps", "4"],
    "samples": ["samples", "{ckpt}", "--out", "{tmp}/s.png", "--mu", "-1,0,0,0,0,0,0,0,0,0,0,1",
                "--sigma", "0.5,1,1,1,1,1,1,1,1,1,1,1", "--count", "9", "--seed", "3"],
    "interpolation": ["interpolation", "{ckpt}", "--out", "{tmp}/i.png",
                      "--a", MINUS, "--b", ONES],
    "manifold": ["manifold", "{ckpt}", "--out", "{tmp}/m.png", "--dims", "1,2", "--steps", "5"],
    "compare": ["compare", "{ckpt}", "--out", "{tmp}/c.png", "--models", "{other}", "--count", "2"],
}  # fmt: skip
BAD = {
    "suffix": (["traversal", "{ckpt}", "--out", "{tmp}/t.jpg"], 2, ".png"),
    "kind": (["histogram", "{ckpt}", "--out", "{tmp}/h.png"], 2, "invalid choice"),
    "dims": (["manifold", "{ckpt}", "--out", "{tmp}/m.png", "--dims", "1"], 2, "two different"),
    "z size": (["traversal", "{ckpt}", "--out", "{tmp}/t.png", "--z", "1,2"], 2, "expected 12"),
    "missing": (["samples", "{tmp}/nope.pth", "--out", "{tmp}/s.png"], 1, "not found"),
    "other size": (["compare", "{ckpt}", "--out", "{tmp}/c.png", "--models", "{big}"], 2, "20"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, ckpt12, ckpt20):
    """Every command line of GOOD and BAD, run side by side (each imports torch: ~2 s)."""
    tmp = tmp_path_factory.mktemp("figures")
    other = checkpoint.save(tmp / "other.pth", checkpoint.load(ckpt12).model, {"beta": 4.0})
    values = {"ckpt": ckpt12, "tmp": tmp, "other": other, "big": ckpt20}
    lines = {name: args for name, args in GOOD.items()}
    lines |= {name: args for name, (args, _, _) in BAD.items()}

    def run(args):
        argv = [str(SCRIPT), "figure", *(a.format(**values) for a in args)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(lines, pool.map(run, lines.values()), strict=True))
    return results, tmp


@pytest.mark.parametrize("name", list(GOOD))
def test_figure_command_writes_a_png(runs, name):
    results, tmp = runs
    result = results[name]
    assert result.returncode == 0, result.stderr
    out = Path(GOOD[name][GOOD[name].index("--out") + 1].format(tmp=tmp))
    assert f"wrote {out}" in result.stdout
    with Image.open(out) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert image.width > 100 and image.height > 100


def test_figure_command_contents(runs, ckpt12):
    _, tmp = runs
    vae = checkpoint.load(ckpt12).model
    with Image.open(tmp / "t.png") as image:
        fig = stills.traversal(
            vae, np.zeros(12, np.float32), steps=4, dims=[0, 5], name="random12.pth"
        )
        np.testing.assert_array_equal(np.asarray(image), np.asarray(fig.image))


@pytest.mark.parametrize("name", list(BAD))
def test_figure_command_errors_are_one_line(runs, name):
    results, _ = runs
    result = results[name]
    _, status, word = BAD[name]
    assert result.returncode == status, result.stderr
    assert word in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
