"""A folder of one's own images: read (mending what does not fit, and counting it), trained on
with train.py as a user runs it, and opened by the explorer at its size and in colour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explorer.data import samples
from explorer.data.datasets import DataError
from explorer.data.folders import load_folder
from explorer.latent.space import LatentModel

ROOT = Path(__file__).resolve().parents[2]


def shape_image(kind: str, k: int, size: int = 48, mode: str = "RGB") -> Image.Image:
    """A coloured square or ellipse, placed and coloured by ``k``."""
    rng = np.random.default_rng(k)
    image = Image.new(mode, (size, size), 0 if mode == "L" else (0, 0, 0))
    draw = ImageDraw.Draw(image)
    x, y = rng.integers(2, size // 2, 2)
    box = (x, y, x + size // 3, y + size // 3)
    fill = (
        int(rng.integers(80, 256))
        if mode == "L"
        else tuple(int(c) for c in rng.integers(60, 256, 3))
    )
    (draw.rectangle if kind == "squares" else draw.ellipse)(box, fill=fill)
    return image


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Two classes of 150 images: most 48×48 RGB PNGs, some 40×60 (resized), some grey JPEGs
    (converted), one corrupt file (skipped) and a text file (not an image)."""
    root = tmp_path_factory.mktemp("shapes")
    for kind in ("ellipses", "squares"):
        (root / kind).mkdir()
        for k in range(150):
            if k % 25 == 0:
                shape_image(kind, k, mode="L").save(root / kind / f"{k}.jpg")
            elif k % 30 == 1:
                shape_image(kind, k).resize((40, 60)).save(root / kind / f"{k}.png")
            else:
                shape_image(kind, k).save(root / kind / f"{k}.png")
    (root / "squares" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "README.txt").write_text("not an image")
    return root


def test_a_folder_is_read_with_what_was_mended_counted(folder):
    dataset, report = load_folder(folder, 32, 3)
    assert (report.read, report.skipped, report.resized, report.converted) == (300, 1, 10, 12)
    assert dataset.image_shape == (3, 32, 32) and dataset.images.dtype.is_floating_point is False
    assert dataset.classes == ("ellipses", "squares")
    assert np.bincount(dataset.labels.numpy()).tolist() == [150, 150]
    assert dataset.as_float().shape == (300, 3, 32, 32)
    assert report.line() == "300 images; 1 unreadable, skipped; 10 resized; 12 converted"
    grey, _ = load_folder(folder, 16, 1)
    assert grey.image_shape == (1, 16, 16) and grey.as_float().shape == (300, 1, 16, 16)


def test_a_limit_reads_files_spread_over_the_classes(folder):
    dataset, report = load_folder(folder, 16, 1, limit=10)
    assert report.read + report.skipped == 10  # the broken file may be one of those picked
    assert np.bincount(dataset.labels.numpy()).tolist() == [5, 5 - report.skipped]


def test_images_directly_in_the_folder_are_one_class(tmp_path):
    for k in range(3):
        shape_image("squares", k, size=16).save(tmp_path / f"{k}.png")
    dataset, report = load_folder(tmp_path, 16, 3)
    assert report.read == 3 and dataset.classes == ("images",)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "holds no PNG or JPEG image"),
        (lambda d: (d / "notes.txt").write_text("x"), "holds no PNG or JPEG image"),
        (lambda d: (d / "a.png").write_bytes(b"junk"), "none of its 1 image files could be read"),
    ],
)
def test_a_folder_with_nothing_to_train_on_is_one_line(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(DataError, match=message) as caught:
        load_folder(tmp_path, 32, 3)
    assert "\n" not in str(caught.value)


def train_py(*args, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "train.py"), *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_train_py_trains_on_a_folder_and_the_explorer_opens_it_in_colour(folder, tmp_path):
    out = tmp_path / "shapes.pth"
    result = train_py(
        "--dataset", "folder", "--data-dir", folder, "--image-size", "32", "--channels", "3",
        "--latent-dim", "4", "--epochs", "1", "--batch-size", "64", "--num-threads", "1",
        "--checkpoint-path", out, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{folder}: 300 images; 1 unreadable, skipped" in result.stdout
    info = subprocess.run(
        [Path(sys.executable).with_name("vae-explorer"), "info", out],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    facts = json.loads(info.stdout)
    assert facts["image_shape"] == [3, 32, 32] and facts["dataset"] == "folder"
    latent = LatentModel(checkpoint=str(out))
    assert latent.message == "" and latent.image.shape == (32, 32, 3)
    # its data sample: from the folder the operator gives (--data-dir), never from the file
    assert samples.load_sample(str(out), "folder", None, image_shape=(3, 32, 32)) is None
    sample = samples.load_sample(str(out), "folder", folder, n=20, image_shape=(3, 32, 32))
    assert 19 <= len(sample) <= 20 and sample.images.shape[1:] == (32, 32, 3)
    assert sample.classes == ("ellipses", "squares")
    assert set(sample.labels.tolist()) == {0, 1}  # spread over the files: both classes


def test_idx_data_sets_stay_28_grey(tmp_path):
    result = train_py("--dataset", "mnist-5k", "--image-size", "32", "--epochs", "1", cwd=tmp_path)
    assert result.returncode != 0
    assert "--image-size and --channels are for --dataset folder" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    result = train_py("--dataset", "folder", "--image-size", "300", cwd=tmp_path)
    assert result.returncode == 2 and "must be 16 to 128" in result.stderr
