"""The Factors view and the sliders' factor names, without a browser: a real shapes model trained
by train.py (conftest's ``shapes_ckpt``), the zoo's mnist-beta1 (labels only) and a decoder
alone. The view's numbers are checked against the scores computed here from scratch: 1000 shapes
drawn afresh, their posterior means, :func:`explorer.compute.factors.scores`."""

from __future__ import annotations

import html

import numpy as np
import pytest

from explorer import names, plots
from explorer.app.explorer import LatentExplorer
from explorer.app.views import factors as view
from explorer.app.views.session import SCORED_SHAPES, SessionData, no_encoder
from explorer.app.views.tabs import ExplorationViews
from explorer.compute import decoding, factors
from explorer.data import samples
from explorer.latent.space import LatentModel
from tests.formats.factories import DecoderOnly

pytestmark = pytest.mark.timeout(600)


def show_factors(views: ExplorationViews) -> view.FactorsView:
    index = next(k for k, v in enumerate(views.views) if v.css == names.FACTORS)
    views.show(index)
    return views.views[index]


def parts(factors_view) -> dict:
    """The view's parts by class: the MIG line's text, the heat map's figure, the table's."""
    found = {}
    for part in factors_view._body.objects:
        css = (part.css_classes or [None])[0]
        found[css] = part.objects[0].object if css == names.FACTORS_MAP else part.object
    return found


def cells(figure) -> dict[tuple[str, str], float]:
    """The heat map's cells as the page gets them: (dimension, factor) → MI."""
    data = figure.renderers[0].data_source.data
    assert figure.renderers[0].data_source.name == names.FACTORS_SOURCE
    columns = (data[plots.DIMENSION_COLUMN], data[view.FACTOR_COLUMN], data[view.VALUES_COLUMN])
    return {(d, f): float(mi) for d, f, mi in zip(*columns, strict=True)}


def expected_shapes_scores(model: LatentModel) -> factors.FactorScores:
    sample = samples.shapes_sample(SCORED_SHAPES, model.info.image_shape[1])
    codes = decoding.posterior(model.vae, sample.images)[0]
    return factors.scores(codes, sample.factors, sample.factor_names, discrete=sample.discrete)


@pytest.fixture(scope="module")
def shapes_model(shapes_ckpt):
    model = LatentModel(checkpoint=str(shapes_ckpt), rng_seed=3)
    assert model.message == ""
    return model


def test_a_shapes_model_gets_its_mi_map_mig_and_best_dimensions(shapes_model):
    expected = expected_shapes_scores(shapes_model)
    factors_view = show_factors(ExplorationViews(shapes_model))
    shown = parts(factors_view)
    assert set(shown) == {names.FACTORS_MIG, names.FACTORS_MAP, names.FACTORS_TABLE}
    assert f"MIG {expected.mig:.3f}" in shown[names.FACTORS_MIG]
    assert f"{SCORED_SHAPES} images" in shown[names.FACTORS_MIG]
    assert "averaged over 6 factors" in shown[names.FACTORS_MIG]
    got = cells(shown[names.FACTORS_MAP])
    want = {
        (f"z{d + 1}", name): expected.mi[d, k]
        for d in range(6)
        for k, name in enumerate(samples.shapes.FACTORS)
    }
    assert got.keys() == want.keys()
    assert np.allclose([got[key] for key in want], list(want.values()), atol=1e-6)
    for k, name in enumerate(expected.names):  # one row per factor: its best z and its gap
        best = f"z{expected.best[k] + 1}"
        assert (
            f"| {name} | {best} | {expected.mi[expected.best[k], k]:.3f} | "
            in (shown[names.FACTORS_TABLE])
        )
    # The figure follows the model alone: a μ move leaves it as it was.
    figure = shown[names.FACTORS_MAP]
    shapes_model.set_value("mu", 0, 1.5)
    assert parts(factors_view)[names.FACTORS_MAP] is figure


def test_a_model_without_factors_is_scored_against_its_label(model):
    factors_view = show_factors(ExplorationViews(model))  # conftest's model: mnist-beta1
    shown = parts(factors_view)
    sample = samples.load_sample("mnist-beta1", "mnist")
    codes = decoding.posterior(model.vae, sample.images)[0]
    expected = factors.scores(codes, sample.labels[:, None], ["label"], discrete=["label"])
    assert "the label (this sample has no factors)" in shown[names.FACTORS_MIG]
    assert f"MIG {expected.mig:.3f}" in shown[names.FACTORS_MIG]
    assert f"{len(sample)} images" in shown[names.FACTORS_MIG]
    got = cells(shown[names.FACTORS_MAP])
    assert {f for _, f in got} == {"label"} and len(got) == 12
    assert np.allclose([got[(f"z{d + 1}", "label")] for d in range(12)], expected.mi[:, 0])


def test_a_decoder_alone_says_it_needs_an_encoder():
    model = LatentModel.of(DecoderOnly(), "decoder-only")
    factors_view = show_factors(ExplorationViews(model))
    (note,) = factors_view._body.objects
    assert note.object == html.escape(no_encoder(view.WHAT))


def test_only_a_factor_with_a_clear_gap_is_named():
    rng = np.random.default_rng(0)
    n = 1000
    x, y, hue = (rng.uniform(0, 1, n) for _ in range(3))
    codes = np.stack(
        [
            x + rng.normal(0, 0.02, n),  # z1 carries x alone
            y + rng.normal(0, 0.02, n),  # z2 carries y alone
            hue + rng.normal(0, 0.02, n),  # z3 and z4 carry hue alike: no clear gap
            hue + rng.normal(0, 0.02, n),
            rng.normal(0, 1, n),  # z5: nothing
        ],
        axis=1,
    )
    scores = factors.scores(codes, np.stack([x, y, hue], 1), ["x", "y", "hue"])
    assert scores.gaps[0] > view.NAME_GAP and scores.gaps[1] > view.NAME_GAP
    assert scores.gaps[2] < view.NAME_GAP
    assert view.named_dimensions(scores) == {0: "x", 1: "y"}
    both = factors.scores(codes[:, [0]], np.stack([x, x], 1), ["x", "x again"])
    assert view.named_dimensions(both) == {0: "x, x again"}  # one dimension, two factors


def titles(app: LatentExplorer, name: str) -> list[str]:
    return [slider.title for slider in app.sliders.shown(name)]


def test_the_sliders_name_each_clearly_carried_factor_and_forget_them_with_the_model(
    shapes_ckpt, checkpoint_factory
):
    model = LatentModel(checkpoint=str(shapes_ckpt), rng_seed=3)
    named = view.named_dimensions(expected_shapes_scores(model))
    assert set(named.values()) >= {"x", "y"}  # this model separates them (conftest)
    app = LatentExplorer(model)  # not served: the scores are computed at once
    want = [f"μ{d + 1}" + (f" ≈ {named[d]}" if d in named else "") for d in range(6)]
    assert titles(app, "mu") == want
    assert titles(app, "sigma") == [f"σ{d + 1}" for d in range(6)]
    model.mode = "deterministic"
    assert titles(app, "z_set") == [t.replace("μ", "z") for t in want]
    model.mode = "sample"
    # A model of the same size keeps the sliders: the names go with the model that had them.
    model.checkpoint = str(checkpoint_factory("six.pth", latent_dim=6))
    assert model.message == ""
    assert titles(app, "mu") == [f"μ{d + 1}" for d in range(6)]
    model.checkpoint = str(shapes_ckpt)
    assert titles(app, "mu") == want


def test_a_label_names_no_slider_and_costs_nothing(model, monkeypatch):
    scorings = []  # the models this test's sessions score (the cache is the process's)
    score = SessionData._score
    monkeypatch.setattr(
        SessionData,
        "_score",
        lambda data, vae, *rest: scorings.append(vae) or score(data, vae, *rest),
    )
    app = LatentExplorer(model)  # conftest's model: mnist-beta1, its sample labels only
    assert all("≈" not in t for t in titles(app, "mu")) and len(titles(app, "mu")) == 12
    assert scorings == []  # not scored: only the Factors tab would
