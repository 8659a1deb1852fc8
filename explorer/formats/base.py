"""What every way a model comes in shares: its one-line error, its description, and how a
name or a size is shown in a message."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from explorer import zoo


class CheckpointError(Exception):
    """A checkpoint could not be used; the message is one line, fit for a user."""


@dataclass(frozen=True)
class ModelInfo:
    """What a checkpoint says about its model (shown in the sidebar and by `vae-explorer info`)."""

    source: str  # what the user gave: a zoo name or a path
    path: str
    format: str  # "vae-explorer", "original" (the Streamlit app's) or "state-dict"
    latent_dim: int
    output: str  # "sigmoid" or "linear" (see VAEConfig)
    image_shape: tuple[int, int, int]
    beta: float | None = None
    epochs: int | None = None
    dataset: str | None = None
    seed: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    train_losses: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source if self.source in zoo.NAMES else Path(self.path).name

    @property
    def stem(self) -> str:
        """The start of the names of files made from this model (``mnist-beta0.1``, ``model``):
        letters, digits and ``.-_`` only, since a checkpoint's own name may hold anything."""
        stem = self.source if self.source in zoo.NAMES else Path(self.path).stem
        return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80] or "model"

    @property
    def final_val_loss(self) -> float | None:
        return self.val_losses[-1] if self.val_losses else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["image_shape"] = list(self.image_shape)
        data["train_losses"] = list(self.train_losses)
        data["val_losses"] = list(self.val_losses)
        data["final_val_loss"] = self.final_val_loss
        return data


def shown(text: str, limit: int = 100) -> str:
    """``text`` fit for a one-line message: at most ``limit`` characters, none unprintable."""
    if len(text) > limit:
        text = text[: limit // 2 - 1] + "…" + text[-(limit // 2) :]
    return "".join(c if c.isprintable() else "?" for c in text)


def mb(nbytes: int) -> str:
    return f"{nbytes / 2**20:,.1f} MB"


@dataclass(frozen=True)
class Checkpoint:
    """A loaded model in eval mode, frozen, plus its description."""

    model: object  # a torch VAE, or one of formats' (OnnxVAE, ModuleVAE): decode, encode
    info: ModelInfo
