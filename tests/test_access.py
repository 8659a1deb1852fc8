"""Checkpoint access when served: confinement to folders, zoo-only, uploads with a size limit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from explorer import zoo
from explorer.access import CheckpointAccess
from explorer.checkpoint import CheckpointError
from explorer.latent import LatentModel


@pytest.fixture
def folders(tmp_path, checkpoint_factory):
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    inside = checkpoint_factory("allowed/inside.pth")
    secret = checkpoint_factory("outside/secret.pth")
    return allowed, outside, inside, secret


def test_unrestricted_by_default(folders):
    _, _, _, secret = folders
    assert CheckpointAccess().check(str(secret)) == str(secret)


def test_inside_folder_allowed(folders):
    allowed, _, inside, _ = folders
    access = CheckpointAccess.confined([allowed])
    assert access.check(str(inside)) == str(inside.resolve())
    assert access.check("inside.pth") == str(inside.resolve())  # relative to the folder
    assert access.check(zoo.DEFAULT) == zoo.DEFAULT


@pytest.mark.parametrize("how", ["absolute", "dotdot", "relative-dotdot", "symlink", "missing"])
def test_outside_refused_without_revealing_existence(folders, how):
    allowed, outside, _, secret = folders
    if how == "absolute":
        source = str(secret)
    elif how == "dotdot":
        source = str(allowed / ".." / "outside" / "secret.pth")
    elif how == "relative-dotdot":
        source = "../outside/secret.pth"
    elif how == "symlink":
        link = allowed / "link.pth"
        os.symlink(secret, link)
        source = str(link)
    else:
        source = str(outside / "does-not-exist.pth")
    access = CheckpointAccess.confined([allowed])
    with pytest.raises(CheckpointError) as info:
        access.check(source)
    message = str(info.value)
    assert "not in this server's checkpoint folders" in message
    assert "not found" not in message and "secret" not in message


def test_symlinked_folder_itself_is_fine(tmp_path, folders):
    allowed, _, inside, _ = folders
    alias = tmp_path / "alias"
    os.symlink(allowed, alias)
    assert CheckpointAccess.confined([alias]).check(str(inside)) == str(inside.resolve())


def test_zoo_only(folders):
    _, _, inside, _ = folders
    access = CheckpointAccess.confined([], zoo_only=True, trusted=["/srv/operator.pth"])
    assert not access.paths_allowed
    assert access.check("mnist-beta10") == "mnist-beta10"
    assert access.check("/srv/operator.pth") == "/srv/operator.pth"
    with pytest.raises(CheckpointError, match="only opens its bundled models"):
        access.check(str(inside))


def test_latent_model_refuses_outside_and_keeps_model(folders, ckpt12):
    allowed, _, inside, secret = folders
    model = LatentModel(
        checkpoint=str(inside), access=CheckpointAccess.confined([allowed], trusted=[])
    )
    assert model.message == ""
    image = model.image.copy()
    model.checkpoint = str(secret)
    assert "checkpoint folders" in model.message
    np.testing.assert_array_equal(model.image, image)


def test_upload_loads_in_memory(ckpt12, ckpt20):
    model = LatentModel(checkpoint=str(ckpt12))
    model.upload(ckpt20.read_bytes(), "my model.pth")
    assert model.message == ""
    assert model.info.latent_dim == 20
    assert model.info.name == "my model.pth"
    assert model.checkpoint == "upload:my model.pth"
    model.device = "cpu"  # reloading (e.g. another device) uses the same bytes
    assert model.info.latent_dim == 20 and model.message == ""


def test_upload_bad_and_oversized(ckpt12, tmp_path):
    model = LatentModel(checkpoint=str(ckpt12), max_upload_bytes=1000)
    model.upload(b"x" * 1001, "big.pth")
    assert "too large" in model.message and model.info.latent_dim == 12
    model.upload(b"\x80\x04garbage", "bad.pth")
    assert "bad.pth" in model.message and "\n" not in model.message
    assert model.info.latent_dim == 12 and model.image is not None


def test_upload_name_cannot_escape(ckpt12):
    model = LatentModel(checkpoint=str(ckpt12))
    model.upload(ckpt12.read_bytes(), "../../etc/evil.pth")
    assert model.message == ""
    assert model.info.name == "evil.pth"
