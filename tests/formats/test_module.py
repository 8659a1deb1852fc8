"""Live VAEs: a notebook's module or object (LatentModel.of), and the operator's --model factory.
Code is imported only by a name the operator gave; a browser's name never is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import safetensors.torch
import torch
from pagejs import IMAGE

from explorer.compute import noise
from explorer.formats import module
from explorer.formats.base import CheckpointError
from explorer.latent.space import LatentModel
from tests.formats.factories import LATENT, GreyMLP

FACTORY = "tests.formats.factories:grey_mlp"


def test_a_live_module_is_explored_as_it_decodes():
    net = GreyMLP()
    latent = LatentModel.of(net, "mine")
    assert latent.message == "" and latent.info.format == "module"
    assert (latent.latent_dim, latent.info.image_shape) == (LATENT, (1, 28, 28))
    latent.param.update(mu=[0.5] * LATENT, seed=3)
    z = torch.from_numpy(latent.z)[None]
    np.testing.assert_allclose(latent.z, 0.5 + noise.standard_normal(3, LATENT), atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(latent.image, net.decode(z)[0, 0].numpy(), atol=1e-6)
    mu, logvar = latent.vae.encode(torch.rand(2, 1, 28, 28))
    assert mu.shape == logvar.shape == (2, LATENT)
    latent.device = "cpu"  # a reload finds the same object by its name, never a file
    assert latent.message == "" and latent.info.source == "mine"


class DiffusersLike:
    """Not a module: decode gives an object with .sample, encode one with .latent_dist."""

    def __init__(self):
        self.config = SimpleNamespace(latent_channels=3)

    def decode(self, z):
        return SimpleNamespace(sample=torch.sigmoid(z.sum(1))[:, None, None].expand(-1, 16, 16))

    def encode(self, x):
        mean = x.mean((1, 2, 3))[:, None].expand(-1, 3)
        return SimpleNamespace(
            latent_dist=SimpleNamespace(mean=mean, logvar=torch.zeros_like(mean))
        )


class PythaeLike:
    """decode gives .reconstruction (logits); encode gives embedding and log_covariance."""

    latent_dim = 2

    def decode(self, z):
        return SimpleNamespace(reconstruction=z[:, :1, None, None].expand(-1, 1, 8, 8) * 1.0)

    def encode(self, x):
        return SimpleNamespace(embedding=x[:, 0, 0, :2], log_covariance=x[:, 0, 1, :2])


def test_the_common_output_shapes_are_adapted():
    diffusers = LatentModel.of(DiffusersLike(), "diffusers", mode="deterministic")
    assert diffusers.info.image_shape == (1, 16, 16)  # [batch, H, W]: grey
    diffusers.z_set = [1.0, 0.5, -0.5]
    np.testing.assert_allclose(diffusers.image, 1 / (1 + np.exp(-1.0)), rtol=1e-6)
    mu, logvar = diffusers.vae.encode(torch.full((1, 1, 16, 16), 0.25))
    np.testing.assert_allclose(mu.numpy(), 0.25)
    np.testing.assert_allclose(logvar.numpy(), 0.0)

    pythae = LatentModel.of(PythaeLike(), "pythae", output="sigmoid", mode="deterministic")
    pythae.z_set = [2.0, 0.0]
    np.testing.assert_allclose(pythae.image, 1 / (1 + np.exp(-2.0)), rtol=1e-6)
    x = torch.arange(64.0).view(1, 1, 8, 8)
    mu, logvar = pythae.vae.encode(x)
    assert mu.tolist() == [[0.0, 1.0]] and logvar.tolist() == [[8.0, 9.0]]


@pytest.mark.parametrize(
    "vae, options, message",
    [
        (object(), {}, "has no decode"),
        (SimpleNamespace(decode=lambda z: z), {}, "say its latent size"),
        (SimpleNamespace(decode=lambda z: 1 / 0), {"latent_dim": 2}, "ZeroDivisionError"),
        (
            SimpleNamespace(decode=lambda z: torch.zeros(len(z), 4, 8, 8)),
            {"latent_dim": 2},
            "grey or RGB, not 4 channels",
        ),
        (
            SimpleNamespace(decode=lambda z: torch.zeros(len(z), 4, 4)),
            {"latent_dim": 2},
            "sides must be 8 to 512",
        ),
        (SimpleNamespace(decode=lambda z: "image"), {"latent_dim": 2}, "a str, not a tensor"),
    ],
)
def test_what_cannot_be_explored_gets_one_line(vae, options, message):
    with pytest.raises(CheckpointError, match=message) as caught:
        module.wrap(vae, "bad", **options)
    assert "\n" not in str(caught.value)


# -- the operator's --model ----------------------------------------------------------------------
def test_a_factory_is_imported_once_and_its_weights_loaded(tmp_path):
    trained = GreyMLP(seed=5)
    safetensors.torch.save_file(trained.state_dict(), tmp_path / "w.safetensors")
    torch.save({"model_state_dict": trained.state_dict()}, tmp_path / "w.pth")
    z = torch.randn(3, LATENT)
    with torch.no_grad():
        want = trained.decode(z)
    for weights in ("w.safetensors", "w.pth"):
        loaded = module.import_factory(FACTORY, str(tmp_path / weights))
        np.testing.assert_allclose(loaded.model.decode(z).numpy(), want.numpy(), atol=1e-6)
    assert module.import_factory(FACTORY) is module.import_factory(FACTORY)  # once a process


@pytest.mark.parametrize(
    "spec, weights, message",
    [
        ("tests.formats.factories", None, "takes package.module:factory"),
        ("tests.formats.nowhere:make", None, "No module named"),
        ("tests.formats.factories:missing", None, "has no attribute"),
        ("tests.formats.factories:failing", None, "the factory failed: RuntimeError: no GPU"),
        (FACTORY, "missing.safetensors", "cannot be read"),
        (FACTORY, "other.pth", "does not fit the model"),
    ],
)
def test_a_bad_factory_or_weights_get_one_line(tmp_path, spec, weights, message):
    torch.save({"decoder.0.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match=message) as caught:
        module.import_factory(spec, str(tmp_path / weights) if weights else None)
    assert "\n" not in str(caught.value)


def test_a_name_from_a_browser_is_never_imported():
    """The same text a --model takes, typed in the page or put in a URL: a path not found."""
    os.environ.pop("VAE_EXPLORER_TRIPWIRE", None)
    latent = LatentModel(checkpoint="tests.formats.tripwire:make")
    assert "not found" in latent.message
    assert "tests.formats.tripwire" not in sys.modules
    assert "VAE_EXPLORER_TRIPWIRE" not in os.environ


def test_the_cli_refuses_a_bad_model_with_one_line():
    result = subprocess.run(
        [Path(sys.executable).with_name("vae-explorer"), "serve", "--model", "no_such_pkg:make"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "No module named" in result.stderr


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_served_app_explores_the_operators_model(start_server, browser):
    server = start_server("--model", FACTORY)
    page = browser.new_page()
    try:
        page.goto(server.url)
        page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=60000)
        shown = np.asarray(page.evaluate(IMAGE), dtype=np.float32).reshape(28, 28)[::-1]
        z = torch.from_numpy(noise.standard_normal(0, LATENT))[None]  # μ 0, σ 1, seed 0
        with torch.no_grad():
            want = GreyMLP().decode(z)[0, 0].numpy()
        np.testing.assert_allclose(shown, want, atol=1e-5)
    finally:
        page.close()
