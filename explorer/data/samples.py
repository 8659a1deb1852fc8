"""The data sample that goes with a model: bundled with a zoo model, else read from its data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer import zoo
from explorer.data import datasets

SAMPLE_SIZE = 256  # images of a data sample


@dataclass(frozen=True)
class Sample:
    """A few images of a model's data set (uint8 N×H×W, or N×H×W×3 in colour), their labels
    and class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # where they came from, for the user

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of its images, as a model's ``image_shape`` says it."""
        _, height, width, *colour = self.images.shape
        return (colour[0] if colour else 1, int(height), int(width))


def sample_file(name: str) -> Path:
    """The data sample bundled with a zoo model."""
    return zoo.ZOO_DIR / f"{name}.sample.npz"


def load_sample(
    source: str, dataset: str | None, data_dir: str | Path | None = None, n: int = SAMPLE_SIZE
) -> Sample | None:
    """The zoo model's bundled sample, else the first ``n`` images of ``dataset`` (read from
    ``data_dir`` or where datasets.load finds it: its test split, or mnist-5k's only one); None when
    there is none."""
    classes_of = dataset if dataset in datasets.CLASSES else None
    if source in zoo.NAMES and sample_file(source).is_file():
        with np.load(sample_file(source)) as npz:
            images, labels = npz["images"][:n], npz["labels"][:n]
        name = classes_of or zoo.family(source)
        return Sample(images, labels, datasets.CLASSES[name], f"{source} bundled sample")
    if classes_of is None:
        return None
    split = "train" if dataset == "mnist-5k" else "test"
    try:
        loaded = datasets.load(dataset, data_dir, split=split).head(n)
    except datasets.DataError:
        return None
    return Sample(
        loaded.images.numpy(), loaded.labels.numpy(), loaded.classes, f"{dataset} {split} split"
    )
