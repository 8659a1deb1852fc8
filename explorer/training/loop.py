"""Train the VAE: an in-memory loop, validation, progress bars, checkpoints and plots.

``train.py`` calls :func:`main`. From Python, the pieces compose directly::

    model = VAE(VAEConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = fit(model, optimizer, train_images, val_images, epochs=5, beta=1.0)

Images are float tensors N×1×28×28 in [0, 1], held in memory: every epoch shuffles them with a
seeded ``torch.randperm`` and slices batches (no DataLoader, no per-sample transform).
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from explorer import checkpoint, zoo
from explorer.checkpoint import CheckpointError
from explorer.compute.device import available_devices, resolve_device
from explorer.data import datasets
from explorer.data.datasets import DataError
from explorer.model import VAE, VAEConfig, vae_loss
from explorer.training import curves

EXIT_ERROR = 2  # bad arguments, missing data, unusable checkpoint
EXIT_DIVERGED = 3  # the loss became NaN or infinite
EVAL_BATCH = 1000
# --save-plots: the original app's file names.
CURVE_PNG_NAMES = ("vae_training_curves.png", "vae_reconstructions.png", "vae_samples.png")

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
    batch_size: int = 128,
    seed: int = 42,
    history: History | None = None,
    on_epoch: Callable[[History], None] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = tqdm.write,
) -> History:
    """Train ``epochs`` more epochs, validating after each; returns the (extended) history.

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
            train = train_epoch(model, optimizer, train_images, beta=beta,
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
    """Seeded train/validation split as float images N×1×28×28 (converted once, here)."""
    train_idx, val_idx = datasets.train_val_split(dataset, train_split, seed)
    to_float = lambda idx: dataset.images[idx].unsqueeze(1).float().div_(255.0)  # noqa: E731
    return to_float(train_idx), to_float(val_idx)


@torch.no_grad()
def save_plots(model: VAE, history: History, images: torch.Tensor, plot_dir: Path) -> list[Path]:
    """The original app's three plots, under its file names, and the curves as a web page;
    returns the paths written.

    ``vae_training_curves.png``: loss, reconstruction and KL per epoch (explorer.curves).
    ``vae_reconstructions.png``: 16 images (top row) over their reconstructions from z = μ.
    ``vae_samples.png``: 64 decodings of z ~ N(0, I) (``VAE.sample``), seeded.
    ``training_curves.html``: the same curves drawn with HoloViews, rendered to a standalone Bokeh
    page with its JavaScript inline (it opens offline; ``hv.save`` goes through Panel, whose page
    fetches CSS from a CDN).
    """
    import holoviews as hv  # imported here: plotting is optional and slow to import
    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    from torchvision.utils import save_image

    plot_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = images[:16]
    raw, _, _ = model(x)
    paths = [plot_dir / name for name in CURVE_PNG_NAMES]
    panels = [
        ("Loss (recon + beta*KL)", history.train_loss, history.val_loss),
        ("Reconstruction", history.train_recon, history.val_recon),
        ("KL", history.train_kl, history.val_kl),
    ]
    curves.draw(panels, history.epochs).save(paths[0], format="PNG")
    save_image(torch.cat([x, model.to_image(raw)]).cpu(), paths[1], nrow=len(x), pad_value=1.0)
    samples = model.sample(64, generator=torch.Generator().manual_seed(0))
    save_image(samples.cpu(), paths[2], nrow=8, pad_value=1.0)

    hv.renderer("bokeh")  # loads the backend, so that .opts() below applies to it
    layout = []
    for title, train, val in panels:
        drawn = []
        for label, values in (("train", train), ("validation", val)):
            points = (curves.epochs_of(values, history.epochs), values)
            drawn += [
                hv.Curve(points, "epoch", "per image", label=label),
                hv.Scatter(points, "epoch", "per image", label=label).opts(size=5),
            ]
        layout.append(hv.Overlay(drawn).opts(title=title, width=420, height=320))
    html = file_html(
        hv.render(hv.Layout(layout).cols(3).opts(shared_axes=False), backend="bokeh"),
        INLINE,
        "VAE training curves",
    )
    paths.append(plot_dir / "training_curves.html")
    paths[-1].write_text(html, encoding="utf-8")
    return paths


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
