"""The living page: a decoder exported as layers, run by JavaScript in headless Chromium offline.

The layer export is checked against torch for our decoder, the original app's (linear output,
clipped) and other layouts; unsupported layers and non-chains fail with one line. The pages are
written by `vae-explorer export --live` (as a user runs it), opened from their files with every
other request refused, driven by the keyboard, and their images compared with `vae-explorer
decode` of the z they show.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_checkpoint, open_offline
from pagejs import BARS_TITLE, FIND, IMAGE, SLIDER
from torch import nn

from explorer import checkpoint, plots
from explorer.compute import noise
from explorer.latent.table import MODE_LABELS
from explorer.model import VAE, VAEConfig
from explorer.pages import layers, living

SCRIPT = Path(sys.executable).with_name("vae-explorer")
TOLERANCE = 1e-4  # the bound; measured errors are ~1e-6
Z_SHOWN = f"() => Array.from(({FIND})('latent-bars-source').data.z)"
SEED = f"() => ({SLIDER})('latent-seed')"  # the seed spinner's value


# -- layers ----------------------------------------------------------------------------------
def random_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random BatchNorm statistics and affine terms, so that folding them matters."""
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            module.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)
    return model.eval()


def vae_with(decoder: nn.Module, latent_dim: int, output: str = "sigmoid") -> VAE:
    vae = VAE(VAEConfig(latent_dim=latent_dim, output=output))
    vae.decoder = random_bn(decoder)
    return vae.eval()


def other_layouts() -> dict[str, VAE]:
    """Decoders written differently from ours: no new JavaScript should be needed."""
    torch.manual_seed(3)
    mlp = nn.Sequential(
        nn.Linear(5, 64),
        nn.BatchNorm1d(64),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.5),
        nn.Linear(64, 784),
        nn.Tanh(),
        nn.Unflatten(1, (1, 28, 28)),
    )
    conv = nn.Sequential(
        nn.Linear(7, 8 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (8, 7, 7)),
        nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1),  # 7 → 14
        nn.BatchNorm2d(8),
        nn.Sigmoid(),
        nn.Conv2d(8, 4, 3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(4),  # after a ReLU: nothing to fold it into, so it stays a layer
        nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1),  # 14 → 28
        nn.Identity(),
    )
    return {"mlp": vae_with(mlp, 5, "linear"), "conv": vae_with(conv, 7)}


def reference(vae: VAE, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return vae.decode(torch.as_tensor(z, dtype=torch.float32)).numpy()


def test_zoo_decoder_becomes_a_folded_chain_that_decodes_as_torch():
    vae = checkpoint.load("mnist-beta1").model
    net = layers.decoder_layers(vae)
    assert [layer["type"] for layer in net] == [
        "linear", "reshape", "conv_transpose2d", "relu", "conv_transpose2d", "relu",
        "conv_transpose2d", "sigmoid",
    ]  # fmt: skip
    own = sum(p.numel() for p in vae.decoder.parameters())
    bn = sum(p.numel() for m in vae.decoder.modules() if isinstance(m, nn.BatchNorm2d)
             for p in m.parameters())  # fmt: skip
    assert layers.parameter_count(net) == own - bn  # the BatchNorms are gone, folded
    z = 2 * np.random.default_rng(0).standard_normal((16, 12)).astype(np.float32)
    np.testing.assert_allclose(
        layers.forward(net, z), reference(vae, z), rtol=0, atol=layers.TOLERANCE
    )


def test_original_layout_is_clipped(tmp_path):
    path = original_checkpoint(tmp_path / "vae_high_kl.pth")
    vae = checkpoint.load(path).model
    net = layers.decoder_layers(vae)
    assert net[-1] == {"type": "clip"}
    z = 3 * np.random.default_rng(1).standard_normal((16, 12)).astype(np.float32)
    images = layers.forward(net, z)
    assert 0.0 < images.mean() < 1.0 and (images == 0).any() and (images == 1).any()
    np.testing.assert_allclose(images, reference(vae, z), rtol=0, atol=layers.TOLERANCE)


@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_other_layouts_export(name):
    vae = other_layouts()[name]
    net = layers.decoder_layers(vae)
    kinds = [layer["type"] for layer in net]
    assert "batchnorm" in kinds if name == "conv" else "batchnorm" not in kinds
    z = np.random.default_rng(2).standard_normal((4, vae.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(
        layers.forward(net, z), reference(vae, z), rtol=0, atol=layers.TOLERANCE
    )


def test_unsupported_layer_is_named():
    decoder = nn.Sequential(nn.Linear(4, 784), nn.GELU(), nn.Unflatten(1, (1, 28, 28)))
    with pytest.raises(layers.LayerError, match=r"cannot run 1 \(GELU\); it runs Linear"):
        layers.decoder_layers(vae_with(decoder, 4))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 784)
        self.skip = nn.Linear(4, 784)

    def forward(self, z):
        return (self.fc(z) + self.skip(z)).view(-1, 1, 28, 28)


def test_a_decoder_that_is_not_a_chain_is_refused():
    with pytest.raises(layers.LayerError, match="not a plain chain of layers"):
        layers.decoder_layers(vae_with(Residual(), 4))


def test_weights_travel_as_base64_float32():
    net = layers.decoder_layers(checkpoint.load("mnist-beta1").model)
    encoded = layers.to_json(net)
    assert encoded[0]["weight"]["shape"] == [1024, 12]
    assert len(json.dumps(encoded)) < 4 * layers.parameter_count(net) * 1.4


def original_checkpoint(path: Path) -> Path:
    """A checkpoint in the original Streamlit app's layout (its train.py's keys, linear output)."""
    torch.manual_seed(5)
    net = random_bn(VAE(VAEConfig(latent_dim=12, output="linear")))
    with torch.no_grad():
        net.decoder.deconv3.bias.fill_(0.4)
    payload = {
        "model_state_dict": net.state_dict(),
        "config": {"latent_dim": 12, "beta": 4.0, "epochs": 2},
        "train_losses": [50.0, 40.0],
        "val_losses": [51.0, 41.0],
    }
    torch.save(payload, path)
    return path


# -- pages -----------------------------------------------------------------------------------
def export_live(checkpoint_source: str, out: Path, *options: str) -> Path:
    result = subprocess.run(
        [SCRIPT, "export", checkpoint_source, "--live", "--out", out, *options],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    return out


def decode_cli(checkpoint_source: str, z: np.ndarray, tmp_path: Path) -> np.ndarray:
    """`vae-explorer decode --z` of the z a page shows (its printed digits: repr of float32)."""
    out = tmp_path / "decoded.npy"
    values = ",".join(repr(float(v)) for v in z)
    result = subprocess.run(
        [SCRIPT, "decode", checkpoint_source, "--z", values, "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return np.load(out)


def open_live(browser, path: Path):
    """The page from its file, every other request refused, once it has drawn its own image."""
    page, log = open_offline(
        browser, path, console_errors=True, viewport={"width": 1300, "height": 1000}
    )
    page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
    page.wait_for_function("() => window.vaeUpdateMs !== undefined", timeout=30000)
    return page, log


def shown(page) -> tuple[np.ndarray, np.ndarray]:
    """(z, image) as the page shows them; Bokeh's image rows run bottom to top."""
    z = np.asarray(page.evaluate(Z_SHOWN), dtype=np.float32)
    image = np.asarray(page.evaluate(IMAGE), dtype=np.float32).reshape(28, 28)[::-1]
    return z, image


def press(page, css: str, key: str, times: int) -> None:
    before = page.evaluate(IMAGE)
    handle = page.locator(f".{css} .noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press(key)
    page.wait_for_function(f"(b) => JSON.stringify(({IMAGE})()) !== JSON.stringify(b)", arg=before)


def choose_mode(page, label: str) -> None:
    page.locator(".latent-mode button", has_text=label).first.click()


def check_matches_decode(page, vae: VAE) -> np.ndarray:
    z, image = shown(page)
    np.testing.assert_allclose(image, reference(vae, z[None])[0, 0], rtol=0, atol=TOLERANCE)
    return z


@pytest.fixture(scope="module")
def pages(tmp_path_factory, ckpt20):
    folder = tmp_path_factory.mktemp("live")
    sources = {
        "zoo": "mnist-beta1",
        "original": str(original_checkpoint(folder / "vae_high_kl.pth")),
        "latent20": str(ckpt20),
        "latent128": str(make_checkpoint(folder / "random128.pth", 128, seed=3)),
    }
    mu = ",".join(["0.5"] * 12)
    options = {"zoo": ["--mu", mu, "--seed", "42"], "original": ["--seed", "7"]}
    return {
        name: (source, export_live(source, folder / f"{name}.html", *options.get(name, [])))
        for name, source in sources.items()
    }


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["zoo", "original", "latent20", "latent128"])
def test_page_decodes_like_the_cli_offline(browser, pages, name, tmp_path):
    source, path = pages[name]
    assert path.stat().st_size < 5 * 2**20
    vae = checkpoint.load(source).model
    n = vae.latent_dim
    page, log = open_live(browser, path)
    try:
        # Sample mode as exported: z = μ + σ·ε, ε from the seed as the app draws it.
        seed = page.evaluate(SEED)
        mu = np.full(n, 0.5 if name == "zoo" else 0.0, np.float32)
        eps = noise.standard_normal(seed, n)
        z = check_matches_decode(page, vae)
        np.testing.assert_allclose(z, mu + eps, rtol=0, atol=1e-6)
        press(page, "latent-mu-0", "ArrowRight", 10)
        press(page, "latent-sigma-1", "ArrowLeft", 25)
        z = check_matches_decode(page, vae)
        expected = mu + eps
        expected[0] = 0.6 + eps[0] if name == "zoo" else 0.1 + eps[0]
        expected[1] = mu[1] + 0.75 * eps[1]
        np.testing.assert_allclose(z, expected, rtol=0, atol=1e-5)
        # Set z exactly, moved by the keyboard: the CLI's decode of that z.
        choose_mode(page, "Set z exactly")
        page.wait_for_function(f"() => ({Z_SHOWN})().every(v => v === 0)")
        press(page, "latent-z-0", "ArrowRight", 30)
        press(page, f"latent-z-{n - 1}", "ArrowLeft", 120)
        press(page, "latent-z-3", "ArrowRight", 200)
        z, image = shown(page)
        assert (z[0], z[3], z[n - 1]) == pytest.approx((0.3, 2.0, -1.2), abs=1e-6)
        values = page.locator("#latent-values").inner_text()  # named from 1, as the bars are
        assert values.startswith("z1\xa0+0.3000") and f"z{n}\xa0-1.2000" in values, values
        np.testing.assert_allclose(image, decode_cli(source, z, tmp_path), rtol=0, atol=TOLERANCE)
        # The prior: z = ε, of a new seed (as in the app, the switch draws one).
        choose_mode(page, "Prior")
        prior_eps = noise.standard_normal(noise.next_seed(seed), n)
        page.wait_for_function(f"(e) => ({Z_SHOWN})()[0] === e", arg=float(prior_eps[0]))
        z = check_matches_decode(page, vae)
        np.testing.assert_allclose(z, prior_eps, rtol=0, atol=1e-6)
        assert log["errors"] == [] and log["refused"] == []
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_a_seed_gives_the_same_image_every_time(browser, pages):
    path = pages["zoo"][1]
    first, log = open_live(browser, path)
    try:
        seed = first.evaluate(SEED)
        before = shown(first)
        first.locator(".latent-resample button").first.click()
        first.wait_for_function(f"(s) => ({SEED})() !== s", arg=seed)
        assert first.evaluate(SEED) == noise.next_seed(seed)
        resampled = shown(first)
        assert not np.allclose(resampled[0], before[0])
        # A typed seed; then the page opened again with that seed shows the same image.
        field = first.locator(".latent-seed input").first
        field.fill("12345")
        field.press("Enter")
        first.wait_for_function(f"() => ({SEED})() === 12345")
        first.wait_for_function(f"(z) => ({Z_SHOWN})()[0] !== z", arg=float(resampled[0][0]))
        z, image = shown(first)
        np.testing.assert_allclose(z, 0.5 + noise.standard_normal(12345, 12), atol=1e-6)
        again, _ = open_live(browser, path)
        again.locator(".latent-seed input").first.fill("12345")
        again.locator(".latent-seed input").first.press("Enter")
        again.wait_for_function(f"() => ({SEED})() === 12345")
        again.wait_for_function(f"(z) => ({Z_SHOWN})()[0] !== z", arg=float(before[0][0]))
        assert np.array_equal(shown(again)[1], image)
        assert first.evaluate(SLIDER, "latent-mu-0") == pytest.approx(0.5)
        assert log["errors"] == [] and log["refused"] == []
        again.context.close()
    finally:
        first.context.close()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_a_mode_switch_retitles_the_chart_and_the_prior_draws_anew(browser, pages):
    """As in the app: the chart says which z it shows, and Prior draws a new ε (at the same
    seed it would decode the default sample's z, and the switch would look broken)."""
    page, log = open_live(browser, pages["zoo"][1])
    try:
        assert page.evaluate(BARS_TITLE) == plots.BARS_TITLES["sample"]
        seed = page.evaluate(SEED)
        choose_mode(page, MODE_LABELS["prior"])
        page.wait_for_function(f"(s) => ({SEED})() !== s", arg=seed)
        assert page.evaluate(SEED) == noise.next_seed(seed)
        page.wait_for_function(
            f"(e) => ({Z_SHOWN})()[0] === e",
            arg=float(noise.standard_normal(noise.next_seed(seed), 12)[0]),
        )
        assert page.evaluate(BARS_TITLE) == plots.BARS_TITLES["prior"]
        choose_mode(page, MODE_LABELS["deterministic"])
        page.wait_for_function(
            f"(t) => ({BARS_TITLE})() === t", arg=plots.BARS_TITLES["deterministic"]
        )
        assert page.evaluate(SEED) == noise.next_seed(seed)  # only the prior draws
        assert log["errors"] == [] and log["refused"] == []
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_the_javascript_runs_other_layouts(browser):
    """The same JavaScript, no new code, runs decoders of other shapes (Conv2d, LeakyReLU,
    Tanh, a standalone BatchNorm, Unflatten) as torch does."""
    page = browser.new_page()
    page.set_content(f"<script>{living.script()}</script>")
    try:
        for name, vae in other_layouts().items():
            spec = json.dumps(layers.to_json(layers.decoder_layers(vae)))
            z = np.random.default_rng(4).standard_normal(vae.latent_dim).astype(np.float32)
            got = page.evaluate(
                "([spec, z]) => Array.from(vaeForward(vaeBuild(JSON.parse(spec)), z).data)",
                [spec, z.tolist()],
            )
            expected = reference(vae, z[None]).ravel()
            np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE, err_msg=name)
    finally:
        page.close()


def test_cli_refuses_nothing_to_export_with_one_line(tmp_path):
    result = subprocess.run(
        [SCRIPT, "export", str(tmp_path / "missing.pth"), "--live", "--out", tmp_path / "p.html"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1  # as every command does for a checkpoint it cannot load
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.pth" in result.stderr
