"""``vae-explorer figure`` for models of other shapes: every kind, as PNG and as GIF, for an RGB
64×64 and a grey 32×32 ONNX model (exported from small torch modules with torch.onnx.export).
The command runs in-process through its entry point (each subprocess would import torch again);
one run goes through the installed script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer import checkpoint
from explorer.cli import figure
from explorer.cli.main import main
from explorer.compute import decoding, grids
from explorer.figures import animation, stills
from explorer.figures.png import to_uint8
from tests.formats.factories import colour_conv64, grey_conv32, to_onnx

SCRIPT = Path(sys.executable).with_name("vae-explorer")
MODES = {"rgb64": "RGB", "grey32": "L"}
A, B = "1,-1,0.5,2", "-2,0.5,1,-1"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shapes")
    return {
        "rgb64": to_onnx(colour_conv64(), folder / "rgb64.onnx"),
        "grey32": to_onnx(grey_conv32(), folder / "grey32.onnx"),
    }


def drawn(image: np.ndarray, scale: int) -> np.ndarray:
    """An image as shown as a figure draws it: 8-bit levels, each pixel a scale×scale block."""
    return to_uint8(image).repeat(scale, axis=0).repeat(scale, axis=1)


def vector(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(",")], np.float32)


# kind → (options, {(row, col): the z decoded there}, the scale the figure is drawn at)
ZERO = np.zeros(4, np.float32)
KINDS = {
    "traversal": (
        ["--dims", "0,2", "--steps", "3", "--scale", "1"],
        {(0, 0): [-3, 0, 0, 0], (1, 2): [0, 0, 3, 0]},
        1,
    ),
    "samples": (["--count", "4", "--seed", "2", "--scale", "2"], {}, 2),
    "interpolation": (["--a", A, "--b", B, "--steps", "3"], {(0, 0): A, (1, 2): B}, None),
    "manifold": (["--dims", "1,3", "--steps", "3"], {(0, 0): [0, -3, 0, 3]}, None),
    "compare": (["--count", "2", "--seed", "4"], {}, None),
}


@pytest.mark.parametrize("name", list(MODES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_figure_follows_the_models_shape_and_colour(models, tmp_path, capsys, name, kind):
    options, cells, scale = KINDS[kind]
    out = tmp_path / f"{kind}.png"
    assert main(["figure", kind, str(models[name]), "--out", str(out), *options]) == 0
    vae = checkpoint.load(str(models[name])).model
    height, width = decoding.image_shape(vae)[1:]
    if scale is None:  # by default: 64 px cells drawn at 2 (128 px), 32 px at 3 (96 px)
        scale = stills.default_scale((height, width))
        assert scale == (2 if name == "rgb64" else 3)
    with Image.open(out) as png:
        assert png.mode == MODES[name]
        pixels = np.asarray(png)
    # the PNG is the figure the command's own function draws, whose cells are the decodes
    fig = figure.make_still(kind, checkpoint.load(str(models[name])), **parsed(options))
    np.testing.assert_array_equal(pixels, np.asarray(fig.image))
    assert fig.cells[0][0][2:] == (width * scale, height * scale)
    if kind == "samples":
        cells = {(0, 0): _draws(4, 2)[0], (1, 1): _draws(4, 2)[3]}
    if kind == "compare":
        cells = {(r, 0): z for r, z in enumerate(grids.prior_draws(4, 2, 4))}
    for (row, col), z in cells.items():
        z = vector(z) if isinstance(z, str) else np.asarray(z, np.float32)
        want = drawn(decoding.decode_image(vae, z), scale)
        np.testing.assert_array_equal(fig.cell(row, col), want)
    cell = fig.cell(0, 0).astype(int)
    if name == "rgb64":  # colour: the channels differ
        assert cell.shape == (height * scale, width * scale, 3)
        assert np.abs(cell[..., 0] - cell[..., 1]).max() > 20
    else:
        assert cell.shape == (height * scale, width * scale)
    assert f"{fig.image.width}x{fig.image.height} png" in capsys.readouterr().out


def parsed(options: list[str]) -> dict:
    """The command's options as make_still takes them."""
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    kwargs = {}
    for option, value in pairs.items():
        key = option[2:]
        if key in ("a", "b"):
            kwargs[key] = vector(value)
        elif key == "dims":
            kwargs[key] = [int(v) for v in value.split(",")]
        else:
            kwargs[key] = int(value)
    return kwargs


def _draws(count: int, seed: int) -> np.ndarray:
    return grids.sample_latents(np.zeros(4), np.ones(4), count, seed)


def test_a_colour_gif_keeps_its_colours(models, tmp_path):
    out = tmp_path / "traversal.gif"
    argv = ["figure", "traversal", str(models["rgb64"]), "--out", str(out), "--dims", "0"]
    assert main([*argv, "--steps", "3", "--scale", "1"]) == 0
    vae = checkpoint.load(str(models["rgb64"])).model
    frames = animation.traversal(vae, ZERO, dims=[0], steps=3, scale=1, name="rgb64.onnx")
    with Image.open(out) as gif:
        assert gif.n_frames == len(frames) == 4
        for k, frame in enumerate(frames):
            gif.seek(k)
            shown = np.asarray(gif.convert("RGB")).astype(int)
            assert shown.shape == (*np.asarray(frame.image).shape[:2], 3)
            left, top, w, h = frame.cells[0][0]
            assert (w, h) == (64, 64)
            z = ZERO.copy()
            z[0] = grids.sweep(3)[animation.there_and_back(3)[k]]
            want = to_uint8(decoding.decode_image(vae, z)).astype(int)
            got = shown[top : top + h, left : left + w]
            # one palette of 256 colours for all frames: each pixel near, the tints as they are
            assert np.abs(got - want).mean() < 12
            np.testing.assert_allclose(got.mean(axis=(0, 1)), want.mean(axis=(0, 1)), atol=3)
            assert np.abs(got[..., 0] - got[..., 2]).max() > 20  # in colour
            assert (shown[:, :4] == 255).all()  # the margin stays white


def test_a_grey_gif_of_another_size_is_exact(models, tmp_path):
    out = tmp_path / "interpolation.gif"
    argv = ["figure", "interpolation", str(models["grey32"]), "--out", str(out)]
    assert main([*argv, "--a", A, "--b", B, "--steps", "2", "--scale", "2"]) == 0
    vae = checkpoint.load(str(models["grey32"])).model
    with Image.open(out) as gif:
        assert gif.n_frames == 2
        name = "grey32.onnx"
        frame = animation.interpolation(vae, vector(A), vector(B), steps=2, scale=2, name=name)[0]
        left, top, w, h = frame.cells[0][0]
        assert (w, h) == (64, 64)
        got = np.asarray(gif.convert("L"))[top : top + h, left : left + w]
        np.testing.assert_array_equal(got, drawn(decoding.decode_image(vae, vector(A)), 2))


def test_compare_refuses_models_of_another_shape(models, tmp_path, capsys):
    argv = ["figure", "compare", str(models["rgb64"]), "--models", str(models["grey32"])]
    assert main([*argv, "--out", str(tmp_path / "x.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert "grey32.onnx decodes 32×32 grey images" in error and "64×64 RGB" in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "x.png").exists()


def test_the_installed_command_draws_a_colour_figure(models, tmp_path):
    out = tmp_path / "samples.png"
    result = subprocess.run(
        [SCRIPT, "figure", "samples", models["rgb64"], "--out", out, "--count", "9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(out) as png:
        assert png.mode == "RGB"
        assert png.width > 3 * 64 * 2  # three cells of 128 px across
