"""Checkpoint access when served: confinement to folders, zoo-only, uploads with a size limit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from explorer import zoo
from explorer.access import CheckpointAccess
from explorer.checkpoint import CheckpointError
from explorer.latent.space import LatentModel


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


def test_other_accounts_homes_are_refused_alike(folders):
    """`~name` must not tell whether the account exists: the same refusal for root and for none."""
    allowed, *_ = folders
    access = CheckpointAccess.confined([allowed])
    messages = set()
    for source in ["~root/x.pth", "~no-such-user-vae/x.pth", "~no-such-user-vae", "~root"]:
        with pytest.raises(CheckpointError) as caught:
            access.check(source)
        messages.add(str(caught.value))
    assert messages == {f"that path is not in this server's checkpoint folders: {allowed}"}


def test_own_home_still_expands(folders, monkeypatch):
    allowed, _, inside, _ = folders
    monkeypatch.setenv("HOME", str(allowed.parent))
    access = CheckpointAccess.confined([allowed])
    assert access.check("~/allowed/inside.pth") == str(inside.resolve())


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("a\0b.pth", "contains a NUL character"),
        ("x/" * 3000, "is too long (6,000 characters"),
        ("/" + "a" * 300 + "/x.pth", "not in this server's checkpoint folders"),
    ],
)
def test_paths_no_file_system_takes(folders, source, words):
    allowed, *_ = folders
    with pytest.raises(CheckpointError) as caught:
        CheckpointAccess.confined([allowed]).check(source)
    assert words in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("source", ["a\0b.pth", "x/" * 3000])
def test_paths_no_file_system_takes_unrestricted(source):
    with pytest.raises(CheckpointError):
        CheckpointAccess().check(source)


def test_a_long_name_inside_a_folder_is_a_message_not_a_traceback(folders, ckpt12):
    """A relative name too long for the file system passes the folder rule and fails to load."""
    allowed, _, inside, _ = folders
    model = LatentModel(checkpoint=str(inside), access=CheckpointAccess.confined([allowed]))
    image = model.image.copy()
    model.checkpoint = "a" * 300 + ".pth"
    assert "File name too long" in model.message and "\n" not in model.message
    np.testing.assert_array_equal(model.image, image)


BAD_UPLOADS = [
    (["a.pth"], "m.pth", "m.pth is not a file upload"),
    ([b"\x00", b"\x01"], ["m.pth", "n.pth"], "upload.pth is not a file upload"),
    ("UEsDBA==", "m.pth", "m.pth is not a file upload"),  # base64 text, not decoded bytes
    ("%%% not base64 %%%", "m.pth", "m.pth is not a file upload"),
    (None, None, "upload.pth is not a file upload"),
    (memoryview(b"PK"), "m.pth", "m.pth is not a file upload"),
    (b"", "m.pth", "m.pth is empty (0 bytes)"),
    (bytearray(), "m.pth", "m.pth is empty (0 bytes)"),
    (b"\x80\x04garbage", "..", "upload.pth was refused"),
    (b"PK\x03\x04garbage", "a\0b.pth", "a?b.pth cannot be read as a PyTorch checkpoint"),
    (b"text", "x" * 1000, "x" * 49 + "…" + "x" * 50 + " is not a PyTorch checkpoint"),
]


@pytest.mark.parametrize(("data", "filename", "words"), BAD_UPLOADS)
def test_bad_upload_says_why_and_keeps_the_image(ckpt12, data, filename, words):
    model = LatentModel(checkpoint=str(ckpt12))
    image, info = model.image.copy(), model.info
    model.upload(data, filename)
    assert model.message.startswith(words)
    assert "\n" not in model.message and len(model.message) < 250
    np.testing.assert_array_equal(model.image, image)
    assert model.info is info
    model.device = "cpu"  # a reload after a refused upload still finds a model (the last good)
    np.testing.assert_array_equal(model.image, image)


@pytest.mark.parametrize(
    ("filename", "name"),
    [("..", "upload.pth"), ("a\0b.pth", "a?b.pth"), ("x" * 1000 + ".pth", "x" * 49 + "…")],
)
def test_odd_upload_names_load(ckpt12, ckpt20, filename, name):
    model = LatentModel(checkpoint=str(ckpt12))
    model.upload(bytearray(ckpt20.read_bytes()), filename)
    assert model.message == "" and model.info.latent_dim == 20
    assert model.info.name.startswith(name) and len(model.info.name) <= 100
    assert model.checkpoint == f"upload:{model.info.name}"


@pytest.mark.parametrize(
    "source", ["a\0b.pth", "x/" * 3000, "~no-such-user-vae/x.pth", "a" * 300 + ".pth"]
)
def test_bad_paths_say_why_and_keep_the_image(ckpt12, source):
    model = LatentModel(checkpoint=str(ckpt12))
    image = model.image.copy()
    model.checkpoint = source
    assert model.message and "\n" not in model.message and "\0" not in model.message
    np.testing.assert_array_equal(model.image, image)
    assert model.info.latent_dim == 12
