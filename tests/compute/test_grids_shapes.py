"""explorer.compute.grids on models of other shapes: every grid and mosaic follows the model's
image, an RGB 64×64 and a grey 32×32 (real torch modules, wrapped as the explorer opens them)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.compute import decoding, grids
from explorer.formats import module
from tests.formats.factories import LATENT, colour_conv64, grey_conv32

Z = np.array([0.5, -1.0, 1.5, 0.25], np.float32)


@pytest.fixture(scope="module")
def models():
    return {
        "rgb64": module.wrap(colour_conv64(), "rgb64").model,
        "grey32": module.wrap(grey_conv32(), "grey32").model,
    }


SHOWN = {"rgb64": (64, 64, 3), "grey32": (32, 32)}


def cell(image: np.ndarray, row: int, col: int, shown: tuple, pad: int = grids.PAD):
    """Cell (row, col) of a mosaic of images of ``shown`` shape."""
    h, w = shown[:2]
    top, left = pad + row * (h + pad), pad + col * (w + pad)
    return image[top : top + h, left : left + w]


@pytest.mark.parametrize("name", list(SHOWN))
def test_grids_follow_the_models_image(models, name):
    vae, shown = models[name], SHOWN[name]
    traversal = grids.traversal(vae, Z, steps=3, dims=[0, 2])
    assert traversal.shape == (2, 3, *shown)
    z = Z.copy()
    z[2] = grids.SPAN[1]
    np.testing.assert_allclose(traversal[1, 2], decoding.decode_image(vae, z), atol=1e-6)
    assert grids.samples(vae, Z, np.ones(LATENT), 5, seed=1).shape == (5, *shown)
    manifold = grids.manifold(vae, Z, (0, 1), n=3)
    assert manifold.shape == (3, 3, *shown)
    assert grids.interpolation(vae, Z, -Z, steps=4, t=0.5).shape == (5, *shown)

    mosaic = grids.traversal_image(vae, Z, [0, 2], 3)
    h, w = shown[:2]
    assert mosaic.shape == (2 * (h + 1) + 1, 3 * (w + 1) + 1, *shown[2:])
    np.testing.assert_array_equal(cell(mosaic, 1, 2, shown), traversal[1, 2])
    assert (mosaic[0] == 0.5).all()  # the padding, in every channel
    flat = grids.manifold_image(vae, Z, (0, 1), 3)
    assert flat.shape == (3 * h, 3 * w, *shown[2:])
    np.testing.assert_array_equal(flat[h : 2 * h, 2 * w :], manifold[1, 2])

    triptych = grids.triptych(vae, Z)
    assert triptych.shape == (h + 2, 3 * (w + 1) + 1, *shown[2:])
    assert (cell(triptych, 0, 0, shown) == 0).all()  # blank until given
    np.testing.assert_array_equal(cell(triptych, 0, 2, shown), decoding.decode_image(vae, Z))
    given = np.full(shown, 0.25, np.float32)
    np.testing.assert_array_equal(cell(grids.triptych(vae, Z, given), 0, 0, shown), given)

    pair = grids.side_by_side([vae, vae], Z)
    assert pair.shape == (h + 2, 2 * (w + 1) + 1, *shown[2:])
    draws = grids.prior_draws(LATENT, 2, seed=3)
    compare = grids.compare_image([vae, vae], Z, draws)
    assert compare.shape == (2 * (h + 1) + 1, 3 * (w + 1) + 1, *shown[2:])
    np.testing.assert_allclose(
        cell(compare, 1, 2, shown), decoding.decode_image(vae, draws[1]), atol=1e-6
    )
    assert grids.decoded_by_each([vae, vae], draws).shape == (2, 2, *shown)


def test_a_mosaic_of_rgb_cells_is_rgb():
    images = np.random.default_rng(0).random((5, 8, 10, 3)).astype(np.float32)
    tiled = grids.mosaic(images, ncols=3, pad=1, fill=0.5)
    assert tiled.shape == (2 * 9 + 1, 3 * 11 + 1, 3)
    np.testing.assert_array_equal(tiled[10:18, 12:22], images[4])  # row 1, column 1
    assert (tiled[10:18, 23:33] == 0.5).all()  # the missing sixth cell
    rows = grids.mosaic(images[:4].reshape(2, 2, 8, 10, 3), pad=0)
    assert rows.shape == (16, 20, 3)
    np.testing.assert_array_equal(rows[8:, 10:], images[3])
    # N×H×W×3 with rgb=True, whatever the width; rows×cols×H×W (width 3) stays grey
    narrow = np.random.default_rng(1).random((2, 4, 3, 3)).astype(np.float32)
    assert grids.mosaic(narrow, pad=0, rgb=True).shape == (4, 6, 3)
    assert grids.mosaic(narrow, pad=0).shape == (6, 12)
    with pytest.raises(ValueError, match="N×H×W×3"):
        grids.mosaic(images[0], rgb=True)


def test_cells_of_rectangular_images():
    # a mosaic of 7 images of 16×40 (H×W) in rows of 3, padded by 1
    assert grids.cell_bounds(4, 3, (16, 40), 1) == (42, 18, 82, 34)
    assert grids.cell_index(45, 20, 7, 3, (16, 40), 1) == 4
    assert grids.cell_index(45, 40, 7, 3, (16, 40), 1) is None  # past the seventh
    assert grids.cell_at(1000, 20, (3, 3), (16, 40), 1) == (1, 2)  # clamped
    assert grids.cell_bounds(4, 3, 28, 1) == (30, 30, 58, 58)  # a side: square, as before
