"""explorer.data: IDX files, folder layouts, the offline mnist-5k, clear errors, the split."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.data import datasets
from explorer.data.datasets import DataError

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0 0 8 ndim, big-endian dimensions, the data."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    payload = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def write_split(folder: Path, prefix: str, n: int, gz: bool, seed: int = 0):
    """Images and labels files of one split; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte", images, gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    path = write_idx(tmp_path / "images-idx3-ubyte", images, gz)
    tensor = datasets.read_idx(path)
    assert tensor.dtype == torch.uint8
    assert tensor.shape == (3, 28, 28)
    assert np.array_equal(tensor.numpy(), images)


def test_read_idx_labels(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.array([7, 0, 9]))
    assert datasets.read_idx(path).tolist() == [7, 0, 9]


def test_truncated_idx_is_a_data_error(tmp_path):
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28)))[:-100])
    with pytest.raises(DataError, match="truncated"):
        datasets.read_idx(path)


def test_truncated_gzip_is_a_data_error(tmp_path):
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28))))[:-20])
    with pytest.raises(DataError, match="cannot read"):
        datasets.read_idx(path)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x00", b"PK\x03\x04 not idx at all", bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"abcd"],
    ids=["empty", "short", "zip", "float-idx"],
)
def test_invalid_idx_is_a_data_error(tmp_path, payload):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(DataError, match="not an IDX file"):
        datasets.read_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_load_from_a_folder_of_idx_files(tmp_path, gz):
    images, labels = write_split(tmp_path, "train", 20, gz)
    test_images, _ = write_split(tmp_path, "t10k", 5, gz, seed=1)
    train = datasets.load("fashion-mnist", tmp_path)
    assert len(train) == 20
    assert np.array_equal(train.images.numpy(), images)
    assert train.labels.dtype == torch.int64
    assert train.labels.tolist() == labels.tolist()
    test = datasets.load("fashion-mnist", tmp_path, split="test")
    assert np.array_equal(test.images.numpy(), test_images)


@pytest.mark.parametrize(
    ("name", "folder"), [("fashion-mnist", "FashionMNIST"), ("mnist", "MNIST")]
)
def test_load_from_a_torchvision_root(tmp_path, name, folder):
    images, _ = write_split(tmp_path / folder / "raw", "train", 12, gz=True)
    loaded = datasets.load(name, tmp_path)
    assert loaded.name == name
    assert np.array_equal(loaded.images.numpy(), images)


def test_missing_labels_file_means_not_found(tmp_path):
    write_split(tmp_path, "train", 4, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="not found"):
        datasets.load("mnist", tmp_path)


def test_missing_mnist_says_where_to_get_it(tmp_path):
    with pytest.raises(DataError) as info:
        datasets.load("mnist", tmp_path / "empty")
    message = str(info.value)
    assert "not found" in message and str(tmp_path / "empty") in message
    assert "--download" in message and "mnist-5k" in message
    assert "\n" not in message


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    # Pretend Debian's folder is absent (it is installed here and in CI).
    monkeypatch.setitem(datasets._SYSTEM_DIRS, "fashion-mnist", tmp_path / "absent")
    with pytest.raises(DataError, match="dataset-fashion-mnist") as info:
        datasets.load("fashion-mnist", tmp_path)
    assert "--download" in str(info.value)


@pytest.mark.parametrize(
    ("name", "split", "match"),
    [("cifar10", "train", "unknown data set"), ("mnist", "val", "unknown split"),
     ("mnist-5k", "test", "single split")],
)  # fmt: skip
def test_bad_names_are_data_errors(name, split, match):
    with pytest.raises(DataError, match=match):
        datasets.load(name, split=split)


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist():
    train = datasets.load("fashion-mnist", data_dir=None)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == torch.uint8
    assert sorted(train.labels.unique().tolist()) == list(range(10))
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert train.classes[9] == "Ankle boot"
    assert len(datasets.load("fashion-mnist", split="test")) == 10000


@pytest.fixture(scope="module")
def mnist5k() -> datasets.Dataset:
    return datasets.load("mnist-5k")


def test_mnist_5k(mnist5k):
    assert mnist5k.images.shape == (5000, 28, 28) and mnist5k.images.dtype == torch.uint8
    assert mnist5k.labels.dtype == torch.int64
    counts = torch.bincount(mnist5k.labels, minlength=10)
    assert len(counts) == 10 and counts.min() > 400  # every digit, roughly balanced
    # Shuffled once (the file is sorted by label): the first 100 hold many digits.
    assert len(mnist5k.labels[:100].unique()) == 10
    assert mnist5k.images.max() == 255 and mnist5k.images.float().mean() > 20  # real ink


def test_head_and_as_float(mnist5k):
    head = mnist5k.head(10)
    assert len(head) == 10 and torch.equal(head.labels, mnist5k.labels[:10])
    assert mnist5k.head(None) is mnist5k
    x = head.as_float()
    assert x.shape == (10, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert torch.allclose(x[:, 0] * 255, head.images.float())


def test_train_val_split(mnist5k):
    train, val = datasets.train_val_split(mnist5k, 0.9, seed=42)
    assert (len(train), len(val)) == (4500, 500)
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(5000))
    again, _ = datasets.train_val_split(mnist5k, 0.9, seed=42)
    other, _ = datasets.train_val_split(mnist5k, 0.9, seed=43)
    assert torch.equal(train, again) and not torch.equal(train, other)


def test_train_val_split_edges(mnist5k):
    small = mnist5k.head(7)
    train, val = datasets.train_val_split(small, 1.0, seed=0)
    assert len(train) == 7 and len(val) == 0
    train, val = datasets.train_val_split(small, 0.01, seed=0)
    assert len(train) == 1 and len(val) == 6
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(DataError, match="train-split"):
            datasets.train_val_split(small, bad, seed=0)


def test_mismatched_idx_pair_is_refused(tmp_path):
    """Images and labels of different counts, or images that are not 28×28, never load."""

    def idx(path, array):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(
            int(n).to_bytes(4, "big") for n in array.shape
        )
        with gzip.open(path, "wb") as handle:
            handle.write(header + array.astype("uint8").tobytes())

    idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((5, 28, 28)))
    idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4))
    with pytest.raises(DataError, match="5 images but 4 labels"):
        datasets.load("mnist", tmp_path)
    idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((4, 20, 20)))
    with pytest.raises(DataError, match="not 28×28"):
        datasets.load("mnist", tmp_path)
