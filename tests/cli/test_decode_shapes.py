"""``vae-explorer decode`` for ONNX models of other shapes: an RGB 64×64 model writes an RGB PNG
and an H×W×3 .npy, a grey 32×32 one a grey PNG and an H×W .npy, each equal to the decode. Runs
in-process through the entry point (a subprocess imports torch again), and once as installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import checkpoint
from explorer.cli.main import main
from explorer.compute.decoding import decode_image
from explorer.figures.png import to_uint8
from tests.formats.factories import ConvVAE, colour_conv64, grey_conv32, to_onnx

SCRIPT = Path(sys.executable).with_name("vae-explorer")
Z = "1.5,-0.5,0.25,-2"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("decode")
    return {
        "rgb64": to_onnx(colour_conv64(), folder / "rgb64.onnx"),
        "grey32": to_onnx(grey_conv32(), folder / "grey32.onnx"),
        "grey256": to_onnx(ConvVAE(256, 1), folder / "grey256.onnx"),
    }


def decoded(path: Path) -> np.ndarray:
    z = np.array([float(v) for v in Z.split(",")], np.float32)
    return decode_image(checkpoint.load(str(path)).model, z)


@pytest.mark.parametrize(
    ("name", "mode", "shown"), [("rgb64", "RGB", (64, 64, 3)), ("grey32", "L", (32, 32))]
)
def test_decode_writes_the_models_image(models, tmp_path, capsys, name, mode, shown):
    image = decoded(models[name])
    assert image.shape == shown
    png, npy = tmp_path / "z.png", tmp_path / "z.npy"
    assert main(["decode", str(models[name]), "--z", Z, "--out", str(png), "--scale", "3"]) == 0
    side = shown[0] * 3
    colour = "RGB " if mode == "RGB" else ""
    assert capsys.readouterr().out == f"wrote {png} ({side}x{side} {colour}png)\n"
    with Image.open(png) as written:
        assert (written.mode, written.size) == (mode, (side, side))
        pixels = np.asarray(written)
    np.testing.assert_array_equal(pixels, to_uint8(image).repeat(3, axis=0).repeat(3, axis=1))
    assert main(["decode", str(models[name]), "--z", Z, "--out", str(npy)]) == 0
    saved = np.load(npy)
    assert saved.shape == shown and saved.dtype == np.float32
    np.testing.assert_array_equal(saved, image)
    if mode == "RGB":  # colour, not grey in three channels
        assert np.abs(saved[..., 0] - saved[..., 2]).max() > 0.2
    # The torch module the ONNX file was exported from decodes the same, within 1e-5.
    module = colour_conv64() if name == "rgb64" else grey_conv32()
    z = torch.tensor([[float(v) for v in Z.split(",")]])
    with torch.no_grad():
        want = module.decode(z)[0].permute(1, 2, 0).squeeze(-1).numpy()
    np.testing.assert_allclose(saved, want, rtol=0, atol=1e-5)


def test_a_scale_too_large_for_the_models_image_is_refused(models, tmp_path, capsys):
    out = tmp_path / "big.png"
    argv = ["decode", str(models["grey256"]), "--z", Z, "--out", str(out), "--scale", "64"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "--scale 64 would make a 16384x16384 image; at most 8192 pixels a side" in error
    assert len(error.splitlines()) == 1 and not out.exists()
    assert main([*argv[:-1], "32"]) == 0  # 8192 a side: as large as it goes
    with Image.open(out) as written:
        assert written.size == (8192, 8192)


def test_the_installed_command_writes_an_rgb_png(models, tmp_path):
    out = tmp_path / "rgb.png"
    result = subprocess.run(
        [SCRIPT, "decode", models["rgb64"], "--z", Z, "--out", out],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out} (64x64 RGB png)\n"
    with Image.open(out) as written:
        assert written.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(written), to_uint8(decoded(models["rgb64"])))
