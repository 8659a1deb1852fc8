"""The options that limit what a browser session may open: shared by the app script
(explorer.app.server.parse_args) and ``vae-explorer serve`` (argparse only: no torch here)."""

from __future__ import annotations

import argparse

UPLOAD_MB = 10.0  # access.MAX_UPLOAD_MB, copied so that parsing imports no torch (tests compare)


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """--checkpoint-dir, --zoo-only and --max-upload-mb."""
    parser.add_argument(
        "--checkpoint-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="only checkpoints inside DIR (repeatable) and the bundled zoo may be opened by path",
    )
    parser.add_argument(
        "--zoo-only",
        action="store_true",
        help="public deployments: only the bundled models, no path input",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=UPLOAD_MB,
        help="largest checkpoint a browser may upload, in MB (default: %(default)g)",
    )
