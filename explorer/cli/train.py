"""``python train.py``: the command line of a training run (the original app's flags and
defaults, plus ours) and its one-line errors.

Where a run starts (new or resumed) and what its checkpoints record is
explorer.training.resume; the loop explorer.training.loop; ``--save-plots`` writes
explorer.training.plots.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from explorer import zoo
from explorer.checkpoint import CheckpointError
from explorer.compute.device import DEVICES
from explorer.data import datasets, folders, shapes
from explorer.data.datasets import DataError
from explorer.model import MAX_SIZE, MIN_SIZE
from explorer.training import resume
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
from explorer.training.resume import DEFAULTS, INITS

EXIT_ERROR = 2  # bad arguments, missing data, unusable checkpoint
EXIT_DIVERGED = 3  # the loss became NaN or infinite
DEFAULT_CHECKPOINT = "vae_checkpoint.pth"  # the original app's


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


SHAPES_IMAGES = 10_000  # the shapes a run draws, unless --limit says


def _side(text: str) -> int:
    value = _positive(int)(text)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be {MIN_SIZE} to {MAX_SIZE}, got {text}")
    return value


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
        description="Train the convolutional VAE on MNIST-like 28×28 images, or on a folder of "
        "your own (--dataset folder --data-dir DIR --image-size N --channels 1|3). With --resume, "
        "settings not given are taken from the checkpoint.",
    )
    p.add_argument(
        "--dataset",
        choices=(*datasets.DATASETS, datasets.FOLDER, datasets.SHAPES),
        help=f"default {d['dataset']}; folder: the PNG/JPEG images in --data-dir (directly, or "
        "one sub-folder per class, whose names become labels); shapes: coloured shapes with "
        f"known factors, made here ({SHAPES_IMAGES:,}, or --limit; 64×64 RGB by default)",
    )
    p.add_argument(
        "--image-size",
        type=_side,
        help=f"--dataset folder: images are resized to N×N, {MIN_SIZE} to {MAX_SIZE} (default "
        f"{d['image_size']})",
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=(1, 3),
        help=f"--dataset folder: 1 (grey) or 3 (RGB); images are converted (default "
        f"{d['channels']})",
    )
    p.add_argument(
        "--latent-dim", type=_positive(int), help=f"size of z (default {d['latent_dim']})"
    )
    p.add_argument(
        "--beta",
        type=_positive(float, zero_ok=True),
        help=f"weight of the KL term (default {d['beta']})",
    )
    p.add_argument(
        "--kl-warmup",
        type=_positive(int, zero_ok=True),
        metavar="EPOCHS",
        help="raise the KL weight linearly from β/EPOCHS to β over the first EPOCHS epochs "
        f"(default {d['kl_warmup']}: β from the start, as the original app)",
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
        "--device", choices=DEVICES, default="auto", help="auto: cuda, then mps, then cpu"
    )
    p.add_argument(
        "--num-threads",
        type=_positive(int),
        help="torch CPU threads (default: torch's choice, one per core; on a busy machine 1 "
        "can be much faster)",
    )
    return p


def checkpoint_path(args: argparse.Namespace) -> Path:
    """Where the run saves: --checkpoint-path, else the --resume file (not a zoo model's),
    else vae_checkpoint.pth."""
    if args.checkpoint_path:
        return Path(args.checkpoint_path)
    if args.resume and args.resume not in zoo.NAMES:
        return Path(args.resume)
    return Path(DEFAULT_CHECKPOINT)


def _dataset(s: dict, args: argparse.Namespace) -> datasets.Dataset:
    """The run's data set: a folder of images at the run's size, or MNIST-like IDX data (which
    is 28×28 grey, so --image-size and --channels must leave it so)."""
    if s["dataset"] == datasets.SHAPES:
        if s["channels"] != 3:
            raise TrainingError("the shapes are coloured: --channels 3")
        made = shapes.generate(s["limit"] or SHAPES_IMAGES, seed=s["seed"], size=s["image_size"])
        return datasets.Dataset(datasets.SHAPES, torch.from_numpy(made.images),
                                torch.from_numpy(made.labels), shapes.SHAPES)  # fmt: skip
    if s["dataset"] == datasets.FOLDER:
        dataset, report = folders.load_folder(args.data_dir, s["image_size"], s["channels"])
        print(f"{args.data_dir}: {report.line()}; classes: {', '.join(dataset.classes)}")
        return dataset
    if (s["image_size"], s["channels"]) != (28, 1):
        raise TrainingError(
            f"{s['dataset']} is 28×28 grey: --image-size and --channels are for --dataset folder"
        )
    return datasets.load(s["dataset"], args.data_dir, "train", args.download)


def train(args: argparse.Namespace) -> int:
    """Run parsed arguments; raises TrainingError, DataError, CheckpointError or NonFiniteLoss."""
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = select_device(args.device)
    given = {key: getattr(args, key) for key in DEFAULTS}
    if given["dataset"] == datasets.SHAPES:  # drawn at 64×64 in colour unless told otherwise
        given["image_size"] = given["image_size"] or shapes.SIZE
        given["channels"] = given["channels"] or 3
    run = resume.prepare(given, resume=args.resume, init=args.init)
    s = run.settings
    dataset = _dataset(s, args).head(s["limit"])
    train_x, val_x = split_images(dataset, s["train_split"], s["seed"])
    train_x, val_x = train_x.to(device), val_x.to(device)
    model = prepare_model(run.model, device)
    optimizer = run.adam(model)
    if args.resume and run.optimizer_state is None:
        print(f"note: {args.resume} has no usable optimizer state; Adam starts afresh",
              file=sys.stderr)  # fmt: skip
    out = checkpoint_path(args)
    print(
        f"training on {device}: {s['dataset']} {len(train_x)} train / {len(val_x)} validation "
        f"images, latent {model.latent_dim}, β={s['beta']}, {model.config.output} output; "
        f"checkpoint {out}"
    )

    saved = []  # epochs written by this run
    started = time.perf_counter()

    def save(history: History) -> None:
        seconds = time.perf_counter() - started
        meta = run.meta(history, train_size=len(train_x), val_size=len(val_x), seconds=seconds)
        state = None if args.no_optimizer_state else optimizer.state_dict()
        resume.save(out, model, meta, state)
        saved.append(history.epochs)

    try:
        history = fit(
            model,
            optimizer,
            train_x,
            val_x,
            epochs=args.epochs,
            beta=s["beta"],
            kl_warmup=s["kl_warmup"],
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
