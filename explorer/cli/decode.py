"""``vae-explorer decode``: one latent vector z decoded into a .png or .npy file."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from explorer.cli import common
from explorer.cli.common import PROG, CommandError

MAX_SCALE = 64  # figures.png.MAX_SCALE: 28 px → 1792 px (tests check that the copies agree)
MAX_SIDE = 8192  # figures.png.MAX_SIDE: pixels a side of the PNG, checked once the model is known
SUFFIXES = (".png", ".npy")

HELP = "decode one latent vector z into an image file"
DESCRIPTION = """Decode one latent vector z and write the image as shown in the explorer,
in the model's shape: a .png (8-bit grey, or RGB for a colour model) or a .npy (float32 in
[0, 1], H×W grey or H×W×3 RGB). z is given with --z, or read from a state file saved by the
explorer's JSON download (--from-json)."""
EPILOG = f"""examples:
  {PROG} decode model.pth --z -1.5,0,0.8 --out digit.png --scale 8
  {PROG} decode faces.onnx --z 0,0,0,0,0,0 --out face.png
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
        f"at most {MAX_SCALE}, and at most {MAX_SIDE} pixels a side)",
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
    if suffix == ".png" and max(image.shape[:2]) * args.scale > MAX_SIDE:
        raise CommandError(
            f"--scale {args.scale} would make a {image.shape[1] * args.scale}x"
            f"{image.shape[0] * args.scale} image; at most {MAX_SIDE} pixels a side",
            2,
        )
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
    height, width = (side * args.scale for side in image.shape[:2])
    colour = "RGB " if image.ndim == 3 else ""
    print(f"wrote {out} ({width}x{height} {colour}{suffix[1:]})")
    return 0
