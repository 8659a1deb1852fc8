"""Training throughput: the original app's data pipeline against ours (figures, not a test).

Original: ``torchvision.datasets.FashionMNIST`` with ``transforms.ToTensor()`` applied per sample,
batched by a ``DataLoader`` (batch 128), the network with a linear output and the loss
MSE(sum) + β·KL(sum), β = 1. Ours: ``explorer.training.loop.train_epoch`` on the same images held in
memory as one float tensor (seeded permutation, sliced batches), same network, loss and batch
size. Both start from the same initial weights and train on the same 0.9 split; afterwards both
are validated by ``explorer.training.loop.evaluate`` (per-image MSE + KL at z = μ) on the same 6,000
validation images. The two visit the images in the same order (the DataLoader's sampler is our
shuffle), and the global generator is seeded alike before each pipeline's turn (the same ε in the
reparameterisation), so they train on identical batches with identical noise and their validation
losses differ by floating-point detail, not by luck. The original's seconds are split into waiting
for the DataLoader and the training step, which bounds what any data pipeline can gain.

This machine is shared, so the two pipelines take turns every 8 batches through each epoch: both
meet the same load at nearly the same moments and the ratio of their times stays fair even when
the absolute times do not. The load average is printed alongside. The last line is one JSON
object.

    python benchmarks/train_speed.py [--images N] [--epochs E]

With --colour it times instead what a user's own colour data costs: 10,000 64×64 RGB PNGs in a
folder (the package's generated shapes, written out first), read by ``explorer.data.folders``
as train.py --dataset folder reads them, then one epoch of ``loop.train_epoch`` on them with
the 64×64×3 network train.py builds (latent 10, sigmoid output, batch 128).

    python benchmarks/train_speed.py --colour [--images 10000] [--epochs 1]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets as torchvision_datasets
from torchvision import transforms

from explorer.data import datasets, folders, shapes
from explorer.model import VAE, VAEConfig, kl_divergence
from explorer.training import loop

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
BATCH = 128
CHUNK = 8  # batches per turn when the two pipelines alternate
BETA = 1.0
SEED = 42


def torchvision_root(idx_dir: Path, root: Path) -> Path:
    """A torchvision root whose FashionMNIST/raw holds the decompressed IDX files."""
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # fmt: skip
        with gzip.open(idx_dir / f"{name}.gz", "rb") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return root


def original_batches(model, optimizer, batches, spent: dict[str, float]) -> None:
    """The original app's loop body: DataLoader batches, MSE(sum) + β·KL(sum).

    Adds the seconds spent waiting for the DataLoader and in the training step to ``spent``.
    """
    model.train()
    batches = iter(batches)
    while True:
        t = time.perf_counter()
        x, _ = next(batches, (None, None))
        spent["data"] += time.perf_counter() - t
        if x is None:
            return
        t = time.perf_counter()
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        loss = F.mse_loss(recon, x, reduction="sum") + BETA * kl_divergence(mu, logvar).sum()
        loss.backward()
        optimizer.step()
        spent["step"] += time.perf_counter() - t


def epoch_order(n: int, epoch: int) -> list[tuple[int, torch.Tensor]]:
    """The epoch's chunks of CHUNK batches: each one's start and image positions.

    The epoch is a seeded permutation; ``loop.train_epoch``, given a chunk, shuffles it
    again with a generator seeded by the chunk's start (``visit_order`` repeats that shuffle).
    """
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SEED + epoch))
    return [(start, order[start : start + CHUNK * BATCH]) for start in range(0, n, CHUNK * BATCH)]


def chunk_generator(start: int) -> torch.Generator:
    """The generator ``train_epoch`` shuffles the chunk at ``start`` with."""
    return torch.Generator().manual_seed(start)


def visit_order(chunks: list[tuple[int, torch.Tensor]]) -> list[int]:
    """The positions in the order ``train_epoch`` visits them: the original's sampler.

    So both pipelines train on identical batches, and their validation losses differ by
    floating-point detail, not by the luck of the shuffle.
    """
    visits = [chunk[torch.randperm(len(chunk), generator=chunk_generator(start))]
              for start, chunk in chunks]  # fmt: skip
    return torch.cat(visits).tolist()


def interleaved_epoch(original, ours, dataset, images, epoch, split) -> tuple[float, float]:
    """One epoch of each pipeline, run in alternating chunks of CHUNK batches; their seconds.

    Both pipelines see the same machine load at nearly the same moments, so their ratio stays
    fair on a shared machine; ours runs ``loop.train_epoch`` on each chunk (the same work as
    one call on the whole epoch). ``split`` collects the original's data and step seconds.
    """
    (orig_model, orig_opt), (our_model, our_opt) = original, ours
    spent = [0.0, 0.0]
    chunks = epoch_order(len(images), epoch)
    sampler = visit_order(chunks)  # the original's shuffle, fixed to ours
    t = time.perf_counter()
    batches = iter(DataLoader(dataset, batch_size=BATCH, sampler=sampler))
    spent[0] += time.perf_counter() - t
    for start, chunk in chunks:
        torch.manual_seed(SEED + 1000 * epoch + start)  # the same ε for both (reparameterize)
        t = time.perf_counter()
        original_batches(orig_model, orig_opt, itertools.islice(batches, CHUNK), split)
        spent[0] += time.perf_counter() - t
        torch.manual_seed(SEED + 1000 * epoch + start)
        t = time.perf_counter()
        loop.train_epoch(our_model, our_opt, images.index_select(0, chunk), beta=BETA,
                             batch_size=BATCH, generator=chunk_generator(start))  # fmt: skip
        spent[1] += time.perf_counter() - t
    return spent[0], spent[1]


def new_model(memory: str) -> tuple[VAE, torch.optim.Optimizer]:
    """The same initial weights for both pipelines (seeded), linear output as the original."""
    torch.manual_seed(SEED)
    model = VAE(VAEConfig(latent_dim=12, output="linear"))
    if memory == "ours":
        loop.prepare_model(model, torch.device("cpu"))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def colour(n: int, epochs: int) -> int:
    """Read a folder of ``n`` 64×64 RGB PNGs and train on them for ``epochs``; print figures."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = shapes.generate(n, seed=SEED)
        for name in shapes.SHAPES:
            (folder / name).mkdir()
        for i, (image, label) in enumerate(zip(made.images, made.labels, strict=True)):
            Image.fromarray(image).save(folder / shapes.SHAPES[label] / f"{i:05d}.png")
        t = time.perf_counter()
        data, report = folders.load_folder(folder, shapes.SIZE, 3)
        read_s = time.perf_counter() - t
    torch.manual_seed(SEED)
    model = loop.prepare_model(
        VAE(VAEConfig(latent_dim=10, image_size=shapes.SIZE, channels=3)), torch.device("cpu")
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = data.as_float()
    load, seconds = [os.getloadavg()[0]], []
    for epoch in range(epochs):
        t = time.perf_counter()
        stats = loop.train_epoch(model, optimizer, images, beta=BETA, batch_size=BATCH,
                                 generator=torch.Generator().manual_seed(SEED + epoch))  # fmt: skip
        seconds.append(time.perf_counter() - t)
        print(f"epoch {epoch + 1}: {seconds[-1]:.2f} s, loss {stats.loss:.1f}", file=sys.stderr)
    load.append(os.getloadavg()[0])
    threads = torch.get_num_threads()
    per_epoch = statistics.fmean(seconds)
    print(f"\nColour folder: {report.line()}, 64×64×3, read in {read_s:.1f} s "
          f"({report.read / read_s:.0f} files/s); one epoch (batch {BATCH}) {per_epoch:.1f} s = "
          f"{report.read / per_epoch:.0f} img/s; torch {torch.__version__}, {threads} threads, "
          f"load average {load[0]:.1f} → {load[1]:.1f}")  # fmt: skip
    print(json.dumps({
        "images": report.read, "read_s": round(read_s, 2), "s_per_epoch": round(per_epoch, 2),
        "epochs": epochs, "images_per_s": round(report.read / per_epoch),
        "torch": torch.__version__, "threads": threads,
        "load_average": [round(x, 2) for x in load],
    }))  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, help="training images (default and max 54000)")
    parser.add_argument("--epochs", type=int, help="epochs per pipeline (default 3)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--colour", action="store_true",
                        help="time a folder of 64×64 RGB images (10,000) instead")  # fmt: skip
    parser.add_argument("--idx-dir", type=Path, default=DEBIAN_DIR,
                        help="Fashion-MNIST .gz IDX files (default: Debian's)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.colour:
        return colour(args.images or 10_000, args.epochs or 1)
    args.images, args.epochs = args.images or 54000, args.epochs or 3
    if not (args.idx_dir / "train-images-idx3-ubyte.gz").is_file():
        print(f"no Fashion-MNIST IDX files in {args.idx_dir}: apt-get install "
              "dataset-fashion-mnist or pass --idx-dir", file=sys.stderr)  # fmt: skip
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = torchvision_root(args.idx_dir, Path(tmp))
        base = torchvision_datasets.FashionMNIST(
            str(root), train=True, transform=transforms.ToTensor()
        )
        setup_original = time.perf_counter() - t
        t = time.perf_counter()
        ours_data = datasets.load("fashion-mnist", args.idx_dir)
        setup_ours = time.perf_counter() - t
        train_idx, val_idx = datasets.train_val_split(ours_data, 0.9, SEED)
        train_idx = train_idx[: args.images]
        t = time.perf_counter()
        dataset = Subset(base, train_idx.tolist())
        setup_original += time.perf_counter() - t
        t = time.perf_counter()
        images = ours_data.images[train_idx].unsqueeze(1).float().div_(255.0)
        setup_ours += time.perf_counter() - t
        val = ours_data.images[val_idx].unsqueeze(1).float().div_(255.0)

        original, ours = new_model("original"), new_model("ours")
        times: dict[str, list[float]] = {"original": [], "ours": []}
        split = {"data": 0.0, "step": 0.0}  # the original's seconds waiting for data, stepping
        load = [os.getloadavg()[0]]
        for epoch in range(args.epochs):
            spent = interleaved_epoch(original, ours, dataset, images, epoch, split)
            for name, seconds in zip(times, spent, strict=True):
                times[name].append(seconds)
            print(f"epoch {epoch + 1}: original {spent[0]:.2f} s, ours {spent[1]:.2f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
        load.append(os.getloadavg()[0])
        val_orig = loop.evaluate(original[0], val, beta=BETA)
        val_ours = loop.evaluate(ours[0], val, beta=BETA)

    n, threads = len(images), torch.get_num_threads()
    mean = {k: statistics.fmean(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    speedup = mean["original"] / mean["ours"]
    print(f"\nTraining throughput: {n} Fashion-MNIST images, batch {BATCH}, {args.epochs} "
          f"epoch(s) each, torch {torch.__version__}, {threads} threads, load average "
          f"{load[0]:.1f} → {load[1]:.1f}")  # fmt: skip
    print(f"{'pipeline':<9} {'setup s':>8} {'s/epoch':>8} {'fastest':>8} {'img/s':>7}  "
          "validation loss per image (MSE + KL at z = μ)")  # fmt: skip
    for name, setup, v in (("original", setup_original, val_orig), ("ours", setup_ours, val_ours)):
        print(f"{name:<9} {setup:>8.2f} {mean[name]:>8.2f} {best[name]:>8.2f} "
              f"{n / mean[name]:>7.0f}  {v}")  # fmt: skip
    print(f"speedup {speedup:.2f}× (mean epochs), {best['original'] / best['ours']:.2f}× "
          "(fastest epochs)")  # fmt: skip
    steps = args.epochs * -(-n // BATCH)
    per_batch = {k: v * 1000 / steps for k, v in split.items()}
    ours_batch = sum(times["ours"]) * 1000 / steps
    ceiling = sum(per_batch.values()) / per_batch["step"]
    print(
        f"per batch: original {per_batch['data']:.1f} ms waiting for the DataLoader + "
        f"{per_batch['step']:.1f} ms in the training step; ours {ours_batch:.1f} ms in all. "
        f"With data for free and the original's step, the speedup would be {ceiling:.2f}×."
    )
    print(json.dumps({
        "original_s_per_epoch": round(mean["original"], 3),
        "ours_s_per_epoch": round(mean["ours"], 3),
        "speedup": round(speedup, 2),
        "original_val_loss": round(val_orig.loss, 3),
        "ours_val_loss": round(val_ours.loss, 3),
        "original_data_ms_per_batch": round(per_batch["data"], 2),
        "original_step_ms_per_batch": round(per_batch["step"], 2),
        "ours_ms_per_batch": round(ours_batch, 2),
        "speedup_with_free_data": round(ceiling, 2),
        "original_fastest_s": round(best["original"], 3),
        "ours_fastest_s": round(best["ours"], 3),
        "images": n,
        "epochs": args.epochs,
        "torch": torch.__version__,
        "threads": threads,
        "load_average": [round(x, 2) for x in load],
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
