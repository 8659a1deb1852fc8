"""explorer.latent.state: the explorer's state as JSON, back to the same image; strict input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from explorer.checkpoint import CheckpointError
from explorer.formats import onnx_export
from explorer.formats.module import wrap
from explorer.latent import state, urlstate
from explorer.latent.space import LatentModel
from tests.formats.factories import colour_conv64

SETTINGS = {
    "sample": {"mu": [0.5, -1.25] + [0.0] * 10, "sigma": [0.3] * 12, "seed": 1234},
    "prior": {"seed": 99},
    "deterministic": {"z_set": [1.5, -2.0] + [0.25] * 10},
}


@pytest.fixture
def model(ckpt12) -> LatentModel:
    return LatentModel(checkpoint=str(ckpt12), device="cpu")


@pytest.mark.parametrize("mode", list(SETTINGS))
def test_round_trip_gives_the_same_image(model, mode):
    model.param.update(mode=mode, **SETTINGS[mode])
    data = json.loads(state.dumps(model))  # through JSON text, as a download is
    assert data["mode"] == mode
    assert data["latent_dim"] == 12
    assert np.array_equal(np.asarray(data["z"], dtype=np.float32), model.z)  # float32 exact
    again = state.model_from_json(data)
    assert again is not model
    assert np.array_equal(again.z, model.z)
    assert np.array_equal(again.image, model.image)
    assert (again.mode, again.seed, again.mu, again.sigma) == (
        model.mode,
        model.seed,
        model.mu,
        model.sigma,
    )


def test_apply_json_sets_an_existing_model(model, ckpt12):
    other = LatentModel(checkpoint=str(ckpt12), device="cpu")
    other.param.update(mode="sample", **SETTINGS["sample"])
    state.apply_json(model, state.to_json(other))
    assert np.array_equal(model.image, other.image)


def test_a_prior_state_keeps_its_seed(model, ckpt12):
    """Switching to the prior draws a new seed; a state's own seed wins, even the current one."""
    other = LatentModel(checkpoint=str(ckpt12), device="cpu")
    other.mode = "prior"
    other.seed = 0
    assert model.mode == "sample" and model.seed == 0
    state.apply_json(model, state.to_json(other))  # its z is checked too
    assert model.mode == "prior" and model.seed == 0
    assert np.array_equal(model.image, other.image)


def test_apply_json_loads_the_checkpoint_it_names(model, ckpt20):
    source = LatentModel(checkpoint=str(ckpt20), device="cpu")
    source.param.update(mu=[0.5] * 20, seed=3)
    state.apply_json(model, state.to_json(source))
    assert model.latent_dim == 20
    assert model.info.source == str(ckpt20)
    assert np.array_equal(model.image, source.image)


def test_a_minimal_hand_written_state(ckpt12):
    data = {"checkpoint": str(ckpt12), "mode": "deterministic", "z_set": [1.0] * 12}
    model = state.model_from_json(data)
    assert np.array_equal(model.z, np.ones(12, dtype=np.float32))


def test_checkpoint_argument_replaces_the_one_named(model, ckpt12, checkpoint_factory):
    other = checkpoint_factory("other.pth", 12, seed=5)
    model.param.update(mode="sample", **SETTINGS["sample"])
    data = state.to_json(model)
    replaced = state.model_from_json(data, checkpoint=str(other))
    assert replaced.info.source == str(other)
    assert np.array_equal(replaced.z, model.z)  # z does not depend on the network
    assert not np.array_equal(replaced.image, model.image)


def test_a_z_that_its_settings_do_not_give_is_refused(model):
    model.param.update(mode="sample", **SETTINGS["sample"])
    data = state.to_json(model)
    data["seed"] += 1
    with pytest.raises(state.StateError, match=r"z\[0\] = .* does not match"):
        state.model_from_json(data)


def test_a_checkpoint_that_fails_is_a_checkpoint_error(model, tmp_path):
    data = state.to_json(model) | {"checkpoint": str(tmp_path / "gone.pth")}
    with pytest.raises(CheckpointError, match="not found"):
        state.model_from_json(data)
    with pytest.raises(CheckpointError, match="not found"):
        state.apply_json(model, data)
    assert model.latent_dim == 12  # the model it had is kept


def test_sizes_must_fit_the_model(model, ckpt20):
    data = state.to_json(model)
    with pytest.raises(state.StateError, match="20 latent dimensions"):
        state.model_from_json(data, checkpoint=str(ckpt20))


BAD = {
    "not an object": ([1, 2], "expected a JSON object"),
    "unknown key": ({"mood": "sample"}, "unknown key 'mood'"),
    "other format": ({"format": "something"}, "format is 'something'"),
    "newer version": ({"version": 2}, "version 2"),
    "bad mode": ({"mode": "warp"}, "mode 'warp' is unknown"),
    "seed not an int": ({"seed": 1.5}, "seed must be an integer"),
    "seed negative": ({"seed": -1}, "seed must be an integer"),
    "seed boolean": ({"seed": True}, "seed must be an integer"),
    "mu not a list": ({"mu": "0,1"}, "mu must be a non-empty list"),
    "mu empty": ({"mu": []}, "mu must be a non-empty list"),
    "mu text": ({"mu": [0, "x"]}, "mu[1] must be a number"),
    "mu out of range": ({"mu": [0, 3.5]}, "mu[1] = 3.5 is outside [-3, 3]"),
    "sigma negative": ({"sigma": [-0.1]}, "sigma[0] = -0.1 is outside [0, 2]"),
    "z NaN": ({"z": [0.0, float("nan")]}, "z[1] = nan is not a finite number"),
    "z infinite": ({"z_set": [float("inf")]}, "z_set[0] = inf is not a finite number"),
    "sizes": ({"mu": [0, 0], "sigma": [1, 1, 1]}, "sizes disagree: mu 2, sigma 3"),
    "latent_dim": ({"latent_dim": 3, "mu": [0, 0]}, "sizes disagree: latent_dim 3, mu 2"),
    "empty checkpoint": ({"checkpoint": " "}, "checkpoint must be a non-empty string"),
    "checkpoint with a newline": ({"checkpoint": "a\nb.pth"}, "without control characters"),
    "checkpoint too long": ({"checkpoint": "a" * 5000}, "at most 4096"),
    # integers beyond float: compared exactly, shown by their size
    "seed of 400 digits": ({"seed": 10**400}, "got an integer of 401 digits"),
    "mu of 400 digits": ({"mu": [-(10**400)]}, "mu[0] = an integer of 401 digits is outside"),
    "z of 400 digits": ({"z": [10**400]}, "z[0] = an integer of 401 digits is too large"),
    "latent_dim of 400 digits": (
        {"latent_dim": 10**400, "mu": [0]},
        "sizes disagree: latent_dim an integer of 401 digits, mu 1",
    ),
    "a long unknown key": ({"x" * 100_000: 1}, "unknown key 'xxxxxxxxxx"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_documents_are_refused_with_one_line(case):
    data, words = BAD[case]
    with pytest.raises(state.StateError) as error:
        state.validate(data)
    message = str(error.value)
    assert words in message
    assert "\n" not in message and len(message) < 300


def test_vectors_keep_their_edges_as_floats():
    """The sliders' bounds are inside; the z a state gave has none but being finite."""
    checked = state.validate({"mu": [-3, 3.0], "sigma": [0, 2], "z_set": [-4, 4], "z": [1e300, 7]})
    assert checked["mu"] == [-3.0, 3.0] and checked["sigma"] == [0.0, 2.0]
    assert checked["z_set"] == [-4.0, 4.0] and checked["z"] == [1e300, 7.0]
    assert all(type(v) is float for key in ("mu", "sigma", "z_set", "z") for v in checked[key])


# text → words of the one-line StateError that read() gives for a file holding it
HOSTILE = {
    "5000-digit integer": ('{"seed": ' + "9" * 5000 + "}", "not usable JSON (Exceeds the limit"),
    "400-digit integer": ('{"z_set": [' + "9" * 400 + "]}", "z_set[0] = an integer of 400"),
    "nested 100k deep": ("[" * 100_000 + "]" * 100_000, "not usable JSON (nested too deeply)"),
    "nested objects": ('{"a":' * 50_000 + "1" + "}" * 50_000, "not usable JSON (nested too"),
    "larger than 1 MB": (" " * state.MAX_BYTES + "{}", "larger than 1,048,576 bytes"),
    "not UTF-8": (b'{"mode": "\xff"}', "cannot read it (invalid start byte)"),
    "a string of 1 MB": ('{"model": "' + "m" * 1_000_000 + '"}', "model must be a name or path"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_files_are_refused_with_one_line(tmp_path, case):
    text, words = HOSTILE[case]
    path = tmp_path / "hostile.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(state.StateError) as error:
        state.read(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and words in message
    assert "\n" not in message and len(message) < len(str(path)) + 200


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    with pytest.raises(state.StateError, match=r"fifo\.json: not a regular file"):
        state.read(fifo)
    with pytest.raises(state.StateError, match=r"dev/zero: not a regular file"):
        state.read("/dev/zero")  # endless
    with pytest.raises(state.StateError, match="cannot read it"):
        state.read(tmp_path)


def test_an_uploaded_model_must_be_given(model, ckpt12):
    model.param.update(mode="sample", **SETTINGS["sample"])
    data = state.to_json(model) | {"checkpoint": "upload:mine.pth"}  # as an upload's download
    with pytest.raises(state.StateError, match=r"model mine\.pth was uploaded"):
        state.model_from_json(data)
    assert np.array_equal(state.model_from_json(data, str(ckpt12)).image, model.image)


def test_no_checkpoint_at_all():
    with pytest.raises(state.StateError, match="names no checkpoint"):
        state.model_from_json({"mode": "prior"})


def test_read_names_the_file(tmp_path, model):
    good = tmp_path / "good.json"
    good.write_text(state.dumps(model))
    assert state.read(good)["z"] == [float(v) for v in model.z]
    bad = tmp_path / "bad.json"
    bad.write_text('{"mode": ')
    with pytest.raises(state.StateError, match=r"bad\.json: not JSON \(Expecting value"):
        state.read(bad)
    with pytest.raises(state.StateError, match=r"missing\.json: not found"):
        state.read(tmp_path / "missing.json")
    bad.write_text('{"mode": "sample", "mu": [NaN]}')  # Python's json reads NaN: still refused
    with pytest.raises(state.StateError, match=r"bad\.json: mu\[0\] = nan is not a finite"):
        state.read(bad)


def test_an_onnx_colour_models_state_round_trips(tmp_path):
    """The state names the ONNX file; read back, it gives the same colour image, and the URL
    query does too."""
    path = tmp_path / "colour.onnx"
    onnx_export.export(wrap(colour_conv64(), "colour").model, path)
    model = LatentModel(checkpoint=str(path))
    model.param.update(mu=[0.4] * model.latent_dim, seed=321)
    assert model.image.shape == (64, 64, 3)
    again = state.model_from_json(json.loads(state.dumps(model)))
    assert np.array_equal(again.image, model.image)
    linked = LatentModel(checkpoint=str(path))
    query, notices = urlstate.parse_search(urlstate.search_string(model))
    assert notices == [] and urlstate.apply_query(linked, query) == []
    assert np.array_equal(linked.image, model.image)
