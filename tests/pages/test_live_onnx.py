"""The living page of any VAE the explorer opens: ONNX decoders (written here from small torch
modules with torch's exporters, and the zoo's model through `vae-explorer export-onnx`), live
modules, grey and colour, 28 to 64 pixels.

Their layers are checked against torch and the explorer's own decode; operators the page cannot
run are refused at export with one line. The pages are written by `vae-explorer export --live`,
opened from their files with every other request refused, and what they hold (the forward
pass's floats, and the image source's pixels: grey floats or packed RGBA) compared with the
model's decode of the z they show.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from test_live import SCRIPT, Z_SHOWN, choose_mode, export_live, open_live, press, random_bn
from torch import nn

from explorer import checkpoint
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel
from explorer.pages import layers

LATENT = 6
TOLERANCE = 1e-4  # the bound for the page against the server's decode
IMAGE_FLOATS = "() => ({shape: window.vaeImage.shape, data: Array.from(window.vaeImage.data)})"
PIXELS = """() => {
  for (const doc of Bokeh.documents) {
    const source = doc.get_model_by_name('latent-image-source');
    if (source) return Array.from(source.data.image[0]);
  }
  return null;
}"""


# -- models ----------------------------------------------------------------------------------
class Affine(nn.Module):
    """z @ W + b written out, which torch exports as MatMul then Add (not Gemm)."""

    def __init__(self, ins: int, outs: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(ins, outs) / ins**0.5)
        self.bias = nn.Parameter(torch.randn(outs) * 0.1)

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def grey_conv(side: int = 28) -> nn.Module:
    """z → [batch, 1, side, side] logits: MatMul+Add, BatchNorm1d and 2d, LeakyReLU, Conv2d,
    Tanh, ConvTranspose2d."""
    torch.manual_seed(11)
    start = side // 4
    net = nn.Sequential(
        Affine(LATENT, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 16 * start * start), nn.Unflatten(1, (16, start, start)),
        nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Tanh(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1),
    )  # fmt: skip
    return random_bn(net)


def rgb_conv(side: int) -> nn.Module:
    """z → [batch, 3, side, side] in [0, 1] through ConvTranspose and BatchNorm, each channel
    leaning its own way (a colour picture, not a grey one)."""
    torch.manual_seed(12)
    start = side // 4
    net = nn.Sequential(
        nn.Linear(LATENT, 16 * start * start), nn.Unflatten(1, (16, start, start)),
        nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Sigmoid(),
    )  # fmt: skip
    with torch.no_grad():
        net[0].weight.mul_(3)
        net[5].bias.copy_(torch.tensor([1.0, -0.5, 0.2]))
    return random_bn(net)


def export_onnx(module: nn.Module, path: Path, *, dynamo: bool = False, **meta) -> Path:
    """torch's exporter as a researcher calls it (dynamo: torch's default, weights beside the
    graph in NAME.onnx.data), then our metadata (e.g. output="sigmoid") added."""
    example = torch.randn(2, LATENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(
                module, (example,), path, dynamic_shapes=({0: torch.export.Dim("batch")},)
            )
        else:
            torch.onnx.export(
                module, (example,), path, input_names=["z"], dynamo=False,
                dynamic_axes={"z": {0: "batch"}},
            )  # fmt: skip
    if meta:
        model = onnx.load(path)
        onnx.helper.set_model_props(model, {f"vae_explorer.{k}": v for k, v in meta.items()})
        onnx.save(model, path)
    return path


def torch_images(module: nn.Module, z: np.ndarray, output: str = "linear") -> np.ndarray:
    with torch.no_grad():
        raw = module(torch.as_tensor(z, dtype=torch.float32))
    return (torch.sigmoid(raw) if output == "sigmoid" else raw.clamp(0, 1)).numpy()


def z_batch(n: int = 6) -> np.ndarray:
    return 2 * np.random.default_rng(5).standard_normal((n, LATENT)).astype(np.float32)


# -- layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript-exporter", "dynamo-exporter"])
def test_a_grey_onnx_conv_decoder_becomes_layers_that_decode_as_torch(tmp_path, dynamo):
    module = grey_conv()
    path = export_onnx(module, tmp_path / "grey.onnx", dynamo=dynamo, output="sigmoid")
    vae = checkpoint.load(str(path)).model
    net = layers.decoder_layers(vae)
    kinds = [layer["type"] for layer in net]
    assert kinds[-1] == "sigmoid" and "batchnorm" not in kinds and "affine" not in kinds, kinds
    assert {"linear", "leaky_relu", "conv2d", "tanh", "conv_transpose2d"} <= set(kinds)
    z = z_batch()
    got = layers.forward(net, z)
    assert got.shape == (len(z), 1, 28, 28)
    np.testing.assert_allclose(got, torch_images(module, z, "sigmoid"), rtol=0, atol=1e-5)


@pytest.mark.parametrize("side", [32, 64])
def test_an_rgb_onnx_decoder_becomes_layers_clipped_as_shown(tmp_path, side):
    module = rgb_conv(side)
    vae = checkpoint.load(str(export_onnx(module, tmp_path / "rgb.onnx"))).model
    net = layers.decoder_layers(vae)
    assert net[-1] == {"type": "clip"}  # a linear output: shown clipped, as the server does
    z = z_batch()
    np.testing.assert_allclose(layers.forward(net, z), torch_images(module, z), rtol=0, atol=1e-5)


def test_an_onnx_decoder_of_h_by_w_images_ends_in_c_h_w(tmp_path):
    torch.manual_seed(2)
    module = nn.Sequential(nn.Linear(LATENT, 24 * 16), nn.Unflatten(1, (24, 16))).eval()
    vae = checkpoint.load(str(export_onnx(module, tmp_path / "wide.onnx"))).model
    net = layers.decoder_layers(vae)
    assert [layer["type"] for layer in net] == ["linear", "reshape", "clip"]
    assert net[1]["shape"] == [1, 24, 16]


@pytest.fixture(scope="module")
def zoo_onnx(tmp_path_factory) -> Path:
    """The zoo's model as a user shares it: `vae-explorer export-onnx`."""
    out = tmp_path_factory.mktemp("zoo") / "mnist-beta1.onnx"
    result = subprocess.run(
        [SCRIPT, "export-onnx", "mnist-beta1", "--out", out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_the_zoo_model_exported_to_onnx_gives_the_torch_layers(zoo_onnx):
    torch_vae = checkpoint.load("mnist-beta1").model
    from_torch = layers.decoder_layers(torch_vae)
    from_onnx = layers.decoder_layers(checkpoint.load(str(zoo_onnx)).model)
    assert [layer["type"] for layer in from_onnx] == [layer["type"] for layer in from_torch]
    z = z_batch(8).repeat(2, axis=1)  # 12 dimensions
    with torch.no_grad():
        expected = torch_vae.decode(torch.as_tensor(z)).numpy()
    np.testing.assert_allclose(layers.forward(from_onnx, z), expected, rtol=0, atol=1e-5)


class Softplus(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 28 * 28)

    def forward(self, z):
        return nn.functional.softplus(self.fc(z)).view(-1, 1, 28, 28)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 28 * 28)
        self.skip = nn.Linear(LATENT, 28 * 28)

    def forward(self, z):
        return (self.fc(z) + self.skip(z)).view(-1, 1, 28, 28)


class Swapped(nn.Module):
    """A Transpose that moves data: the image turned on its side."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 28 * 32)

    def forward(self, z):
        return self.fc(z).view(-1, 1, 28, 32).transpose(2, 3)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (Softplus, r"cannot run the ONNX operator Softplus \(Softplus node .*\); it runs Gemm"),
        (Residual, "not a plain chain"),
        (Swapped, "Transpose node .*: it reorders the data"),
    ],
)
def test_an_onnx_decoder_the_page_cannot_run_is_refused_in_one_line(tmp_path, module, message):
    vae = checkpoint.load(str(export_onnx(module().eval(), tmp_path / "odd.onnx"))).model
    with pytest.raises(layers.LayerError, match=message) as caught:
        layers.decoder_layers(vae)
    assert "\n" not in str(caught.value)


def test_cli_refuses_an_unsupported_operator_with_one_line(tmp_path):
    path = export_onnx(Softplus().eval(), tmp_path / "softplus.onnx")
    out = tmp_path / "page.html"
    result = subprocess.run(
        [SCRIPT, "export", path, "--live", "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Softplus" in lines[0] and "living page" in lines[0], lines
    assert not out.exists()


class LiveVAE(nn.Module):
    """A notebook's VAE: decode(z) gives diffusers' .sample-style output, [batch, H, W]."""

    latent_dim = LATENT

    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.decoder = nn.Sequential(nn.Linear(LATENT, 32), nn.ReLU(), nn.Linear(32, 20 * 24))

    def decode(self, z):
        return self.decoder(z).view(-1, 20, 24)


def test_a_live_module_is_traced_and_plain_python_is_refused_in_one_line():
    model = LatentModel.of(LiveVAE(), "notebook", output="sigmoid")
    net = layers.decoder_layers(model.vae)
    assert [layer["type"] for layer in net] == ["linear", "relu", "linear", "reshape", "sigmoid"]
    z = z_batch()
    with torch.no_grad():
        expected = model.vae.decode(torch.as_tensor(z)).numpy()
    np.testing.assert_allclose(layers.forward(net, z), expected, rtol=0, atol=1e-5)

    class Plain:
        latent_dim = LATENT

        def decode(self, z):
            return torch.zeros(len(z), 1, 16, 16)

    plain = LatentModel.of(Plain(), "plain")
    with pytest.raises(layers.LayerError, match="plain Python") as caught:
        layers.decoder_layers(plain.vae)
    assert "\n" not in str(caught.value)


# -- pages -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def onnx_pages(tmp_path_factory, zoo_onnx) -> dict[str, tuple[Path, Path]]:
    """(model, page) for each kind of ONNX decoder, the page written by the CLI."""
    folder = tmp_path_factory.mktemp("live-onnx")
    models = {
        "grey28": export_onnx(grey_conv(), folder / "grey28.onnx", output="sigmoid"),
        "rgb32": export_onnx(rgb_conv(32), folder / "rgb32.onnx"),
        "rgb64": export_onnx(rgb_conv(64), folder / "rgb64.onnx", dynamo=True),  # with .data
        "zoo": zoo_onnx,
    }
    assert (folder / "rgb64.onnx.data").exists()
    return {
        name: (path, export_live(str(path), folder / f"{name}.html", "--seed", "3"))
        for name, path in models.items()
    }


def check_page_matches_decode(page, vae) -> np.ndarray:
    """The page's image against the model's decode of the z it shows: its floats within
    TOLERANCE, its pixels exactly what the explorer draws for them (grey: the floats, rows
    bottom-up; RGB: 8-bit levels as to_uint8 rounds them, packed R, G, B, A little endian)."""
    z = np.asarray(page.evaluate(Z_SHOWN), np.float32)
    floats = page.evaluate(IMAGE_FLOATS)
    channels, height, width = vae.image_shape
    assert floats["shape"] == [channels, height, width]
    image = np.asarray(floats["data"], np.float32).reshape(channels, height, width)
    with torch.no_grad():
        expected = vae.decode(torch.as_tensor(z[None])).numpy()[0]
    np.testing.assert_allclose(image, expected, rtol=0, atol=TOLERANCE)
    pixels = np.asarray(page.evaluate(PIXELS))
    if channels == 1:
        np.testing.assert_array_equal(pixels.astype(np.float32), image[0][::-1].ravel())
    else:
        packed = pixels.astype("<u4").view(np.uint8).reshape(height, width, 4)[::-1]
        np.testing.assert_array_equal(packed[..., :3], to_uint8(image.transpose(1, 2, 0)))
        assert (packed[..., 3] == 255).all()
        server = to_uint8(expected.transpose(1, 2, 0)).astype(int)
        assert np.abs(packed[..., :3].astype(int) - server).max() <= 1
    return z


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["grey28", "rgb32", "rgb64", "zoo"])
def test_an_onnx_page_decodes_like_the_server_offline(browser, onnx_pages, name):
    source, path = onnx_pages[name]
    vae = checkpoint.load(str(source)).model
    page, log = open_live(browser, path)
    try:
        first = check_page_matches_decode(page, vae)
        press(page, "latent-mu-0", "ArrowRight", 15)
        moved = check_page_matches_decode(page, vae)
        assert moved[0] == pytest.approx(first[0] + 0.15, abs=1e-5)
        choose_mode(page, "Set z exactly")
        page.wait_for_function(f"() => ({Z_SHOWN})().every(v => v === 0)")
        press(page, f"latent-z-{vae.latent_dim - 1}", "ArrowLeft", 80)
        press(page, "latent-z-1", "ArrowRight", 150)
        z = check_page_matches_decode(page, vae)
        assert (z[1], z[-1]) == pytest.approx((1.5, -0.8), abs=1e-6)
        assert log["errors"] == [] and log["refused"] == []
    finally:
        page.context.close()
