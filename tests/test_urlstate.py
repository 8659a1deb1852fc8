"""URL state: a link reproduces the image; malformed values are clamped or ignored with notices."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer import urlstate
from explorer.latent import LatentModel


@pytest.fixture
def model(ckpt12) -> LatentModel:
    return LatentModel(checkpoint=str(ckpt12))


def test_round_trip_reproduces_image(model, ckpt12):
    model.param.update(mode="sample", mu=[0.1 * i for i in range(12)], sigma=[0.5] * 12, seed=42)
    query = urlstate.to_query(model)
    other = LatentModel(checkpoint=str(ckpt12))
    assert urlstate.apply_query(other, query) == []
    np.testing.assert_allclose(other.image, model.image, atol=1e-6)
    assert other.seed == 42 and other.mode == "sample"


def test_path_checkpoints_stay_out_of_the_url(model):
    assert "model" not in urlstate.to_query(model)


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ({"mode": "warp"}, "mode"),
        ({"seed": "abc"}, "seed"),
        ({"seed": -5}, "clamped"),
        ({"mu": "[1, 2"}, "not a list"),
        ({"mu": json.dumps([9.0] * 12)}, "clamped"),
        ({"sigma": [0.5] * 3}, "3 values"),
        ({"z": "[1, NaN, 2]"}, "not finite"),
        ({"mu": ["x"] * 12}, "not finite"),
        ({"model": "no-such-model"}, "not a bundled model"),
    ],
)
def test_malformed_values_give_notices(model, query, expect):
    notices = urlstate.apply_query(model, query)
    assert any(expect in notice for notice in notices), notices
    assert model.image is not None and model.message == ""


def test_clamps_into_bounds(model):
    urlstate.apply_query(model, {"mu": [9.0, -9.0] + [0.0] * 10, "sigma": [5.0] * 12})
    assert model.mu[:2] == [3.0, -3.0]
    assert model.sigma == [2.0] * 12


def test_wrong_length_is_fitted(model):
    urlstate.apply_query(model, {"mu": [1.0] * 20})
    assert model.mu == [1.0] * 12
    urlstate.apply_query(model, {"mu": [2.0] * 3})
    assert model.mu == [2.0] * 3 + [1.0] * 9
