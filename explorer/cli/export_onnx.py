"""``vae-explorer export-onnx``: a checkpoint as ONNX files that any vae-explorer opens."""

from __future__ import annotations

import argparse

from explorer.cli.common import CommandError, add_checkpoint, add_out, check_suffix, load_checkpoint

NAME = "export-onnx"
HELP = "write a checkpoint as ONNX files (decoder, and encoder beside it)"
DESCRIPTION = """Write CKPT's decoder as OUT (.onnx) and its encoder as OUT's name with
.encoder.onnx, each one file with its weights inside (so it also goes as an upload), a free batch
axis, and the model's output, β, epochs and data set as metadata. Each file is opened again as the
explorer opens it and checked against torch's decode before it is said written."""
EPILOG = """example:
  vae-explorer export-onnx mnist-beta1 --out mnist-beta1.onnx
  vae-explorer serve mnist-beta1.onnx"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checkpoint(parser)
    add_out(parser, "FILE.onnx", "the decoder's file; the encoder goes beside it")


def run(args: argparse.Namespace) -> int:
    from explorer.checkpoint import CheckpointError
    from explorer.formats import onnx_export

    check_suffix(args.out, (".onnx",))
    loaded = load_checkpoint(args.checkpoint)
    if loaded.info.format == "onnx":
        raise CommandError(f"{args.checkpoint} is ONNX already", 2)
    try:
        written = onnx_export.export(loaded.model, args.out, loaded.info)
    except CheckpointError as exc:
        raise CommandError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    return 0
