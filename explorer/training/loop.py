"""Train the VAE: an in-memory loop with validation and progress bars.

From Python, the pieces compose directly (``train.py`` runs them from its command line,
explorer/cli/train.py)::

    model = VAE(VAEConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = fit(model, optimizer, train_images, val_images, epochs=5, beta=1.0)

Images are float tensors N×C×H×W in [0, 1], held in memory: every epoch shuffles them with a
seeded ``torch.randperm`` and slices batches (no DataLoader, no per-sample transform).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from explorer.compute.device import available_devices, resolve_device
from explorer.data import datasets
from explorer.model import VAE, vae_loss

EVAL_BATCH = 1000


class TrainingError(Exception):
    """A run cannot start as asked; the message is one line, fit for a user."""


class NonFiniteLoss(Exception):
    """The loss became NaN or infinite; training stopped before using it."""


@dataclass(frozen=True)
class Stats:
    """Loss terms of one pass, averaged per image (sums over pixels and latent dimensions)."""

    loss: float
    recon: float
    kl: float

    def __str__(self) -> str:
        return f"{self.loss:.2f} (recon {self.recon:.2f}, KL {self.kl:.2f})"


@dataclass
class History:
    """Per-epoch losses of a run (validation lists stay empty without a validation set)."""

    train_loss: list[float] = field(default_factory=list)
    train_recon: list[float] = field(default_factory=list)
    train_kl: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_recon: list[float] = field(default_factory=list)
    val_kl: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def append(self, train: Stats, val: Stats | None) -> None:
        """Record one epoch."""
        self.train_loss.append(train.loss)
        self.train_recon.append(train.recon)
        self.train_kl.append(train.kl)
        if val is not None:
            self.val_loss.append(val.loss)
            self.val_recon.append(val.recon)
            self.val_kl.append(val.kl)

    def to_meta(self) -> dict[str, list[float]]:
        """The checkpoint's loss lists (``train_losses``/``val_losses`` as the original app)."""
        return {
            "train_losses": list(self.train_loss),
            "val_losses": list(self.val_loss),
            "train_recon": list(self.train_recon),
            "train_kl": list(self.train_kl),
            "val_recon": list(self.val_recon),
            "val_kl": list(self.val_kl),
        }

    @classmethod
    def from_meta(cls, meta: dict) -> History:
        """Rebuild from a checkpoint's meta (see :meth:`to_meta`)."""

        def floats(key):
            return [float(v) for v in meta.get(key) or []]

        return cls(
            floats("train_losses"),
            floats("train_recon"),
            floats("train_kl"),
            floats("val_losses"),
            floats("val_recon"),
            floats("val_kl"),
        )


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; a named device must be available."""
    name = resolve_device(name)
    if name not in available_devices():
        raise TrainingError(f"device {name} is not available here: use --device auto or cpu")
    return torch.device(name)


def prepare_model(model: VAE, device: torch.device) -> VAE:
    """Move the model to ``device``; on the CPU also to channels-last memory (measured ~10%
    faster per epoch here: oneDNN's convolutions prefer it)."""
    model.to(device)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
    return model


def train_epoch(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    *,
    beta: float = 1.0,
    batch_size: int = 128,
    generator: torch.Generator | None = None,
    bar: tqdm | None = None,
) -> Stats:
    """One pass over ``images`` in a random order; raises NonFiniteLoss before a bad step."""
    model.train()
    n = len(images)
    order = torch.randperm(n, generator=generator).to(images.device)
    total = recon = kl = 0.0
    for batch, start in enumerate(range(0, n, batch_size), 1):
        x = images.index_select(0, order[start : start + batch_size])  # much faster than x[idx]
        raw, mu, logvar = model(x)
        loss = vae_loss(model.config, x, raw, mu, logvar, beta)
        value = loss.total.item()
        if not math.isfinite(value):
            raise NonFiniteLoss(f"the loss became {value} in batch {batch}")
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()
        rec, div, count = loss.reconstruction.item(), loss.kl.item(), len(x)
        total, recon, kl = total + value * count, recon + rec * count, kl + div * count
        if bar is not None:
            bar.set_postfix(loss=f"{value:.2f}", recon=f"{rec:.2f}", kl=f"{div:.2f}", refresh=False)
            bar.update(count)
    return Stats(total / n, recon / n, kl / n)


@torch.no_grad()
def evaluate(
    model: VAE, images: torch.Tensor, *, beta: float = 1.0, batch_size: int = EVAL_BATCH
) -> Stats:
    """Loss on ``images`` with z = μ (the posterior mean), without gradients; leaves the model
    in eval mode (BatchNorm uses its running statistics)."""
    model.eval()
    total = recon = kl = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        raw, mu, logvar = model(x)
        loss = vae_loss(model.config, x, raw, mu, logvar, beta)
        total += loss.total.item() * len(x)
        recon += loss.reconstruction.item() * len(x)
        kl += loss.kl.item() * len(x)
    n = len(images)
    return Stats(total / n, recon / n, kl / n)


def fit(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    train_images: torch.Tensor,
    val_images: torch.Tensor | None = None,
    *,
    epochs: int,
    beta: float = 1.0,
    kl_warmup: int = 0,
    batch_size: int = 128,
    seed: int = 42,
    history: History | None = None,
    on_epoch: Callable[[History], None] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = tqdm.write,
) -> History:
    """Train ``epochs`` more epochs, validating after each; returns the (extended) history.

    With ``kl_warmup`` W > 0 the KL weight of epoch ``e`` (from 0) is β·min(1, (e + 1)/W), a linear
    warm-up (Bowman et al. 2016) that keeps a large β from shutting dimensions before the decoder
    can use them (measured: the shapes' hue at β 16); validation always weighs KL by β.

    Epoch ``e`` (counting those already in ``history``) shuffles with seed ``seed + e`` and seeds
    torch's global generator (the reparameterization noise) the same way, so a resumed run repeats
    an uninterrupted one. ``on_epoch`` runs after each epoch (e.g. to save a checkpoint);
    ``progress=None`` shows bars only on a terminal. Raises NonFiniteLoss when the loss diverges.
    """
    history = history if history is not None else History()
    last = history.epochs + epochs
    for epoch in range(history.epochs, last):
        started = time.perf_counter()
        torch.manual_seed(seed + epoch)
        generator = torch.Generator().manual_seed(seed + epoch)
        disable = None if progress is None else not progress
        bar = tqdm(total=len(train_images), desc=f"epoch {epoch + 1}/{last}", unit="img",
                   disable=disable, leave=False)  # fmt: skip
        try:
            weight = beta * min(1.0, (epoch + 1) / kl_warmup) if kl_warmup else beta
            train = train_epoch(model, optimizer, train_images, beta=weight,
                                batch_size=batch_size, generator=generator, bar=bar)  # fmt: skip
        except NonFiniteLoss as exc:
            raise NonFiniteLoss(f"epoch {epoch + 1}: {exc}") from None
        finally:
            bar.close()
        val = None
        if val_images is not None and len(val_images):
            val = evaluate(model, val_images, beta=beta)
            if not math.isfinite(val.loss):
                raise NonFiniteLoss(f"epoch {epoch + 1}: the validation loss became {val.loss}")
        history.append(train, val)
        seconds = time.perf_counter() - started
        log(f"epoch {epoch + 1}/{last}  train {train}  val {val or 'n/a'}  {seconds:.1f} s")
        if on_epoch is not None:
            on_epoch(history)
    return history


def split_images(
    dataset: datasets.Dataset, train_split: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded train/validation split as float images N×C×H×W (converted once, here)."""
    train_idx, val_idx = datasets.train_val_split(dataset, train_split, seed)
    part = lambda idx: dataset.as_float_of(idx).contiguous()  # noqa: E731
    return part(train_idx), part(val_idx)
