"""``vae-explorer figure``: one of the explorer's views as a labelled PNG, or an animated GIF.

The options are settled here: their caps, the defaults a figure gets when an option is not given
(z = 0, the first 16 dimensions, interpolation's ends from the data sample, compare's zoo
siblings), and the checks that name an option in their messages. explorer.figures only draws
(and refuses a figure too large to draw). The caps are checked by argparse, before torch is
imported; what needs the model (a dimension beyond its size) once it is loaded.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from explorer.cli.common import (
    PROG,
    CommandError,
    add_checkpoint,
    add_out,
    check_out,
    check_seed,
    check_suffix,
    int_in,
    load_checkpoint,
    vector,
    write,
)
from explorer.latent.table import SEED_BOUNDS

FIGURES = ("traversal", "samples", "interpolation", "manifold", "compare")
ANIMATED = ("traversal", "interpolation")
# Caps on what one figure may ask for: each keeps the decoded batch and the drawing small.
MAX_STEPS = 41  # traversal and interpolation columns, manifold rows and columns, GIF 2N-2 frames
MAX_COUNT = 256  # samples drawn; compare's rows of prior draws
MAX_DIMS = 32  # traversal rows (each a different dimension)
MAX_MODELS = 8  # compare's other models
MAX_SCALE = 16  # output pixels per image pixel
FRAME_MS = (20, 60000)  # --frame-ms bounds (browsers draw shorter GIF frames at 100 ms)
# Given in --help; the drawing refuses above them (tests check that the copies agree).
MAX_SIDE = 4096  # figures.stills.MAX_SIDE: pixels a side of a figure, whatever the options
MAX_GIF_PIXELS = 2**25  # figures.animation.MAX_PIXELS: pixels of all an animation's frames
# A traversal's default rows, the first dimensions: as many as the app shows at once,
# compute.divergence.PAGE_SIZE, copied for --help so that parsing imports no torch (tests compare).
TRAVERSAL_ROWS = 16

HELP = "write a publication figure (traversal, samples, ...) as a PNG or animated GIF"
DESCRIPTION = f"""Write one of the explorer's views as a labelled figure:
  traversal      one row per dimension, swept across [-3, 3] from z
  samples        K draws of z ~ N(mu, sigma^2) (default: the prior)
  interpolation  linear and spherical paths from A to B
  manifold       the decoded grid over two dimensions (--dims I,J)
  compare        the same z (or K prior draws) decoded by several checkpoints
--out picks the format: .png, or .gif to animate traversal (frame k: every dimension
at the k-th value of the sweep, -3 -> 3 -> -3) or interpolation (t: 0 -> 1 -> 0).
Vectors take one number per latent dimension: z, A and B in [-4, 4], mu in [-3, 3],
sigma in [0, 2]. Every size has a cap (below); a figure is also refused before it is
drawn when a side would pass {MAX_SIDE} pixels, and an animation when its frames
would hold more than {MAX_GIF_PIXELS:,} pixels in all."""
EPILOG = f"""examples:
  {PROG} figure traversal mnist-beta1 --out traversal.png
  {PROG} figure traversal mnist-beta1 --out traversal.gif --frame-ms 80
  {PROG} figure compare mnist-beta1 --out betas.png --count 8"""


def dims_list(text: str) -> list[int]:
    """An argparse type: at most MAX_DIMS different dimensions, "0,3,5" (the model's latent size
    is checked once it is loaded)."""
    parts = text.split(",")
    if len(parts) > MAX_DIMS:
        raise argparse.ArgumentTypeError(f"at most {MAX_DIMS} dimensions, got {len(parts)}")
    try:
        dims = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers such as 0,1, got {text[:40]!r}"
        ) from None
    if any(d < 0 for d in dims):
        raise argparse.ArgumentTypeError(f"dimensions start at 0, got {text[:40]!r}")
    twice = [d for k, d in enumerate(dims) if d in dims[:k]]
    if twice:
        raise argparse.ArgumentTypeError(f"dimension {twice[0]} is given twice")
    return dims


def models_list(text: str) -> list[str]:
    """An argparse type: at most MAX_MODELS different checkpoints, comma-separated."""
    models = [part.strip() for part in text.split(",")]
    if len(models) > MAX_MODELS:
        raise argparse.ArgumentTypeError(f"at most {MAX_MODELS} models, got {len(models)}")
    if not all(models):
        raise argparse.ArgumentTypeError(f"an empty name in {text[:80]!r}")
    if len(set(models)) != len(models):
        raise argparse.ArgumentTypeError("a model is given twice")
    return models


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=FIGURES, metavar="{" + ",".join(FIGURES) + "}")
    add_checkpoint(parser)
    add_out(parser, "FILE", "the figure: .png, or .gif")
    vector = {"metavar": "V1,V2,...", "default": None}
    parser.add_argument("--z", help="z for traversal, manifold and compare (default: 0)", **vector)
    parser.add_argument("--mu", help="samples: the mean (default: 0)", **vector)
    parser.add_argument("--sigma", help="samples: the standard deviation (default: 1)", **vector)
    parser.add_argument(
        "--a", help="interpolation: start (default: a data image's q(z|x) mean)", **vector
    )
    parser.add_argument("--b", help="interpolation: end (default: another data image's)", **vector)
    parser.add_argument(
        "--dims",
        type=dims_list,
        metavar="I,J,...",
        help="dimensions by index, counting from 0 (labelled z1, z2, ... as in the app): "
        f"traversal rows (default: the first {TRAVERSAL_ROWS}; at most {MAX_DIMS}, each once); "
        "manifold: two dimensions (default: 0,1)",
    )
    parser.add_argument(
        "--steps",
        type=int_in(2, MAX_STEPS),
        metavar="N",
        help="columns of traversal and interpolation (11; GIF frames 2N-2, N=21), manifold grid "
        f"size (15); 2 to {MAX_STEPS}",
    )
    parser.add_argument(
        "--count",
        type=int_in(1, MAX_COUNT),
        metavar="K",
        help=f"samples: how many (64); compare: rows of prior draws (6); at most {MAX_COUNT}",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=f"seed of random draws, {SEED_BOUNDS.low} to {SEED_BOUNDS.high} (default: 0)",
    )
    parser.add_argument(
        "--models",
        type=models_list,
        metavar="CKPT,...",
        help="compare: the other checkpoints (default: the zoo model's siblings at other β, by β; "
        f"at most {MAX_MODELS})",
    )
    parser.add_argument(
        "--data-dir", help="the data set's IDX files, for interpolation's default ends"
    )
    parser.add_argument(
        "--scale",
        type=int_in(1, MAX_SCALE),
        help="output pixels per image pixel (default: 3, GIF: 2, for 28-pixel images; fewer "
        f"for larger ones, 64 pixels: 2 and 1; at most {MAX_SCALE})",
    )
    parser.add_argument(
        "--frame-ms",
        type=int_in(*FRAME_MS),
        metavar="MS",
        help=f"GIF: each frame's time, {FRAME_MS[0]} to {FRAME_MS[1]} (default: 120)",
    )


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    gif = check_suffix(out, (".png", ".gif")) == ".gif"
    if gif and args.kind not in ANIMATED:
        raise CommandError(f"only {' and '.join(ANIMATED)} animate: write {args.kind} as a .png", 2)
    if args.frame_ms is not None and not gif:
        raise CommandError("--frame-ms applies to .gif output only", 2)
    check_seed(args.seed)
    check_out(out)
    from explorer.figures import animation, stills
    from explorer.latent.table import MU, SIGMA, Z_SET

    loaded = load_checkpoint(args.checkpoint)
    n = loaded.info.latent_dim
    bounds = {
        "z": Z_SET.bounds,
        "mu": MU.bounds,
        "sigma": SIGMA.bounds,
        "a": Z_SET.bounds,
        "b": Z_SET.bounds,
    }
    options = {name: vector(f"--{name}", getattr(args, name), n, bounds[name]) for name in bounds}
    check(n, dims=args.dims, steps=args.steps, count=args.count, scale=args.scale)
    others = None  # loaded once the options are known to be good
    if args.models:
        others = {source: load_checkpoint(source).model for source in args.models}
    common = {
        "dims": args.dims, "steps": args.steps, "seed": args.seed, "scale": args.scale,
        "data_dir": args.data_dir,
    }  # fmt: skip
    try:
        if gif:
            frames = make_frames(
                args.kind, loaded, z=options["z"], a=options["a"], b=options["b"], **common
            )
            data = animation.gif_bytes(frames, args.frame_ms or animation.FRAME_MS)
            image = frames[0].image
            what = f"gif, {len(frames)} frames, {len(data):,} bytes"
        else:
            image = make_still(
                args.kind, loaded, count=args.count, others=others, **common, **options
            ).image
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            data, what = buffer.getvalue(), "png"
    except stills.FigureError as exc:  # too large to draw
        raise CommandError(str(exc), 2) from None
    except ValueError as exc:  # a model whose output overflows: NaN or infinite pixels
        raise CommandError(f"cannot draw the figure: {exc}") from None
    write(out, data)
    print(f"wrote {out} ({image.width}x{image.height} {what})")
    return 0


def check(
    n: int,
    *,
    dims: list[int] | None = None,
    steps: int | None = None,
    count: int | None = None,
    scale: int | None = None,
) -> None:
    """CommandError (status 2) unless the options given are within their caps (MAX_STEPS,
    MAX_COUNT, MAX_DIMS, MAX_SCALE: argparse checked them, a caller from Python did not) and
    ``dims`` are different dimensions of a model of latent size ``n``."""
    if dims is not None:
        if not dims:
            raise CommandError("--dims: give at least one dimension", 2)
        if any(not 0 <= d < n for d in dims):
            raise CommandError(f"--dims: dimensions run from 0 to {n - 1} in this model", 2)
        if len(set(dims)) != len(dims):
            raise CommandError("--dims: each dimension may be given once", 2)
        if len(dims) > MAX_DIMS:
            raise CommandError(f"--dims: at most {MAX_DIMS} dimensions, got {len(dims)}", 2)
    for option, value, low, high in [
        ("--steps", steps, 2, MAX_STEPS),
        ("--count", count, 1, MAX_COUNT),
        ("--scale", scale, 1, MAX_SCALE),
    ]:
        if value is not None and value < low:
            raise CommandError(f"{option} must be at least {low}, got {value}", 2)
        if value is not None and value > high:
            raise CommandError(f"{option} must be at most {high}, got {value}", 2)


def make_still(
    kind: str,
    loaded,
    *,
    z=None,
    mu=None,
    sigma=None,
    seed: int = 0,
    count: int | None = None,
    steps: int | None = None,
    dims: list[int] | None = None,
    a=None,
    b=None,
    others: dict | None = None,
    data_dir=None,
    scale: int | None = None,
):
    """The figure ``kind`` (a stills.Figure) of a loaded checkpoint, with defaults: z = 0
    (compare: ``count`` draws of the prior, 6 by default, unless z is given); the prior N(0, I)
    for samples; interpolation between the posterior means of the first two images of the
    model's data sample (two prior draws without one); compare against the zoo siblings (same
    data set, other β), by β; ``scale`` by stills.default_scale. CommandError for options that
    do not fit, stills.FigureError for a figure too large to draw."""
    import numpy as np

    from explorer.compute import decoding, grids
    from explorer.figures import stills

    vae, info = loaded.model, loaded.info
    n = info.latent_dim
    given_z = z is not None
    z = np.asarray(z, np.float32) if given_z else np.zeros(n, np.float32)
    name = info.name
    check(n, dims=dims, steps=steps, count=count, scale=scale)
    scale = scale or stills.default_scale(stills.image_size(vae))
    if kind == "traversal":
        rows = _traversal_dims(n, dims)
        return stills.traversal(vae, z, steps=steps or 11, dims=rows, name=name, scale=scale)
    if kind == "samples":
        mu = np.zeros(n) if mu is None else mu
        sigma = np.ones(n) if sigma is None else sigma
        if np.any(np.asarray(sigma) < 0):
            raise CommandError("--sigma: standard deviations cannot be negative", 2)
        return stills.samples(vae, mu, sigma, count=count or 64, seed=seed, name=name, scale=scale)
    if kind == "interpolation":
        a, b = _ends(loaded, a, b, seed, data_dir)
        return stills.interpolation(vae, a, b, steps=steps or 11, name=name, scale=scale)
    if kind == "manifold":
        if n < 2:
            raise CommandError("a manifold needs a model with at least two latent dimensions", 2)
        pair = dims if dims is not None else [0, 1]
        if len(pair) != 2 or pair[0] == pair[1]:
            raise CommandError("--dims: a manifold needs two different dimensions, e.g. 0,1", 2)
        return stills.manifold(vae, z, (pair[0], pair[1]), n=steps or 15, name=name, scale=scale)
    if kind == "compare":
        if others is not None and len(others) > MAX_MODELS:
            raise CommandError(f"--models: at most {MAX_MODELS} models, got {len(others)}", 2)
        nets = {name: vae, **others} if others is not None else _family(loaded)
        shape = decoding.image_shape(vae)
        for other, net in nets.items():
            if net.latent_dim != n:
                raise CommandError(
                    f"{other} has {net.latent_dim} latent dimensions; {name} has {n}", 2
                )
            if decoding.image_shape(net) != shape:
                raise CommandError(
                    f"{other} decodes {decoding.shape_text(decoding.image_shape(net))} images; "
                    f"{name} decodes {decoding.shape_text(shape)}: compare models of one shape",
                    2,
                )
        rows = z[None] if given_z else grids.prior_draws(n, count or 6, seed)
        return stills.compare(nets, rows, scale=scale)
    raise CommandError(f"unknown figure {kind!r}: choose one of {', '.join(FIGURES)}", 2)


def make_frames(
    kind: str, loaded, *, z=None, dims=None, steps=None, a=None, b=None, seed: int = 0,
    data_dir=None, scale: int | None = None,
) -> list:  # fmt: skip
    """The frames (stills.Figure each) of animation ``kind`` of a loaded checkpoint, with the
    defaults of :func:`make_still`, ``steps`` = animation.STEPS and ``scale`` by
    stills.default_scale from animation.SCALE.
    CommandError for options that do not fit, stills.FigureError for an animation too large."""
    import numpy as np

    from explorer.figures import animation, stills

    if kind not in ANIMATED:
        raise CommandError(f"only {' and '.join(ANIMATED)} animate: write {kind} as a .png", 2)
    vae, info = loaded.model, loaded.info
    n = info.latent_dim
    check(n, dims=dims, steps=steps, scale=scale)
    steps = steps or animation.STEPS
    scale = scale or stills.default_scale(stills.image_size(vae), animation.SCALE)
    if kind == "traversal":
        z = np.zeros(n, np.float32) if z is None else np.asarray(z, np.float32)
        dims = _traversal_dims(n, dims)
        return animation.traversal(vae, z, dims=dims, steps=steps, name=info.name, scale=scale)
    a, b = _ends(loaded, a, b, seed, data_dir)
    return animation.interpolation(vae, a, b, steps=steps, name=info.name, scale=scale)


def _traversal_dims(n: int, dims: list[int] | None) -> list[int]:
    """The dimensions a traversal shows: ``dims``, else the first TRAVERSAL_ROWS."""
    return list(dims) if dims is not None else list(range(min(n, TRAVERSAL_ROWS)))


def _ends(loaded, a, b, seed: int, data_dir) -> tuple:
    """A and B of an interpolation: as given, else the posterior means of the first two images
    of the model's data sample (when the model encodes and the images have its shape), else two
    draws of the prior from ``seed``."""
    if a is None or b is None:
        points = _two_points(loaded, seed, data_dir)
        a = points[0] if a is None else a
        b = points[1] if b is None else b
    return a, b


def _two_points(loaded, seed: int, data_dir):
    import numpy as np

    from explorer.compute import decoding, grids
    from explorer.data.samples import load_sample

    info, vae = loaded.info, loaded.model
    if vae.has_encoder:
        sample = load_sample(info.source, info.dataset, data_dir, n=2)
        if sample is not None and len(sample) == 2 and sample.shape == decoding.image_shape(vae):
            return decoding.encode(vae, sample.images)[0]
    n = info.latent_dim
    return grids.sample_latents(np.zeros(n), np.ones(n), 2, seed)


def _family(loaded) -> dict:
    """The model and the other zoo models of its data set (the same family at other β), by β,
    smallest first, this model marked "(this)" (alone outside the zoo)."""
    from explorer import checkpoint, zoo
    from explorer.compute import grids

    info = loaded.info
    siblings = {name: checkpoint.load(name) for name in zoo.siblings(info.source)}
    family = {info.name: loaded, **siblings}
    if len(family) == 1:
        return {info.name: loaded.model}
    order = grids.by_beta({name: one.info.beta for name, one in family.items()})
    return {f"{name} (this)" if name == info.name else name: family[name].model for name in order}
