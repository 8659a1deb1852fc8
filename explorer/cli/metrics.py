"""``vae-explorer metrics``: which latent dimension carries which factor, and the MIG, as JSON."""

from __future__ import annotations

import argparse
import json

from explorer.cli.common import CommandError, add_checkpoint, int_in, load_checkpoint

HELP = "which dimension is which factor: mutual information and MIG, as JSON"
DESCRIPTION = """Encode data the model knows and print, as JSON, the mutual information between
each latent dimension's posterior mean and each factor (dimensions × factors, nats), the mutual
information gap (MIG, Chen et al. 2018, as disentanglement_lib computes it) and each factor's
most informative dimension. A model trained on the generated shapes (train.py --dataset shapes)
is scored against their factors (shape, hue, scale, rotation, x, y), drawn afresh from --seed;
any other, against the labels of its data sample."""
EPILOG = """example:
  vae-explorer metrics mnist-beta10"""
MAX_IMAGES = 20_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checkpoint(parser)
    parser.add_argument(
        "--images",
        type=int_in(100, MAX_IMAGES),
        default=2000,
        help=f"shapes drawn to score against (default: %(default)s, at most {MAX_IMAGES:,})",
    )
    parser.add_argument("--seed", type=int_in(0, 2**31 - 1), default=1, help="default: 1")
    parser.add_argument("--data-dir", metavar="DIR", help="the data set of a non-zoo checkpoint")


def run(args: argparse.Namespace) -> int:
    from explorer.compute import decoding, factors
    from explorer.data import datasets, shapes
    from explorer.data.samples import load_sample

    loaded = load_checkpoint(args.checkpoint)
    info, vae = loaded.info, loaded.model
    if not vae.has_encoder:
        raise CommandError(f"{info.name} has no encoder: it cannot place data in its latent space")
    if info.dataset == datasets.SHAPES:
        size = decoding.image_shape(vae)[1]
        made = shapes.generate(args.images, seed=args.seed, size=size)
        codes = decoding.posterior(vae, made.images)[0]
        scores = factors.scores(codes, made.factors, shapes.FACTORS, discrete=("shape",))
        against = f"{args.images} shapes drawn from seed {args.seed}"
    else:
        sample = load_sample(info.source, info.dataset, args.data_dir)
        if sample is None or sample.shape != decoding.image_shape(vae):
            raise CommandError(
                f"no data sample of {info.name}'s images: give --data-dir with its data set"
            )
        codes = decoding.posterior(vae, sample.images)[0]
        scores = factors.scores(codes, sample.labels[:, None], ("label",), discrete=("label",))
        against = f"the labels of {sample.source} ({len(sample)} images)"
    print(json.dumps({"model": info.name, "against": against, **scores.to_dict()}, indent=2))
    return 0
