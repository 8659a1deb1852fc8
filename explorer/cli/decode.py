"""``vae-explorer decode``: one latent vector z decoded into a .png or .npy file."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from explorer.cli import common
from explorer.cli.common import PROG, CommandError

MAX_SCALE = 64  # figures.png.MAX_SCALE: 28 px → 1792 px (tests check that the copies agree)
SUFFIXES = (".png", ".npy")

HELP = "decode one latent vector z into an image file"
DESCRIPTION = """Decode one latent vector z and write the image as shown in the explorer:
a .png (8-bit grey) or a .npy (28×28 float32 in [0, 1]). z is given with --z, or read
from a state file saved by the explorer's JSON download (--from-json)."""
EPILOG = f"""examples:
  {PROG} decode model.pth --z -1.5,0,0.8 --out digit.png --scale 8
  {PROG} decode --from-json mnist-beta1-z.json --out digit.npy"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    when = "needed with --z; with --from-json, it replaces the file's model"
    common.add_checkpoint(parser, optional=True, when=when)
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
    common.add_out(parser, "FILE", "output file; its suffix picks the format: .png or .npy")
    parser.add_argument(
        "--scale",
        type=common.int_in(1, MAX_SCALE),
        default=1,
        metavar="K",
        help="for .png: draw each pixel as a K×K block (nearest neighbour; default 1, "
        f"at most {MAX_SCALE})",
    )


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    suffix = common.check_suffix(out, SUFFIXES)
    if suffix == ".npy" and args.scale != 1:
        raise CommandError("--scale applies to .png output only", 2)
    if args.from_json is None and args.checkpoint is None:
        raise CommandError("CKPT is required with --z", 2)
    common.check_out(out)

    import numpy as np

    from explorer.compute.decoding import decode_image
    from explorer.figures.png import to_png_bytes
    from explorer.latent.table import Z_SET

    if args.from_json is not None:
        image = common.load_state(args.from_json, args.checkpoint).image
    else:
        ckpt = common.load_checkpoint(args.checkpoint)
        z = common.vector("--z", args.z, ckpt.info.latent_dim, Z_SET.bounds)
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
    common.write(out, data)
    size = image.shape[0] * args.scale
    print(f"wrote {out} ({size}x{size} {suffix[1:]})")
    return 0
