"""``vae-explorer export``: one z as a self-contained HTML page, static or living."""

from __future__ import annotations

import argparse
from pathlib import Path

from explorer.cli import common
from explorer.cli.common import PROG, CommandError
from explorer.latent.table import SEED_BOUNDS

SUFFIXES = (".html", ".htm")
# The ways to choose z: option → the options it cannot be combined with.
CONFLICTS = {
    "--from-json": ("--z", "--mu", "--sigma", "--seed", "--prior"),
    "--z": ("--mu", "--sigma", "--seed", "--prior"),
    "--prior": ("--mu", "--sigma"),
}

HELP = "write one z as a static HTML page (image, z bars, values, model), or a living page"
DESCRIPTION = """Write one self-contained HTML page for a fixed z: the decoded image, the z
bar chart, the z values and the model's description, with Bokeh's JavaScript inline,
so that it opens in a browser with no server and no network.

Choose z as in the explorer: exactly (--z); sampled, z = μ + σ·ε with ε ~ N(0, I)
drawn from --seed (--mu, --sigma, --seed; those not given keep the explorer's
defaults μ = 0, σ = 1, seed 0); from the prior (--prior --seed N); or from a state
file saved by the explorer's JSON download (--from-json). The same settings give the
same image as the explorer shows."""
EPILOG = f"""examples:
  {PROG} export mnist-beta1 --z 0.5,-1,0,0,0,0,0,0,0,0,0,2 --out z.html
  {PROG} export mnist-beta1 --mu 1,0,0,0,0,0,0,0,0,0,0,0 --seed 42 --out sample.html
  {PROG} export --from-json mnist-beta1-z.json --out page.html
  {PROG} export mnist-beta1 --live --out living.html"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_checkpoint(
        parser, optional=True, when="needed unless --from-json names one (then it replaces it)"
    )
    parser.add_argument(
        "--z", metavar="V1,V2,...", help="set z exactly: one number in [-4, 4] per latent dimension"
    )
    parser.add_argument(
        "--mu", metavar="V1,V2,...", help="μ: one number in [-3, 3] per dimension (default: 0)"
    )
    parser.add_argument(
        "--sigma", metavar="V1,V2,...", help="σ: one number in [0, 2] per dimension (default: 1)"
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help=f"the seed of ε, 0 to {SEED_BOUNDS.high} (default: 0)"
    )
    parser.add_argument("--prior", action="store_true", help="z = ε ~ N(0, I), drawn from --seed")
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="STATE",
        help="a state file from the explorer's JSON download (model, mode, μ, σ, z, seed)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="a living page: the decoder runs in the page, so its z, μ, σ and seed sliders, "
        "modes and Resample work with no server and no network (starts from the settings given)",
    )
    common.add_out(parser, "PAGE.html", "the page to write")


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    common.check_suffix(out, SUFFIXES)
    given = {
        option
        for option in ("--from-json", "--z", "--mu", "--sigma", "--seed", "--prior")
        if getattr(args, option[2:].replace("-", "_")) not in (None, False)
    }
    for option, others in CONFLICTS.items():
        clash = [other for other in others if option in given and other in given]
        if clash:
            raise CommandError(f"{option} cannot be combined with {clash[0]}", 2)
    common.check_seed(args.seed)
    if args.from_json is None and args.checkpoint is None:
        raise CommandError("CKPT is required unless --from-json names the model", 2)
    common.check_out(out)
    if args.from_json is not None:
        model = common.load_state(args.from_json, args.checkpoint)
    else:
        model = _model(args)

    # HoloViews and Bokeh: only once the input is good
    from explorer.pages import layers, living, static

    try:
        (living if args.live else static).export_html(model, out)
    except layers.LayerError as exc:
        raise CommandError(f"cannot write a living page: {exc}", 2) from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


def _model(args: argparse.Namespace):
    """A LatentModel on CKPT (decoding on the CPU) set from --z / --mu, --sigma, --seed."""
    from explorer.latent.space import LatentModel
    from explorer.latent.table import MU, SIGMA, Z_SET

    model = LatentModel(checkpoint=args.checkpoint, device="cpu")
    if model.info is None:
        raise CommandError(model.message)
    n = model.latent_dim
    settings = {"mode": "prior" if args.prior else "sample"}
    vectors = [
        ("--z", "z_set", Z_SET.bounds),
        ("--mu", "mu", MU.bounds),
        ("--sigma", "sigma", SIGMA.bounds),
    ]
    for option, name, bounds in vectors:
        values = common.vector(option, getattr(args, option[2:]), n, bounds)
        if values is not None:
            settings[name] = values
    if args.z is not None:
        settings["mode"] = "deterministic"
    if args.seed is not None:
        settings["seed"] = args.seed
    model.param.update(**settings)
    return model
