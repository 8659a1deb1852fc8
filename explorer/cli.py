"""The ``vae-explorer`` command.

Each subcommand is an ``add_<name>(commands)`` function that declares its arguments and a
``run_<name>(args) -> int`` that does the work; :func:`build_parser` lists them. A command reports
a failure by raising :class:`CommandError`: :func:`main` prints its message as one line on stderr
and exits with its status (2 for bad arguments, 1 for anything else), never with a traceback.
Every number a command takes has a cap (the constants below, given in ``--help``), checked before
any work starts, so that no command line can ask for unbounded time, memory or output.

torch is imported inside the commands, not here, so that ``--help`` and usage errors answer at
once instead of after the ~2 s it takes to import torch.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from explorer import __version__, zoo
from explorer.options import add_access_arguments

PROG = "vae-explorer"
# Caps, copied from the modules that enforce them again (tests check that the copies agree) so
# that argparse refuses a value before torch is imported or anything is loaded.
MAX_STEPS = 41  # stills.MAX_STEPS: traversal/interpolation columns, manifold size, GIF 2N-2
MAX_COUNT = 256  # stills.MAX_COUNT: samples; compare's rows of prior draws
MAX_DIMS = 32  # stills.MAX_DIMS: traversal rows
MAX_MODELS = 8  # stills.MAX_MODELS: compare's --models
FIGURE_MAX_SCALE = 16  # stills.MAX_SCALE
MAX_SIDE = 4096  # stills.MAX_SIDE: pixels a side of a figure, whatever the options
MAX_GIF_PIXELS = 2**25  # animation.MAX_PIXELS: pixels of all an animation's frames together
DECODE_MAX_SCALE = 64  # png.MAX_SCALE: 28 px → 1792 px
SEED_BOUNDS = (0, 2**31 - 1)  # latent.SEED_BOUNDS
FRAME_MS = (20, 60000)  # --frame-ms bounds (browsers draw shorter GIF frames at 100 ms)
MAX_PROCS = 64  # serve --num-procs
MAX_MS = 86_400_000  # serve's session timings: one day
MAX_UPLOAD_MB = 1024.0  # serve --max-upload-mb: an upload is held in memory, base64 on the wire
MESSAGE_CHARS = 1000  # an error message longer than this keeps its start and its end
IMAGE_SUFFIXES = (".png", ".npy")
CHECKPOINT_HELP = (
    "a checkpoint file (ours, the original Streamlit app's .pth, or a bare state dict) "
    f"or a zoo model name ({', '.join(zoo.NAMES)})"
)


class CommandError(Exception):
    """A command failed; the message is one line for the user, ``status`` the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), like every other error here."""

    def error(self, message: str):
        self.exit(2, one_line(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: the program's options and one subparser per command."""
    parser = Parser(
        prog=PROG,
        description="Explore the latent space of a variational autoencoder (VAE).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=Parser
    )
    add_info(commands)
    add_decode(commands)
    add_export(commands)
    add_figure(commands)
    add_serve(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(_attach_negative_values(argv))
    try:
        return args.run(args)
    except CommandError as exc:
        print(one_line(f"{PROG} {args.command}: error: {exc}"), file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or an input nobody foresaw: still one line
        print(one_line(f"{PROG}: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return 1


def one_line(text: str) -> str:
    """``text`` as one printable line: control characters escaped (a file name may hold a
    newline), and at most MESSAGE_CHARS long, keeping both ends."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(text) > MESSAGE_CHARS:
        text = f"{text[: MESSAGE_CHARS - 200]} ... {text[-195:]}"
    return text


# Options whose value may start with "-" (a negative number): argparse would read "-1,2" as an
# option (bpo-9334), so "--z -1,2" is passed on as "--z=-1,2".
_VALUE_OPTIONS = ("--z", "--mu", "--sigma", "--a", "--b", "--dims")
_NEGATIVE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)


def _attach_negative_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in _VALUE_OPTIONS and _NEGATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def int_in(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also a number of more than 4300 digits
            raise argparse.ArgumentTypeError(f"invalid int value: {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {text[:40]}")
        return value

    return parse


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


def check_seed(seed: int | None) -> None:
    """CommandError (status 2) for a --seed outside SEED_BOUNDS."""
    if seed is not None and not SEED_BOUNDS[0] <= seed <= SEED_BOUNDS[1]:
        raise CommandError(f"--seed must be in [{SEED_BOUNDS[0]}, {SEED_BOUNDS[1]}]", 2)


def check_out(out: Path) -> None:
    """CommandError unless a file can be made at ``out`` (not a folder; its folder exists):
    checked before any work, the write itself may still fail."""
    try:
        if out.is_dir():
            raise CommandError(f"cannot write {out}: it is a folder")
        if not out.parent.is_dir():
            raise CommandError(f"cannot write {out}: no folder {out.parent}")
    except OSError as exc:  # e.g. a name too long
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None


def write(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out``; a failure is a CommandError."""
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None


def vector(option: str, text: str | None, n: int, bounds: tuple[float, float]):
    """The value of a vector option (``--z 0.5,-1,...``): ``n`` finite numbers within
    ``bounds``; None when not given. A bad one is a CommandError naming the option and value."""
    from explorer.compute.decoding import parse_vector

    if text is None:
        return None
    try:
        values = parse_vector(text, n)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}", 2) from None
    low, high = bounds
    for i, value in enumerate(values, start=1):
        if not low <= value <= high:
            raise CommandError(f"{option}: value {i} ({value:g}) is outside [{low:g}, {high:g}]", 2)
    return values


def load_checkpoint(source: str):
    """checkpoint.load; whatever goes wrong is a CommandError (exit status 1)."""
    from explorer import checkpoint

    try:
        return checkpoint.load(source)
    except checkpoint.CheckpointError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot read {source}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CommandError(f"cannot read {source}: {exc}") from None


def load_state(path: Path, checkpoint: str | None):
    """A LatentModel in the state saved in ``path`` (``checkpoint``, if given, replaces its
    model); a bad file is a CommandError with status 2, a checkpoint that fails one with 1."""
    from explorer.checkpoint import CheckpointError
    from explorer.latent import state

    try:
        data = state.read(path)  # its messages start with the path
    except state.StateError as exc:
        raise CommandError(f"--from-json {exc}", 2) from None
    try:
        return state.model_from_json(data, checkpoint)
    except state.StateError as exc:
        raise CommandError(f"--from-json {path}: {exc}", 2) from None
    except CheckpointError as exc:
        raise CommandError(str(exc)) from None


# info ----------------------------------------------------------------------------------------


def add_info(commands) -> None:
    parser = commands.add_parser(
        "info",
        help="describe a checkpoint as JSON",
        description="Print what a checkpoint says about its model (format, latent size, β, "
        "training losses, ...) as JSON on stdout.",
    )
    parser.add_argument("checkpoint", metavar="CKPT", help=CHECKPOINT_HELP)
    parser.set_defaults(run=run_info)


def run_info(args: argparse.Namespace) -> int:
    info = load_checkpoint(args.checkpoint).info
    print(json.dumps(info.to_dict(), indent=2, default=str))
    return 0


# decode --------------------------------------------------------------------------------------


def add_decode(commands) -> None:
    parser = commands.add_parser(
        "decode",
        help="decode one latent vector z into an image file",
        description="Decode one latent vector z and write the image as shown in the explorer:\n"
        "a .png (8-bit grey) or a .npy (28×28 float32 in [0, 1]). z is given with --z, or read\n"
        "from a state file saved by the explorer's JSON download (--from-json).",
        epilog=f"examples:\n  {PROG} decode model.pth --z -1.5,0,0.8 --out digit.png --scale 8\n"
        f"  {PROG} decode --from-json mnist-beta1-z.json --out digit.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "checkpoint",
        metavar="CKPT",
        nargs="?",
        help=f"{CHECKPOINT_HELP}; needed with --z; with --from-json, it replaces the file's model",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--z",
        metavar="V1,V2,...",
        help="the latent vector: one comma-separated number in [-4, 4] per latent dimension",
    )
    source.add_argument(
        "--from-json",
        type=Path,
        metavar="STATE",
        help="a state file from the explorer's JSON download: decodes its z with its model, "
        "giving the image the explorer showed",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="output file; its suffix picks the format: .png or .npy",
    )
    parser.add_argument(
        "--scale",
        type=int_in(1, DECODE_MAX_SCALE),
        default=1,
        metavar="K",
        help="for .png: draw each pixel as a K×K block (nearest neighbour; default 1, "
        f"at most {DECODE_MAX_SCALE})",
    )
    parser.set_defaults(run=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    out: Path = args.out
    suffix = out.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise CommandError(
            f"cannot write {out.name!r}: --out must end in {' or '.join(IMAGE_SUFFIXES)}", 2
        )
    if suffix == ".npy" and args.scale != 1:
        raise CommandError("--scale applies to .png output only", 2)
    if args.from_json is None and args.checkpoint is None:
        raise CommandError("CKPT is required with --z", 2)
    check_out(out)

    import numpy as np

    from explorer.compute.decoding import decode_image
    from explorer.figures.png import to_png_bytes
    from explorer.latent.space import Z_BOUNDS

    if args.from_json is not None:
        image = load_state(args.from_json, args.checkpoint).image
    else:
        ckpt = load_checkpoint(args.checkpoint)
        z = vector("--z", args.z, ckpt.info.latent_dim, Z_BOUNDS)
        image = decode_image(ckpt.model, z)
    try:
        if suffix == ".png":
            data = to_png_bytes(image, args.scale)
        else:
            buffer = io.BytesIO()
            np.save(buffer, image)
            data = buffer.getvalue()
    except ValueError as exc:  # a model whose output overflows: NaN or infinite pixels
        raise CommandError(f"cannot write the image: {exc}") from None
    write(out, data)
    size = image.shape[0] * args.scale
    print(f"wrote {out} ({size}x{size} {suffix[1:]})")
    return 0


# export --------------------------------------------------------------------------------------

HTML_SUFFIXES = (".html", ".htm")
# export's ways to choose z: option → the options it cannot be combined with
EXPORT_CONFLICTS = {
    "--from-json": ("--z", "--mu", "--sigma", "--seed", "--prior"),
    "--z": ("--mu", "--sigma", "--seed", "--prior"),
    "--prior": ("--mu", "--sigma"),
}


def add_export(commands) -> None:
    parser = commands.add_parser(
        "export",
        help="write one z as a static HTML page (image, z bars, values, model), or a living page",
        description="Write one self-contained HTML page for a fixed z: the decoded image, the z\n"
        "bar chart, the z values and the model's description, with Bokeh's JavaScript inline,\n"
        "so that it opens in a browser with no server and no network.\n\n"
        "Choose z as in the explorer: exactly (--z); sampled, z = μ + σ·ε with ε ~ N(0, I)\n"
        "drawn from --seed (--mu, --sigma, --seed; those not given keep the explorer's\n"
        "defaults μ = 0, σ = 1, seed 0); from the prior (--prior --seed N); or from a state\n"
        "file saved by the explorer's JSON download (--from-json). The same settings give the\n"
        "same image as the explorer shows.",
        epilog="examples:\n"
        f"  {PROG} export mnist-beta1 --z 0.5,-1,0,0,0,0,0,0,0,0,0,2 --out z.html\n"
        f"  {PROG} export mnist-beta1 --mu 1,0,0,0,0,0,0,0,0,0,0,0 --seed 42 --out sample.html\n"
        f"  {PROG} export --from-json mnist-beta1-z.json --out page.html\n"
        f"  {PROG} export mnist-beta1 --live --out living.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "checkpoint",
        metavar="CKPT",
        nargs="?",
        help=f"{CHECKPOINT_HELP}; needed unless --from-json names one (then it replaces it)",
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
        "--seed", type=int, metavar="N", help=f"the seed of ε, 0 to {SEED_BOUNDS[1]} (default: 0)"
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
    parser.add_argument(
        "--out", required=True, type=Path, metavar="PAGE.html", help="the page to write"
    )
    parser.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() not in HTML_SUFFIXES:
        raise CommandError(f"cannot write {out.name!r}: --out must end in .html", 2)
    given = {
        option
        for option in ("--from-json", "--z", "--mu", "--sigma", "--seed", "--prior")
        if getattr(args, option[2:].replace("-", "_")) not in (None, False)
    }
    for option, others in EXPORT_CONFLICTS.items():
        clash = [other for other in others if option in given and other in given]
        if clash:
            raise CommandError(f"{option} cannot be combined with {clash[0]}", 2)
    check_seed(args.seed)
    if args.from_json is None and args.checkpoint is None:
        raise CommandError("CKPT is required unless --from-json names the model", 2)
    check_out(out)
    if args.from_json is not None:
        model = load_state(args.from_json, args.checkpoint)
    else:
        model = _export_model(args)

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


def _export_model(args: argparse.Namespace):
    """A LatentModel on CKPT (decoding on the CPU) set from --z / --mu, --sigma, --seed."""
    from explorer.latent.space import MU_BOUNDS, SIGMA_BOUNDS, Z_BOUNDS, LatentModel

    model = LatentModel(checkpoint=args.checkpoint, device="cpu")
    if model.info is None:
        raise CommandError(model.message)
    n = model.latent_dim
    settings = {"mode": "prior" if args.prior else "sample"}
    vectors = [
        ("--z", "z_set", Z_BOUNDS),
        ("--mu", "mu", MU_BOUNDS),
        ("--sigma", "sigma", SIGMA_BOUNDS),
    ]
    for option, name, bounds in vectors:
        values = vector(option, getattr(args, option[2:]), n, bounds)
        if values is not None:
            settings[name] = values
    if args.z is not None:
        settings["mode"] = "deterministic"
    if args.seed is not None:
        settings["seed"] = args.seed
    model.param.update(**settings)
    return model


# figure --------------------------------------------------------------------------------------


FIGURES = ("traversal", "samples", "interpolation", "manifold", "compare")  # stills.FIGURES
ANIMATED = ("traversal", "interpolation")  # animation.ANIMATED


def add_figure(commands) -> None:
    parser = commands.add_parser(
        "figure",
        help="write a publication figure (traversal, samples, ...) as a PNG or animated GIF",
        description="Write one of the explorer's views as a labelled figure:\n"
        "  traversal      one row per dimension, swept across [-3, 3] from z\n"
        "  samples        K draws of z ~ N(mu, sigma^2) (default: the prior)\n"
        "  interpolation  linear and spherical paths from A to B\n"
        "  manifold       the decoded grid over two dimensions (--dims I,J)\n"
        "  compare        the same z (or K prior draws) decoded by several checkpoints\n"
        "--out picks the format: .png, or .gif to animate traversal (frame k: every dimension\n"
        "at the k-th value of the sweep, -3 -> 3 -> -3) or interpolation (t: 0 -> 1 -> 0).\n"
        "Vectors take one number per latent dimension: z, A and B in [-4, 4], mu in [-3, 3],\n"
        "sigma in [0, 2]. Every size has a cap (below); a figure is also refused before it is\n"
        f"drawn when a side would pass {MAX_SIDE} pixels, and an animation when its frames\n"
        f"would hold more than {MAX_GIF_PIXELS:,} pixels in all.",
        epilog=f"examples:\n  {PROG} figure traversal mnist-beta1 --out traversal.png\n"
        f"  {PROG} figure traversal mnist-beta1 --out traversal.gif --frame-ms 80\n"
        f"  {PROG} figure compare mnist-beta1 --out betas.png --count 8",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=FIGURES, metavar="{" + ",".join(FIGURES) + "}")
    parser.add_argument("checkpoint", metavar="CKPT", help=CHECKPOINT_HELP)
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="the figure: .png, or .gif"
    )
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
        f"traversal rows (default: the first 16; at most {MAX_DIMS}, each once); manifold: two "
        "dimensions (default: 0,1)",
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
        help=f"seed of random draws, 0 to {SEED_BOUNDS[1]} (default: 0)",
    )
    parser.add_argument(
        "--models",
        type=models_list,
        metavar="CKPT,...",
        help="compare: the other checkpoints (default: the zoo model's siblings at other β; "
        f"at most {MAX_MODELS})",
    )
    parser.add_argument(
        "--data-dir", help="the data set's IDX files, for interpolation's default ends"
    )
    parser.add_argument(
        "--scale",
        type=int_in(1, FIGURE_MAX_SCALE),
        help=f"output pixels per image pixel (default: 3; GIF: 2; at most {FIGURE_MAX_SCALE})",
    )
    parser.add_argument(
        "--frame-ms",
        type=int_in(*FRAME_MS),
        metavar="MS",
        help=f"GIF: each frame's time, {FRAME_MS[0]} to {FRAME_MS[1]} (default: 120)",
    )
    parser.set_defaults(run=run_figure)


def run_figure(args: argparse.Namespace) -> int:
    out: Path = args.out
    gif = out.suffix.lower() == ".gif"
    if out.suffix.lower() not in (".png", ".gif"):
        raise CommandError(f"cannot write {out.name!r}: --out must end in .png or .gif", 2)
    if gif and args.kind not in ANIMATED:
        raise CommandError(f"only {' and '.join(ANIMATED)} animate: write {args.kind} as a .png", 2)
    if args.frame_ms is not None and not gif:
        raise CommandError("--frame-ms applies to .gif output only", 2)
    check_seed(args.seed)
    check_out(out)
    from explorer.figures import animation, stills
    from explorer.latent.space import MU_BOUNDS, SIGMA_BOUNDS, Z_BOUNDS

    loaded = load_checkpoint(args.checkpoint)
    n = loaded.info.latent_dim
    bounds = {"z": Z_BOUNDS, "mu": MU_BOUNDS, "sigma": SIGMA_BOUNDS, "a": Z_BOUNDS, "b": Z_BOUNDS}
    options = {name: vector(f"--{name}", getattr(args, name), n, bounds[name]) for name in bounds}
    try:
        stills.check(n, dims=args.dims, steps=args.steps, count=args.count, scale=args.scale)
    except stills.FigureError as exc:  # before the other models load
        raise CommandError(str(exc), 2) from None
    others = None
    if args.models:
        others = {source: load_checkpoint(source).model for source in args.models}
    common = {"dims": args.dims, "steps": args.steps, "seed": args.seed, "data_dir": args.data_dir}
    try:
        if gif:
            frames = animation.build(
                args.kind, loaded, z=options["z"], a=options["a"], b=options["b"],
                scale=args.scale or animation.SCALE, **common,
            )  # fmt: skip
            data = animation.gif_bytes(frames, args.frame_ms or animation.FRAME_MS)
            image = frames[0].image
            what = f"gif, {len(frames)} frames, {len(data):,} bytes"
        else:
            image = stills.build(
                args.kind, loaded, count=args.count, others=others, scale=args.scale or 3,
                **common, **options,
            ).image  # fmt: skip
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            data, what = buffer.getvalue(), "png"
    except stills.FigureError as exc:
        raise CommandError(str(exc), 2) from None
    except ValueError as exc:  # a model whose output overflows: NaN or infinite pixels
        raise CommandError(f"cannot draw the figure: {exc}") from None
    write(out, data)
    print(f"wrote {out} ({image.width}x{image.height} {what})")
    return 0


# serve ---------------------------------------------------------------------------------------


def add_serve(commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the explorer in the browser",
        description="Serve the interactive explorer (the app of `panel serve "
        "apps/explorer.py`) on a Bokeh server. Without CKPT: ./vae_high_kl.pth when present "
        f"(as the original app), otherwise the bundled model {zoo.DEFAULT}.",
    )
    parser.add_argument("checkpoint", metavar="CKPT", nargs="?", help=CHECKPOINT_HELP)
    parser.add_argument(
        "--port",
        type=int_in(1, 65535),
        default=5006,
        help="port, 1 to 65535 (default: %(default)s)",
    )
    parser.add_argument(
        "--address", default="localhost", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--allow-websocket-origin",
        action="append",
        metavar="HOST[:PORT]",
        help="a host that may open the page (repeatable; default: the address and port)",
    )
    parser.add_argument(
        "--num-procs",
        type=int_in(1, MAX_PROCS),
        default=1,
        help=f"server processes (default: 1, at most {MAX_PROCS})",
    )
    parser.add_argument("--show", action="store_true", help="open the page in a browser")
    parser.add_argument(
        "--unused-session-lifetime",
        type=int_in(1, MAX_MS),
        default=15000,
        metavar="MS",
        help="free a session this long after its browser left (default: %(default)s ms, "
        "at most a day)",
    )
    parser.add_argument(
        "--check-unused-sessions",
        type=int_in(1, MAX_MS),
        default=5000,
        metavar="MS",
        help="how often to look for such sessions (default: %(default)s ms, at most a day)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the model's data set (IDX files) for the Encode, map and KL views of a checkpoint "
        "outside the zoo",
    )
    add_access_arguments(parser)
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    if not 0 < args.max_upload_mb <= MAX_UPLOAD_MB:  # also NaN
        raise CommandError(f"--max-upload-mb must be more than 0, at most {MAX_UPLOAD_MB:g}", 2)
    import panel as pn

    from explorer import checkpoint
    from explorer.app.server import create_app, default_checkpoint

    source = args.checkpoint or default_checkpoint()
    try:
        checkpoint.resolve(source)  # fail now, with one line, rather than in every session
    except checkpoint.CheckpointError as exc:
        raise CommandError(str(exc)) from None
    origins = args.allow_websocket_origin or [f"{args.address}:{args.port}"]
    app_args = ["--checkpoint", source, "--max-upload-mb", str(args.max_upload_mb)]
    app_args += [f"--checkpoint-dir={folder}" for folder in args.checkpoint_dir]
    app_args += ["--zoo-only"] if args.zoo_only else []
    app_args += [f"--data-dir={args.data_dir}"] if args.data_dir else []
    print(f"vae-explorer: serving {source} at http://{args.address}:{args.port}/", flush=True)
    pn.serve(
        {"/": lambda: create_app(app_args)},
        # An upload travels base64-encoded in one websocket message: leave room for it.
        websocket_max_message_size=int(args.max_upload_mb * 2**20 * 1.5) + 2**20,
        port=args.port,
        address=args.address,
        websocket_origin=origins,
        num_procs=args.num_procs,
        unused_session_lifetime_milliseconds=args.unused_session_lifetime,
        check_unused_sessions_milliseconds=args.check_unused_sessions,
        show=args.show,
        title="VAE latent explorer",
        print=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
