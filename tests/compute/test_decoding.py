"""Decoding a latent vector to an image (explorer.compute.decoding), and PNG encoding."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.compute import decoding
from explorer.compute.decoding import decode_image
from explorer.figures.png import MAX_SCALE, to_png_bytes, to_uint8
from explorer.formats import module
from explorer.model import VAE, VAEConfig


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=4)).eval().requires_grad_(False)


@pytest.mark.parametrize(
    "z",
    [
        [0.5, -1.0, 2.0, 0.0],
        np.array([0.5, -1.0, 2.0, 0.0]),
        torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64),
    ],
    ids=["list", "numpy", "tensor"],
)
def test_decode_image(model, z):
    image = decode_image(model, z)
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.float32 and image.shape == (28, 28)
    assert image.min() >= 0 and image.max() <= 1
    expected = model.decode(torch.tensor([[0.5, -1.0, 2.0, 0.0]]))[0, 0].numpy()
    np.testing.assert_allclose(image, expected, rtol=0, atol=1e-6)


def test_decode_image_builds_no_graph_and_leaves_the_model_alone():
    torch.manual_seed(1)
    model = VAE(VAEConfig(latent_dim=2)).eval()  # gradients on, as after training
    z = torch.zeros(2, requires_grad=True)
    image = decode_image(model, z)
    assert not model.training
    assert all(p.requires_grad for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())
    assert image.flags.writeable and image.shape == (28, 28)


@pytest.mark.parametrize(
    ("z", "message"),
    [
        ([0.0, 1.0], "shape \\(4,\\)"),
        ([[0.0, 1.0, 2.0, 3.0]], "shape \\(4,\\)"),
        ([0.0, float("nan"), 0.0, 0.0], "finite"),
        ([0.0, float("inf"), 0.0, 0.0], "finite"),
    ],
)
def test_decode_image_rejects(model, z, message):
    with pytest.raises(ValueError, match=message):
        decode_image(model, z)


def test_to_uint8_rounds_and_clips():
    image = np.array([[0.0, 1.0, 0.5, 1 / 255], [-0.5, 1.5, 0.499 / 255, 0.501 / 255]])
    assert to_uint8(image).tolist() == [[0, 255, 128, 1], [0, 255, 0, 1]]
    assert to_uint8(image).dtype == np.uint8


def read_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("scale", [1, 3, MAX_SCALE])
def test_to_png_bytes(scale):
    image = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    png = read_png(to_png_bytes(image, scale))
    assert (png.format, png.mode, png.size) == ("PNG", "L", (28 * scale, 28 * scale))
    pixels = np.asarray(png)
    np.testing.assert_array_equal(pixels[::scale, ::scale], to_uint8(image))
    blocks = pixels.reshape(28, scale, 28, scale)
    assert (blocks == blocks[:, :1, :, :1]).all()  # nearest neighbour: constant blocks


def test_to_png_bytes_keeps_width_and_height_apart():
    image = np.zeros((2, 3), dtype=np.float32)
    image[0, 2] = 1.0
    png = read_png(to_png_bytes(image, 2))
    assert png.size == (6, 4)
    assert png.getpixel((5, 1)) == 255 and png.getpixel((0, 3)) == 0


@pytest.mark.parametrize(
    ("image", "scale", "message"),
    [
        (np.zeros((28, 28)), 0, "scale"),
        (np.zeros((28, 28)), MAX_SCALE + 1, "scale"),
        (np.zeros((28, 28)), 2.0, "scale"),
        (np.zeros((28, 28)), True, "scale"),
        (np.zeros((1, 28, 28)), 1, "2-d"),
        (np.full((28, 28), np.nan), 1, "NaN"),
    ],
)
def test_to_png_bytes_rejects(image, scale, message):
    with pytest.raises(ValueError, match=message):
        to_png_bytes(image, scale)


class Colour(torch.nn.Module):
    """z (2) → a 3×16×8 image whose channels are z₀, z₁ and their mean, through a sigmoid; and
    back: μ = the red and green channels' means."""

    latent_dim = 2

    def decode(self, z):
        rgb = torch.stack([z[:, 0], z[:, 1], z.mean(1)], 1)
        return torch.sigmoid(rgb)[:, :, None, None].expand(-1, 3, 16, 8)

    def encode(self, x):
        mu = x[:, :2].mean((2, 3))
        return mu, torch.zeros_like(mu)


def test_colour_images_are_shown_channels_last_and_encoded_back():
    model = module.wrap(Colour(), "colour").model
    image = decoding.decode_image(model, [2.0, -2.0])
    assert image.shape == (16, 8, 3)
    np.testing.assert_allclose(
        image[0, 0], 1 / (1 + np.exp(-np.array([2.0, -2.0, 0.0]))), rtol=1e-6
    )
    grid = decoding.decode(model, np.zeros((5, 2), np.float32))
    assert grid.shape == (5, 16, 8, 3)
    mu, _ = decoding.encode(model, (image * 255).astype(np.uint8))  # as a bundled sample
    np.testing.assert_allclose(mu[0], image[0, 0, :2], atol=1 / 255)
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 16, 8, 3\)"):
        decoding.encode(model, np.zeros((1, 16, 8)))
