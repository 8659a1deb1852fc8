"""URL state: a link reproduces the image; malformed values are clamped or ignored with notices."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.latent import table, urlstate
from explorer.latent.space import LatentModel


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


HOSTILE_SEARCHES = {
    "400-digit seed": ("?seed=" + "9" * 400, "clamped"),
    "400-digit negative seed": ("?seed=-" + "9" * 400, "clamped"),
    "400-digit μ": ("?mu=[" + "9" * 400 + "]", "12 dimensions"),
    "5,000-digit μ": ("?mu=[" + "9" * 5000 + "]", "not a list"),
    "5,000-digit seed": ("?seed=" + "9" * 5000, "clamped"),
    "deep nesting": ("?mu=" + "[" * 30000 + "]" * 30000, "not a list"),
    "unicode digits": ("?seed=%C2%B2%C2%B2", "not a number"),
    "too long": ("?mu=" + "1," * 40000, "too long"),
    "too many fields": ("?" + "&".join(f"k{i}=1" for i in range(200)), "too many"),
}


@pytest.mark.parametrize("case", list(HOSTILE_SEARCHES))
def test_hostile_links_give_notices_never_errors(model, case):
    search, expect = HOSTILE_SEARCHES[case]
    query, notices = urlstate.parse_search(search)
    notices += urlstate.apply_query(model, query)
    assert any(expect in notice for notice in notices), notices
    assert all("\n" not in notice and len(notice) < 200 for notice in notices)
    assert model.image is not None and model.message == ""


@pytest.mark.parametrize(
    ("raw", "seed", "notice"),
    [
        ("-5", 0, "was clamped to 0"),
        ("2147483648", 2**31 - 1, "was clamped to 2147483647"),
        ("9" * 400, 2**31 - 1, "was clamped to 2147483647"),
        ("-" + "9" * 400, 0, "was clamped to 0"),
        ("1e999", 42, "is not a number: ignored"),  # the seed stays
        ("2147483647", 2**31 - 1, None),
        (" 7.6 ", 8, None),
    ],
)
def test_a_links_seed_is_clamped_to_the_seed_bounds(model, raw, seed, notice):
    model.seed = 42
    notices = urlstate.apply_query(model, {"seed": raw})
    assert model.seed == seed
    assert len(notices) == (notice is not None) and all(notice in n for n in notices), notices


def test_huge_values_inside_lists_are_ignored(model):
    before = list(model.mu)
    notices = urlstate.apply_query(model, {"mu": "[" + ",".join(["1e999"] * 12) + "]"})
    assert model.mu == before and any("not finite" in n for n in notices), notices
    notices = urlstate.apply_query(model, {"mu": json.dumps([10**400] * 12)})
    assert model.mu == before and any("not finite" in n for n in notices), notices


def test_seed_round_trips_through_the_search_string(model):
    model.param.update(seed=123, mode="prior")
    query, notices = urlstate.parse_search(urlstate.search_string(model))
    assert notices == [] and query["seed"] == "123" and query["mode"] == "prior"


@pytest.mark.parametrize("seed", [0, 123])
def test_a_link_to_the_prior_keeps_its_seed(model, ckpt12, seed):
    """Switching to the prior draws a new seed; a link's own seed wins (even the current one)."""
    assert model.mode == "sample" and model.seed == 0
    assert urlstate.apply_query(model, {"mode": "prior", "seed": str(seed)}) == []
    assert model.mode == "prior" and model.seed == seed


def test_clamped_notices_name_the_bounds(model):
    notices = urlstate.apply_query(model, {"mu": [9.0] + [0.0] * 11, "z": [-5.0] * 12})
    assert "mu: 1 value(s) outside [-3, 3]: clamped" in notices
    assert "z: 12 value(s) outside [-4, 4]: clamped" in notices
    assert model.mu[0] == 3.0 and model.z_set == [-4.0] * 12


def test_a_links_vector_reads_strictly_as_typed(model):
    """A vector copied from a link is what the command line's --z takes."""
    model.param.update(z_set=[round(0.3 * i - 1.5, 4) for i in range(12)])
    query = urlstate.to_query(model)
    assert table.Z_SET.bounds.parse(query["z"], 12) == model.z_set
    assert table.MU.bounds.parse(query["mu"], 12) == model.mu
