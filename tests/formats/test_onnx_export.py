"""`vae-explorer export-onnx` and formats.onnx_export: our checkpoints and a researcher's own module
written as ONNX files that open again, in the explorer, as the torch model they came from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explorer import checkpoint
from explorer.formats import module, onnx_export, onnx_file
from explorer.formats.base import CheckpointError
from explorer.latent.space import LatentModel
from explorer.model import VAE, VAEConfig
from tests.formats.factories import LATENT, GreyMLP

SCRIPT = Path(sys.executable).with_name("vae-explorer")


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=180)


def test_a_zoo_model_exported_by_the_cli_explores_as_itself(tmp_path):
    out = tmp_path / "beta10.onnx"
    result = cli("export-onnx", "mnist-beta10", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "wrote",
        str(out),
        "wrote",
        str(tmp_path / "beta10.encoder.onnx"),
    ]
    info = checkpoint.load(out).info
    assert (info.format, info.output, info.beta, info.epochs) == ("onnx", "sigmoid", 10.0, 60)
    ours, theirs = LatentModel(checkpoint=str(out)), LatentModel(checkpoint="mnist-beta10")
    for latent in (ours, theirs):
        latent.param.update(mu=[-0.7] * 12, sigma=[0.5] * 12, seed=99)
    np.testing.assert_allclose(ours.image, theirs.image, rtol=0, atol=1e-5)
    x = torch.from_numpy(theirs.image)[None, None]
    for got, want in zip(ours.vae.encode(x), theirs.vae.encode(x), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-5)
    # One file each: it goes as an upload too.
    uploaded = checkpoint.load_bytes(out.read_bytes(), "beta10.onnx")
    np.testing.assert_allclose(uploaded.model.decode(torch.zeros(1, 12)).numpy(),
                               ours.vae.decode(torch.zeros(1, 12)).numpy())  # fmt: skip


def test_a_linear_output_model_keeps_its_clipping(tmp_path):
    """A bare state dict (the original app's network: linear output, shown clipped)."""
    torch.manual_seed(0)
    net = VAE(VAEConfig(latent_dim=LATENT, output="linear"))
    torch.save(net.state_dict(), tmp_path / "weights.pth")
    loaded = checkpoint.load(tmp_path / "weights.pth")
    written = onnx_export.export(loaded.model, tmp_path / "weights.onnx", loaded.info)
    opened, info = onnx_file.load(written[0], str(written[0]))
    assert info.output == "linear"
    z = torch.randn(4, LATENT) * 3
    np.testing.assert_allclose(opened.decode(z).numpy(), loaded.model.decode(z).numpy(), atol=1e-5)


def test_a_researchers_module_is_written_and_opens(tmp_path):
    live = module.wrap(GreyMLP(seed=2), "mine").model
    written = onnx_export.export(live, tmp_path / "mine.onnx")
    assert [p.name for p in written] == ["mine.onnx", "mine.encoder.onnx"]
    opened, info = onnx_file.load(written[0], str(written[0]))
    assert (info.latent_dim, info.image_shape) == (LATENT, (1, 28, 28))
    z = torch.randn(3, LATENT)
    np.testing.assert_allclose(opened.decode(z).numpy(), live.decode(z).numpy(), atol=1e-5)


def test_what_cannot_be_written_gets_one_line(tmp_path):
    plain = module.wrap(SimpleNamespace(decode=lambda z: torch.zeros(len(z), 8, 8)), "plain",
                        latent_dim=2).model  # fmt: skip
    with pytest.raises(CheckpointError, match=r"only a torch nn\.Module"):
        onnx_export.export(plain, tmp_path / "plain.onnx")
    result = cli("export-onnx", "mnist-beta1", "--out", tmp_path / "model.pth")
    assert result.returncode == 2 and "must end in .onnx" in result.stderr
    assert not (tmp_path / "model.pth").exists()
