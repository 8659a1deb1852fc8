"""Decode time on the CPU: one image (a slider move) and the batched grids the views draw.

Times ``explorer.compute.decoding.decode_image`` for one z and ``decoding.decode`` for one
batch of each grid size the app decodes in one forward pass (12×11 traversal = 132 images,
8×8 samples = 64, 16×16 manifold = 256), median of --repeats after a warm-up, for each torch
thread count asked for (the app runs with 1). With --runtimes, also the same models as ONNX
files run by onnxruntime (one thread, as the app runs them), and a 64×64 RGB decoder of about the
zoo's size (benchmarks/models.py). Figures, not a test. Prints a table and, last, one JSON line.

    python benchmarks/decode.py [--repeats 50] [--threads 1,2] [--checkpoint mnist-beta1]
        [--runtimes]   # 28×28 grey and 64×64 RGB, torch and onnxruntime
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from models import RGB64, rgb64_onnx

from explorer import checkpoint
from explorer.compute import decoding
from explorer.compute.decoding import decode_image
from explorer.formats import module, onnx_export, onnx_file

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


def compare_runtimes(loaded, folder: Path, repeats: int) -> dict[str, dict[str, float]]:
    """The zoo model and RGB64 in torch and in onnxruntime, one thread each: one row per pair."""
    torch.set_num_threads(1)
    grey_onnx = folder / f"{loaded.info.stem}.onnx"
    if not grey_onnx.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        onnx_export.export(loaded.model, grey_onnx, loaded.info)
    models = {
        f"{loaded.info.stem} 28x28 grey, torch": loaded.model,
        f"{loaded.info.stem} 28x28 grey, onnxruntime": onnx_file.load(grey_onnx, "grey")[0],
        "rgb64 64x64 RGB, torch": module.wrap(RGB64(), "rgb64", output="sigmoid").model,
        "rgb64 64x64 RGB, onnxruntime": onnx_file.load(rgb64_onnx(folder), "rgb64")[0],
    }
    rows = {name: measure(model, repeats) for name, model in models.items()}
    names = ["1 image", *BATCHES]
    print(f"\n{'model, runtime (1 thread)':<44}" + "".join(f"{name:>17}" for name in names))
    for name, row in rows.items():
        print(f"{name:<44}" + "".join(f"{row[n]:>14.3f} ms" for n in names))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}", help="comma-separated")
    parser.add_argument("--checkpoint", default="mnist-beta1")
    parser.add_argument("--runtimes", action="store_true", help="also ONNX, and 64×64 RGB")
    parser.add_argument("--work-dir", default="/tmp/vae-bench", help="where ONNX files go")
    args = parser.parse_args()
    loaded = checkpoint.load(args.checkpoint)
    model = loaded.model.eval()
    rows = {}
    for threads in sorted({int(t) for t in args.threads.split(",")}):
        torch.set_num_threads(threads)
        rows[threads] = measure(model, args.repeats)
    print_table(rows)
    runtimes = compare_runtimes(loaded, Path(args.work_dir), args.repeats) if args.runtimes else {}
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
        "runtimes_ms": runtimes,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
