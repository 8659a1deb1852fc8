"""Decode time on the CPU: one image (a slider move) and the batched grids the views draw.

Times ``explorer.compute.decoding.decode_image`` for one z and ``decoding.decode`` for one
batch of each grid size the app decodes in one forward pass (12×11 traversal = 132 images,
8×8 samples = 64, 16×16 manifold = 256), median of --repeats after a warm-up, for each torch
thread count asked for (the app runs with 1). Figures, not a test. Prints a table and, last,
one JSON line.

    python benchmarks/decode.py [--repeats 50] [--threads 1,2] [--checkpoint mnist-beta1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

from explorer import checkpoint
from explorer.compute import decoding
from explorer.compute.decoding import decode_image

BATCHES = {"traversal 12x11": 132, "samples 8x8": 64, "manifold 16x16": 256}


def median_ms(call, repeats: int) -> float:
    """Median wall time of ``call()`` in ms, after three untimed calls."""
    for _ in range(3):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e3, 3)


def measure(model, repeats: int) -> dict[str, float]:
    """One row: ms for one image, then for each batch."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(model.latent_dim).astype(np.float32)
    row = {"1 image": median_ms(lambda: decode_image(model, z), repeats)}
    for name, count in BATCHES.items():
        zs = rng.standard_normal((count, model.latent_dim)).astype(np.float32)
        row[name] = median_ms(lambda zs=zs: decoding.decode(model, zs), repeats)
    return row


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_table(rows: dict[int, dict[str, float]]) -> None:
    names = ["1 image", *BATCHES]
    print(f"{'threads':<9}" + "".join(f"{name:>17}" for name in names))
    for threads, row in rows.items():
        print(f"{threads:<9}" + "".join(f"{row[name]:>14.3f} ms" for name in names))
    counts = {"1 image": 1, **BATCHES}
    for threads, row in rows.items():
        per = ", ".join(f"{name} {row[name] / counts[name] * 1e3:.0f} µs" for name in BATCHES)
        print(f"threads {threads}, per image in a batch: {per}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}", help="comma-separated")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    args = parser.parse_args()
    model = checkpoint.load(args.checkpoint).model.eval()
    rows = {}
    for threads in sorted({int(t) for t in args.threads.split(",")}):
        torch.set_num_threads(threads)
        rows[threads] = measure(model, args.repeats)
    print_table(rows)
    line = {
        "benchmark": "decode",
        "checkpoint": args.checkpoint,
        "latent_dim": model.latent_dim,
        "repeats": args.repeats,
        "median_ms": {str(threads): row for threads, row in rows.items()},
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
