"""What the views of one session share: the model's data sample and its posterior, the last image
encoded, and their runs of work off the event loop. No Panel here."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import numpy as np

from explorer.app.background import Background
from explorer.compute import decoding, divergence, factors
from explorer.data import datasets, samples
from explorer.latent.space import LatentModel

NO_SAMPLE = (
    "No data sample for this model: the bundled models ship one; for another "
    "checkpoint start the app with `--data-dir` holding its data set."
)


def no_encoder(what: str) -> str:
    """Why ``what`` (a view, or a part of one) shows nothing: the model has no encoder."""
    return (
        f"{what} needs an encoder, and this model has none (an ONNX decoder gets one from "
        "NAME.encoder.onnx beside it; a module, from its encode method)."
    )


# A generated-shapes model is scored on this many images drawn afresh, not on its sample's 256:
# a plug-in estimate of I over 20×20 bins is biased up by about 19·19/2N nats (0.7 at 256, as
# much as a continuous factor's signal; 0.18 at 1000), and drawing and encoding 1000 costs a
# worker ~0.7 s once per model.
SCORED_SHAPES = 1000
ENCODE_BATCH = 250  # images per forward pass when scoring: a bounded peak of activations


T = TypeVar("T")

# What is computed once per model in a process and read by every session of it (the sample's
# posterior, the where-z-stands aggregate): a page open then does not redo it. Keyed by the model
# object, which every session of a checkpoint shares and none changes (checkpoint.load_shared's,
# frozen; an upload's is its session's own, and its entries go with it: weak keys). This is no
# mutable state shared across sessions: an entry is written once, and its arrays are read-only.
_PER_MODEL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PER_MODEL_LOCK = threading.Lock()


class _Once:
    """One value, computed by the first caller; the others wait for it (a burst of page opens
    computes it once). A failure leaves it to the next caller."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = False
        self.value = None

    def get(self, compute: Callable[[], T]) -> T:
        with self.lock:
            if not self.done:
                self.value, self.done = compute(), True
        return self.value


def per_model(vae, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` once per model object ``vae`` and ``key`` in this process, its result
    shared by every session: it must not change after (make its arrays read-only)."""
    with _PER_MODEL_LOCK:
        once = _PER_MODEL.setdefault(vae, {}).setdefault(key, _Once())
    return once.get(compute)


def frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``arrays`` made read-only, for :func:`per_model`'s results."""
    for array in arrays:
        array.flags.writeable = False
    return arrays


def sample_key(sample: samples.Sample) -> tuple:
    """What tells a model's samples apart, in a :func:`per_model` key."""
    return (sample.source, len(sample), sample.shape)


def shared_posterior(vae, sample: samples.Sample) -> tuple[np.ndarray, np.ndarray]:
    """(μ, log σ²) of each image of ``sample`` under ``vae``, once per process (read-only)."""
    return per_model(
        vae,
        ("posterior", *sample_key(sample)),
        lambda: frozen(*decoding.posterior(vae, sample.images)),
    )


class Scored(NamedTuple):
    """A model's dimensions scored against a sample's factors (or its label): the scores, how
    many images, where they came from, and whether they are real factors (not the label)."""

    scores: factors.FactorScores
    images: int
    source: str
    real: bool


def has_encoder(vae) -> bool:
    """Whether ``vae`` encodes: explorer.formats' models say so; ours always do."""
    return vae is not None and vae.has_encoder


class SessionData:
    """The model's data sample and its posterior (computed once per model), the posterior mean
    of the last image encoded, and the session's work off the event loop."""

    def __init__(self, model: LatentModel, data_dir: str | None = None):
        self.model = model
        self.data_dir = data_dir
        self.background = Background()
        self.encoded: np.ndarray | None = None
        self._sample_key = self._sample = None
        self._posterior_of = self._posterior = None

    def sample(self) -> samples.Sample | None:
        """The model's data sample, when there is one whose images have the model's shape."""
        sample = self._loaded_sample()
        info = self.model.info
        return sample if sample is not None and sample.shape == info.image_shape else None

    def _loaded_sample(self) -> samples.Sample | None:
        info = self.model.info
        key = (info.source, info.dataset) if info is not None else None
        if key != self._sample_key:
            # The value before its key: a worker thread (explorer.app.whereami) fills these too,
            # and a reader between the two writes then computes again rather than read stale.
            self._sample = self._load_sample(*key) if key else None
            self._sample_key = key
        return self._sample

    def _load_sample(self, source: str, dataset: str | None) -> samples.Sample | None:
        info, vae = self.model.info, self.model.vae
        shape, key = info.image_shape, ("sample", source, dataset, info.image_shape, self.data_dir)

        def load() -> samples.Sample | None:
            sample = samples.load_sample(source, dataset, self.data_dir, image_shape=shape)
            if sample is not None:
                arrays = (sample.images, sample.labels, sample.factors)
                frozen(*(array for array in arrays if array is not None))
            return sample

        return load() if vae is None else per_model(vae, key, load)

    def no_sample(self) -> str:
        """Why :meth:`sample` is None, in one line."""
        sample, info = self._loaded_sample(), self.model.info
        if sample is None or info is None:
            return NO_SAMPLE
        return (
            f"No data sample of this model's images: {sample.source} holds "
            f"{decoding.shape_text(sample.shape)} images, this model's are "
            f"{decoding.shape_text(info.image_shape)}."
        )

    def missing(self, what: str) -> str | None:
        """Why ``what`` (something that encodes the data sample) cannot be shown, or None."""
        if not has_encoder(self.model.vae):
            return no_encoder(what)
        return self.no_sample() if self.sample() is None else None

    def posterior(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(μ, log σ²) of each image of the sample under the current model."""
        vae, sample = self.model.vae, self.sample()
        if not has_encoder(vae) or sample is None:
            return None
        if self._posterior_of is not vae:
            self._posterior = shared_posterior(vae, sample)
            self._posterior_of = vae  # after the value: see _loaded_sample
        return self._posterior

    def scored(self) -> Scored | None:
        """The model's dimensions scored (:func:`explorer.compute.factors.scores`) by their
        posterior means against the sample's factors, or its label when it has none; None
        without an encoder or a sample. Once per model in this process, shared by its sessions
        (:func:`per_model`); slow: call it in a worker thread."""
        vae, sample, info = self.model.vae, self.sample(), self.model.info
        if not has_encoder(vae) or sample is None:
            return None
        return per_model(
            vae, ("scored", *sample_key(sample)), lambda: self._score(vae, sample, info)
        )

    def _score(self, vae, sample: samples.Sample, info) -> Scored:
        real = sample.factors is not None
        if real and info.dataset == datasets.SHAPES and len(sample) < SCORED_SHAPES:
            sample = samples.shapes_sample(SCORED_SHAPES, info.image_shape[1])
            codes = np.concatenate([
                decoding.posterior(vae, sample.images[i : i + ENCODE_BATCH])[0]
                for i in range(0, len(sample), ENCODE_BATCH)
            ])  # fmt: skip
        else:
            codes = self.posterior()[0]
        values, names, discrete = sample.scored_against()
        scores = factors.scores(codes, values, names, discrete=discrete)
        frozen(scores.mi, scores.gaps)
        return Scored(scores, len(sample), sample.source, real)

    def kl(self) -> np.ndarray | None:
        post = self.posterior()
        return divergence.kl_per_dimension(*post) if post is not None else None

    def usage(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(KL per dimension, active mask) over the data sample, or None without one."""
        post = self.posterior()
        if post is None:
            return None
        return divergence.kl_per_dimension(*post), divergence.active_units(post[0])
