"""``python train.py``: the command line of a training run (the original app's flags and
defaults, plus ours), resuming from a checkpoint, saving one after each epoch, one-line errors.

The loop itself is explorer.training.loop; ``--save-plots`` writes explorer.training.plots.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from explorer import checkpoint, zoo
from explorer.checkpoint import CheckpointError
from explorer.data import datasets
from explorer.data.datasets import DataError
from explorer.model import VAE, VAEConfig
from explorer.training.loop import (
    History,
    NonFiniteLoss,
    TrainingError,
    fit,
    prepare_model,
    select_device,
    split_images,
)
from explorer.training.plots import save_plots

EXIT_ERROR = 2  # bad arguments, missing data, unusable checkpoint
EXIT_DIVERGED = 3  # the loss became NaN or infinite

# Settings a resumed run takes from its checkpoint unless given on the command line. The
# original app's defaults: MNIST, a linear output trained with MSE, vae_checkpoint.pth.
DEFAULTS = {
    "latent_dim": 12,
    "output": "linear",
    "beta": 1.0,
    "batch_size": 128,
    "lr": 1e-3,
    "dataset": "mnist",
    "train_split": 0.9,
    "limit": None,
    "seed": 42,
}
DEFAULT_CHECKPOINT = "vae_checkpoint.pth"
# How a new run's weights start: "kaiming", the original app's (VAE.init_weights), or
# "pytorch", each layer's default (what the bundled zoo was trained from).
INITS = ("kaiming", "pytorch")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line on stderr (no usage block), exit status 2."""
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _positive(kind, zero_ok: bool = False):
    """An argparse type: a finite number > 0 (or ≥ 0 with ``zero_ok``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            what = "an integer" if kind is int else "a finite number"
            sign = "≥ 0" if zero_ok else "> 0"
            raise argparse.ArgumentTypeError(f"must be {what} {sign}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _fraction(text: str) -> float:
    value = _positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of train.py (flags and defaults of the original app, plus ours)."""
    d = DEFAULTS
    p = _Parser(
        prog="train.py",
        description="Train the convolutional VAE on MNIST-like 28×28 images. With --resume, "
        "settings not given are taken from the checkpoint.",
    )
    p.add_argument("--dataset", choices=datasets.DATASETS, help=f"default {d['dataset']}")
    p.add_argument(
        "--latent-dim", type=_positive(int), help=f"size of z (default {d['latent_dim']})"
    )
    p.add_argument(
        "--beta",
        type=_positive(float, zero_ok=True),
        help=f"weight of the KL term (default {d['beta']})",
    )
    p.add_argument(
        "--epochs",
        type=_positive(int),
        default=10,
        help="epochs to run (with --resume: on top of those done; default 10)",
    )
    p.add_argument("--batch-size", type=_positive(int), help=f"default {d['batch_size']}")
    p.add_argument("--lr", type=_positive(float), help=f"Adam learning rate (default {d['lr']})")
    p.add_argument(
        "--output",
        choices=("linear", "sigmoid"),
        help="decoder output: linear + MSE (the original app; default) or sigmoid + binary "
        "cross-entropy",
    )
    p.add_argument(
        "--init",
        choices=INITS,
        default="kaiming",
        help="initial weights of a new run: kaiming, the original app's (default; Kaiming-normal "
        "convolutions, N(0, 0.01) linear layers), or pytorch, each layer's default",
    )
    p.add_argument(
        "--data-dir",
        default="./data",
        help="folder with IDX files, or a torchvision root (default ./data)",
    )
    p.add_argument(
        "--download",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="let torchvision download MNIST or Fashion-MNIST into --data-dir when it is not "
        "there, as the original app did (default: on)",
    )
    p.add_argument(
        "--train-split",
        type=_fraction,
        help=f"fraction used for training, the rest validates (default {d['train_split']})",
    )
    p.add_argument(
        "--limit",
        type=_positive(int),
        help="use only the first N images of the data set (before the split)",
    )
    p.add_argument("--seed", type=int, help=f"default {d['seed']}")
    p.add_argument(
        "--checkpoint-path",
        help=f"where to save after each epoch (default {DEFAULT_CHECKPOINT}, or the --resume file)",
    )
    p.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue from a checkpoint of train.py or of the original app's train.py: weights, "
        "optimizer, losses, epochs",
    )
    p.add_argument(
        "--no-optimizer-state",
        action="store_true",
        help="save weights only (smaller files; such a run resumes with a fresh Adam)",
    )
    p.add_argument(
        "--save-plots",
        action="store_true",
        help="write the original app's plots at the end (vae_training_curves.png, "
        "vae_reconstructions.png, vae_samples.png) and training_curves.html",
    )
    p.add_argument("--plot-dir", default="plots", help="default plots")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "mps"),
        default="auto",
        help="auto: cuda, then mps, then cpu",
    )
    p.add_argument(
        "--num-threads",
        type=_positive(int),
        help="torch CPU threads (default: torch's choice, one per core; on a busy machine 1 "
        "can be much faster)",
    )
    return p


@dataclass
class _Run:
    """What a run starts from: settings, model, optimizer state and history (maybe resumed)."""

    settings: dict
    model: VAE
    optimizer_state: dict | None = None
    history: History = field(default_factory=History)
    meta: dict = field(default_factory=dict)  # the resumed checkpoint's


def _prepare(args: argparse.Namespace) -> _Run:
    """Resolve settings (command line, else the resumed checkpoint, else defaults)."""
    given = {key: getattr(args, key) for key in DEFAULTS}
    if args.resume is None:
        settings = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
        torch.manual_seed(settings["seed"])  # the initial weights
        config = VAEConfig(latent_dim=settings["latent_dim"], output=settings["output"])
        model = VAE(config)
        if args.init == "kaiming":
            model.init_weights()
        return _Run(settings, model)
    path = checkpoint.resolve(args.resume)
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
        optimizer_state = _renumbered(payload.get("optimizer_state_dict"), payload, loaded.model)
    else:
        raise CheckpointError(
            f"--resume needs a checkpoint written by train.py or the original app's; {path.name} "
            "holds weights only"
        )
    model = loaded.model.requires_grad_(True)
    stored |= {"latent_dim": model.config.latent_dim, "output": model.config.output}
    for key in ("latent_dim", "output"):
        if given[key] is not None and given[key] != stored[key]:
            raise TrainingError(
                f"--{key.replace('_', '-')} {given[key]} does not match "
                f"{path.name}, which has {stored[key]}"
            )
    settings = {
        k: given[k] if given[k] is not None else stored[k] if stored[k] is not None else DEFAULTS[k]
        for k in DEFAULTS
    }
    return _Run(settings, model, optimizer_state, History.from_meta(meta), meta)


_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _renumbered(state: object, payload: dict, model: VAE) -> dict | None:
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
    renumbered = {}
    for old, name in enumerate(names):
        entry = saved.get(old)
        if entry is None:
            continue
        shapes = [v.shape for k, v in entry.items() if k in ("exp_avg", "exp_avg_sq")]
        if any(shape != ours[name].shape for shape in shapes):
            return None
        renumbered[position[name]] = entry
    return {"state": renumbered, "param_groups": [group]}


def _checkpoint_path(args: argparse.Namespace) -> Path:
    if args.checkpoint_path:
        return Path(args.checkpoint_path)
    if args.resume and args.resume not in zoo.NAMES:
        return Path(args.resume)
    return Path(DEFAULT_CHECKPOINT)


def train(args: argparse.Namespace) -> int:
    """Run parsed arguments; raises TrainingError, DataError, CheckpointError or NonFiniteLoss."""
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = select_device(args.device)
    run = _prepare(args)
    s = run.settings
    dataset = datasets.load(s["dataset"], args.data_dir, "train", args.download).head(s["limit"])
    train_x, val_x = split_images(dataset, s["train_split"], s["seed"])
    train_x, val_x = train_x.to(device), val_x.to(device)
    model = prepare_model(run.model, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    if run.optimizer_state is not None:
        optimizer.load_state_dict(run.optimizer_state)
        for group in optimizer.param_groups:
            group["lr"] = s["lr"]
    elif args.resume:
        print(f"note: {args.resume} has no usable optimizer state; Adam starts afresh",
              file=sys.stderr)  # fmt: skip
    out = _checkpoint_path(args)
    print(
        f"training on {device}: {s['dataset']} {len(train_x)} train / {len(val_x)} validation "
        f"images, latent {model.latent_dim}, β={s['beta']}, {model.config.output} output; "
        f"checkpoint {out}"
    )

    saved = []  # epochs written by this run
    started, seconds_before = time.perf_counter(), float(run.meta.get("train_seconds") or 0.0)

    def save(history: History) -> None:
        if not all(torch.isfinite(p).all() for p in model.state_dict().values()):
            raise NonFiniteLoss(f"epoch {history.epochs}: the weights became NaN or infinite")
        meta = {
            "beta": s["beta"],
            "epochs": history.epochs,
            "dataset": s["dataset"],
            "seed": s["seed"],
            "batch_size": s["batch_size"],
            "learning_rate": s["lr"],
            "train_split": s["train_split"],
            "limit": s["limit"],
            "init": run.meta.get("init") if args.resume else args.init,
            "train_size": len(train_x),
            "val_size": len(val_x),
            **history.to_meta(),
            "train_seconds": round(seconds_before + time.perf_counter() - started, 1),
            "torch": torch.__version__,
        }
        state = None if args.no_optimizer_state else optimizer.state_dict()
        # Saved in the ordinary (contiguous) layout, whatever prepare_model chose for speed.
        snapshot = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
        checkpoint.save(out, snapshot, meta, state)
        saved.append(history.epochs)

    try:
        history = fit(
            model,
            optimizer,
            train_x,
            val_x,
            epochs=args.epochs,
            beta=s["beta"],
            batch_size=s["batch_size"],
            seed=s["seed"],
            history=run.history,
            on_epoch=save,
            log=print,
        )
    except NonFiniteLoss as exc:
        if saved:
            kept = f"{out} keeps epoch {saved[-1]}"
        else:
            kept = f"{out} is unchanged" if out.exists() else "no checkpoint was written"
        raise NonFiniteLoss(f"{exc}; training stopped, {kept}; try a lower --lr") from None
    print(f"saved {out}")
    if args.save_plots:
        plots = save_plots(model, history, val_x if len(val_x) else train_x, Path(args.plot_dir))
        print("plots: " + ", ".join(str(p) for p in plots))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of train.py; returns the exit status (0 ok, 2 bad input, 3 diverged)."""
    args = build_parser().parse_args(argv)
    try:
        return train(args)
    except (TrainingError, DataError, CheckpointError) as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except NonFiniteLoss as exc:
        print(f"train.py: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    except KeyboardInterrupt:
        print(
            "train.py: interrupted; the checkpoint holds the last finished epoch, if any",
            file=sys.stderr,
        )
        return 130
