"""The Compare and Encode views as a teacher uses them, without a browser: the zoo's real
checkpoints, real Bokeh sources.

Compare: the models in rows by β (this one marked in its place), decoding the current z and K
draws of the prior from the seed, the same latents in every row, the figure the CLI draws; and a
line saying that separately trained models' dimensions do not line up. Encode: a click boxes
the chosen image of the gallery.
"""

from __future__ import annotations

import numpy as np
import pytest
from viewtools import pixels, shown

from explorer import checkpoint, names, plots
from explorer.app.views.compare import UNALIGNED
from explorer.cli import figure
from explorer.compute import decoding, grids
from explorer.figures.png import to_uint8
from explorer.latent.space import LatentModel

STEP = grids.CELL + grids.PAD


def cell(image: np.ndarray, row: int, col: int) -> np.ndarray:
    top, left = grids.PAD + row * STEP, grids.PAD + col * STEP
    return image[top : top + grids.CELL, left : left + grids.CELL]


def tick_labels(figure) -> list[str]:
    """The rows' labels as the y axis shows them, top first."""
    overrides = figure.yaxis[0].major_label_overrides
    return [overrides[y] for y in sorted(overrides, reverse=True)]


@pytest.fixture
def compare(views):
    return shown(views, names.COMPARE)


def test_compare_rows_by_beta_each_decoding_z_and_the_same_k_prior_draws(views, model, compare):
    by_beta = ["mnist-beta0.1", "mnist-beta1", "mnist-beta10"]
    labels = ["mnist-beta0.1", "mnist-beta1 (this)", "mnist-beta10"]
    assert compare.labels == labels and tick_labels(compare.plot.figure) == labels
    assert compare.draws == 4
    nets = [checkpoint.load_shared(name).model for name in by_beta]
    nets[1] = model.vae
    model.set_value("mu", 2, 1.5)
    for k in (1, 8, 4):
        compare.draws = k  # the Prior draws select
        image = pixels(compare.plot)
        assert image.shape == (3 * STEP + 1, (1 + k) * STEP + 1)
        draws = grids.prior_draws(12, k, model.seed)
        latents = np.concatenate([model.current_z()[None], draws])
        for row, net in enumerate(nets):  # every model decodes the same latents
            expected = to_uint8(decoding.decode(net, latents))
            for col in range(1 + k):
                np.testing.assert_array_equal(cell(image, row, col), expected[col])
        assert ("one draw" if k == 1 else f"{k} draws") in compare.caption
        assert f"seed {model.seed}" in compare.caption
    before = pixels(compare.plot).copy()
    model.seed = 123  # Resample: other draws, written in place
    np.testing.assert_array_equal(
        cell(pixels(compare.plot), 2, 1),
        to_uint8(decoding.decode(nets[2], grids.prior_draws(12, 4, 123)[:1])[0]),
    )
    assert not np.array_equal(pixels(compare.plot)[:, STEP:], before[:, STEP:])
    assert "seed 123" in compare.caption


def test_the_choice_of_models_stays_in_beta_order(compare):
    assert compare.param.models.objects[:2] == ["mnist-beta0.1", "fashion-mnist-beta0.1"]
    betas = [checkpoint.load_shared(name).info.beta for name in compare.param.models.objects]
    assert betas == sorted(betas)
    compare.models = ["mnist-beta10", "fashion-mnist-beta0.1"]  # as a click in the widget adds
    assert compare.models == ["fashion-mnist-beta0.1", "mnist-beta10"]
    assert compare.labels == ["fashion-mnist-beta0.1", "mnist-beta1 (this)", "mnist-beta10"]
    compare.models = ["mnist-beta0.1"]
    assert compare.labels == ["mnist-beta0.1", "mnist-beta1 (this)"]


def test_this_model_takes_its_place_by_beta():
    from explorer.app.views.tabs import ExplorationViews

    views = ExplorationViews(LatentModel(checkpoint="mnist-beta10", rng_seed=0))
    compare = shown(views, names.COMPARE)
    assert compare.labels == ["mnist-beta0.1", "mnist-beta1", "mnist-beta10 (this)"]


def test_compare_shows_what_the_cli_figure_draws(model, compare):
    """The tab's prior draws at seed S are the CLI's `figure compare --seed S --count K` (rows
    and columns swapped: the CLI puts one draw per row, one model per column), both by β."""
    model.seed = 42
    compare.draws = 4
    fig = figure.make_still("compare", checkpoint.load("mnist-beta1"), count=4, seed=42, scale=1)
    image = pixels(compare.plot)
    for model_row in range(3):
        for draw in range(4):
            np.testing.assert_array_equal(
                fig.cell(draw, model_row), cell(image, model_row, 1 + draw)
            )


def test_compare_says_that_dimensions_do_not_line_up(compare):
    (line,) = compare.__panel__().select(
        lambda o: names.COMPARE_UNALIGNED in (getattr(o, "css_classes", None) or [])
    )
    assert line.object == UNALIGNED
    assert "do not line up" in UNALIGNED and "prior draws are comparable" in UNALIGNED


def test_encode_boxes_the_clicked_image(views, model):
    encode = shown(views, names.ENCODE)
    gallery = encode._gallery_plot
    box = gallery.figure.select_one({"name": names.ENCODE_GALLERY_BOX_SOURCE})
    assert box is gallery.layer(plots.MARKED_BOX) and list(box.data["left"]) == []  # none yet
    sample = views.data.sample()
    mosaic = pixels(gallery)
    h = mosaic.shape[0]
    for index in (0, 17, 40):
        encode.select(index)  # as a click on the image does
        left, bottom, right, top = (box.data[c][0] for c in plots.BOX_COLUMNS)
        assert (right - left, top - bottom) == (grids.CELL, grids.CELL)
        boxed = mosaic[int(h - top) : int(h - bottom), int(left) : int(right)]  # y points up
        np.testing.assert_array_equal(boxed, to_uint8(decoding.as_images(sample.images[index])[0]))
    encode.strokes.data = {"xs": [[10, 14, 18]], "ys": [[22, 14, 6]]}  # a drawing: no image boxed
    assert "drawing" in encode.note and list(box.data["left"]) == []
