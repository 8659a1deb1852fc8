"""``vae-explorer info``: what a checkpoint says about its model, as JSON."""

from __future__ import annotations

import argparse
import json

from explorer.cli.common import add_checkpoint, load_checkpoint

HELP = "describe a checkpoint as JSON"
DESCRIPTION = """Print what a checkpoint says about its model (format, latent size, β, training
losses, ...) as JSON on stdout."""
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checkpoint(parser)


def run(args: argparse.Namespace) -> int:
    info = load_checkpoint(args.checkpoint).info
    print(json.dumps(info.to_dict(), indent=2, default=str))
    return 0
