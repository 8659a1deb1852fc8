"""The data sample that goes with a model: bundled with a zoo model, else read from its data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer import zoo
from explorer.data import datasets, folders, shapes

SAMPLE_SIZE = 256  # images of a data sample
SHAPES_SEED = 1  # a generated shapes model's sample: drawn apart from its training seed (42)


@dataclass(frozen=True)
class Sample:
    """A few images of a model's data set (uint8 N×H×W, or N×H×W×3 in colour), their labels
    and class names, and, for data made with known factors, each image's factors (N×K floats,
    named by ``factor_names``; those in ``discrete`` are categories, e.g. the shape)."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # where they came from, for the user
    factors: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()
    discrete: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of its images, as a model's ``image_shape`` says it."""
        _, height, width, *colour = self.images.shape
        return (colour[0] if colour else 1, int(height), int(width))

    def head(self, n: int) -> Sample:
        """Its first ``n`` images."""
        factors = None if self.factors is None else self.factors[:n]
        return dataclasses.replace(
            self, images=self.images[:n], labels=self.labels[:n], factors=factors
        )

    def scored_against(self) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
        """What a model's dimensions are scored against (:mod:`explorer.compute.factors`): the
        factors, as (N×K values, names, discrete names), or the label alone when it has none."""
        if self.factors is not None:
            return self.factors, self.factor_names, self.discrete
        return self.labels[:, None].astype(np.float64), ("label",), ("label",)


def sample_file(name: str) -> Path:
    """The data sample bundled with a zoo model."""
    return zoo.ZOO_DIR / f"{name}.sample.npz"


def load_sample(
    source: str,
    dataset: str | None,
    data_dir: str | Path | None = None,
    n: int = SAMPLE_SIZE,
    image_shape: tuple[int, int, int] | None = None,
) -> Sample | None:
    """The zoo model's bundled sample; else, for a model of the generated shapes, ``n`` of them
    drawn afresh at ``image_shape``; else the first ``n`` images of ``dataset`` (read from
    ``data_dir`` or where datasets.load finds it: its test split, or mnist-5k's only one); None
    when there is none."""
    if source in zoo.NAMES and sample_file(source).is_file():
        return _bundled(source, n)
    if dataset == datasets.SHAPES:
        return shapes_sample(n, image_shape[1] if image_shape else shapes.SIZE)
    if dataset == datasets.FOLDER:
        return _folder_sample(data_dir, image_shape, n)
    if dataset not in datasets.CLASSES:
        return None
    split = "train" if dataset == "mnist-5k" else "test"
    try:
        loaded = datasets.load(dataset, data_dir, split=split).head(n)
    except datasets.DataError:
        return None
    return Sample(
        loaded.images.numpy(), loaded.labels.numpy(), loaded.classes, f"{dataset} {split} split"
    )


def shapes_sample(n: int = SAMPLE_SIZE, size: int = shapes.SIZE) -> Sample:
    """``n`` generated shapes with their factors (:mod:`explorer.data.shapes`)."""
    made = shapes.generate(n, seed=SHAPES_SEED, size=size)
    return Sample(
        made.images, made.labels, shapes.SHAPES, f"{n} generated shapes (seed {SHAPES_SEED})",
        made.factors, shapes.FACTORS, shapes.DISCRETE,
    )  # fmt: skip


def _folder_sample(
    data_dir: str | Path | None, image_shape: tuple[int, int, int] | None, n: int
) -> Sample | None:
    """A model trained on a folder of images: ``n`` of them, from the folder the operator gave
    (never one named in the checkpoint: a file must not choose what the server reads)."""
    if data_dir is None or image_shape is None:
        return None
    channels, size, _ = image_shape
    try:
        loaded, _ = folders.load_folder(data_dir, size, channels, limit=n)
    except datasets.DataError:
        return None
    return Sample(loaded.images.numpy(), loaded.labels.numpy(), loaded.classes, str(data_dir))


def _bundled(source: str, n: int) -> Sample:
    """A zoo model's sample file: images and labels, and factors with their names if made so."""
    with np.load(sample_file(source), allow_pickle=False) as npz:
        images, labels = npz["images"][:n], npz["labels"][:n]
        factors = npz["factors"][:n] if "factors" in npz else None
        keys = ("factor_names", "discrete", "classes")
        named = {key: tuple(str(v) for v in npz[key]) for key in keys if key in npz}
    family = zoo.family(source)
    classes = named.get("classes") or datasets.CLASSES[family]
    return Sample(
        images, labels, classes, f"{source} bundled sample", factors,
        named.get("factor_names", ()), named.get("discrete", ()),
    )  # fmt: skip
