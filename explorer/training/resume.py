"""Where a training run starts and what its checkpoints record so that it can go on.

:func:`prepare` settles a run's settings (given, else the resumed checkpoint's, else
:data:`DEFAULTS`) and its starting point: fresh weights, or a checkpoint of ours or of the
original app's train.py with its weights, Adam state (the original's renumbered, see
:func:`renumbered`), losses and time. :meth:`Run.meta` and :func:`save` write what the next
resume reads back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch

from explorer import checkpoint
from explorer.checkpoint import CheckpointError
from explorer.model import VAE, VAEConfig
from explorer.training.loop import History, NonFiniteLoss, TrainingError

# Settings a resumed run takes from its checkpoint unless given. The original app's defaults:
# MNIST, a linear output trained with MSE.
DEFAULTS = {
    "latent_dim": 12,
    "output": "linear",
    "image_size": 28,
    "channels": 1,
    "beta": 1.0,
    "batch_size": 128,
    "lr": 1e-3,
    "dataset": "mnist",
    "train_split": 0.9,
    "limit": None,
    "seed": 42,
    "kl_warmup": 0,
}
NETWORK = ("latent_dim", "output", "image_size", "channels")  # the settings VAEConfig takes
# How a new run's weights start: "kaiming", the original app's (VAE.init_weights), or
# "pytorch", each layer's default (what the bundled zoo was trained from).
INITS = ("kaiming", "pytorch")


@dataclass
class Run:
    """What a run starts from: settings, model, optimizer state and history (maybe resumed)."""

    settings: dict
    model: VAE
    optimizer_state: dict | None = None  # None: a fresh Adam
    history: History = field(default_factory=History)
    init: str | None = None  # how the weights first started (a resumed run: as its checkpoint says)
    seconds: float = 0.0  # training time before this run

    def adam(self, model: VAE) -> torch.optim.Adam:
        """Adam over ``model`` (this run's, maybe moved to its device), resumed when there is a
        state, at this run's learning rate either way."""
        optimizer = torch.optim.Adam(model.parameters(), lr=self.settings["lr"])
        if self.optimizer_state is not None:
            optimizer.load_state_dict(self.optimizer_state)
            for group in optimizer.param_groups:
                group["lr"] = self.settings["lr"]
        return optimizer

    def meta(self, history: History, *, train_size: int, val_size: int, seconds: float) -> dict:
        """A checkpoint's metadata after ``history``, ``seconds`` into this run."""
        s = self.settings
        return {
            "beta": s["beta"],
            "kl_warmup": s["kl_warmup"],
            "epochs": history.epochs,
            "dataset": s["dataset"],
            "seed": s["seed"],
            "batch_size": s["batch_size"],
            "learning_rate": s["lr"],
            "train_split": s["train_split"],
            "limit": s["limit"],
            "init": self.init,
            "train_size": train_size,
            "val_size": val_size,
            **history.to_meta(),
            "train_seconds": round(self.seconds + seconds, 1),
            "torch": torch.__version__,
        }


def prepare(given: dict, *, resume: str | None = None, init: str = "kaiming") -> Run:
    """A run from the settings ``given`` (keys of DEFAULTS, None where not given): new, with
    weights as ``init`` says, or resumed from the checkpoint ``resume``.

    Raises CheckpointError for a checkpoint that cannot be resumed, TrainingError for a
    setting that contradicts it; the messages name the command line's options.
    """
    given = {key: given.get(key) for key in DEFAULTS}
    if resume is None:
        settings = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
        torch.manual_seed(settings["seed"])  # the initial weights
        model = VAE(VAEConfig(**{k: settings[k] for k in NETWORK}))
        if init == "kaiming":
            model.init_weights()
        return Run(settings, model, init=init)
    path = checkpoint.resolve(resume)
    payload = checkpoint.read(path)
    loaded = checkpoint.load(path)
    if loaded.info.format == checkpoint.FORMAT:
        meta = payload.get("meta") or {}
        stored = {**{k: meta.get(k) for k in DEFAULTS}, "lr": meta.get("learning_rate")}
        optimizer_state = payload.get("optimizer_state_dict")
    elif loaded.info.format == "original":
        # The original app's train.py: its config and loss lists (no recon/KL lists), on MNIST.
        info = loaded.info
        meta = {"train_losses": list(info.train_losses), "val_losses": list(info.val_losses)}
        stored = dict.fromkeys(DEFAULTS) | {"dataset": "mnist", "beta": info.beta}
        stored |= {"batch_size": info.batch_size, "lr": info.learning_rate, "seed": info.seed}
        optimizer_state = renumbered(payload.get("optimizer_state_dict"), payload, loaded.model)
    else:
        raise CheckpointError(
            f"--resume needs a checkpoint written by train.py or the original app's; {path.name} "
            "holds weights only"
        )
    model = loaded.model.requires_grad_(True)
    stored |= {key: getattr(model.config, key) for key in NETWORK}
    for key in NETWORK:
        if given[key] is not None and given[key] != stored[key]:
            raise TrainingError(
                f"--{key.replace('_', '-')} {given[key]} does not match "
                f"{path.name}, which has {stored[key]}"
            )
    settings = {
        k: given[k] if given[k] is not None else stored[k] if stored[k] is not None else DEFAULTS[k]
        for k in DEFAULTS
    }
    seconds = float(meta.get("train_seconds") or 0.0)
    return Run(settings, model, optimizer_state, History.from_meta(meta), meta.get("init"), seconds)


_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def renumbered(state: object, payload: dict, model: VAE) -> dict | None:
    """The original app's Adam state, its parameters renumbered in our model's order.

    Adam keeps its state by parameter position; the original's positions are the order of the
    parameters in its state dict. None (a fresh Adam) when anything does not fit.
    """
    if not isinstance(state, dict) or len(state.get("param_groups") or []) != 1:
        return None
    names = [
        str(k).removeprefix("module.")
        for k in payload["model_state_dict"]
        if not str(k).endswith(_BUFFERS)
    ]
    ours = dict(model.named_parameters())
    group, saved = state["param_groups"][0], state.get("state") or {}
    if sorted(names) != sorted(ours) or list(group.get("params") or []) != list(range(len(names))):
        return None
    position = {name: i for i, name in enumerate(ours)}
    out = {}
    for old, name in enumerate(names):
        entry = saved.get(old)
        if entry is None:
            continue
        shapes = [v.shape for k, v in entry.items() if k in ("exp_avg", "exp_avg_sq")]
        if any(shape != ours[name].shape for shape in shapes):
            return None
        out[position[name]] = entry
    return {"state": out, "param_groups": [group]}


def save(path: Path, model: VAE, meta: dict, optimizer_state: dict | None) -> None:
    """Save a checkpoint the next run can resume from; NonFiniteLoss, and nothing written, when
    the weights are no longer finite."""
    if not all(torch.isfinite(p).all() for p in model.state_dict().values()):
        raise NonFiniteLoss(f"epoch {meta['epochs']}: the weights became NaN or infinite")
    # Saved in the ordinary (contiguous) layout, whatever prepare_model chose for speed.
    snapshot = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    checkpoint.save(path, snapshot, meta, optimizer_state)
