"""Command-line options shared by the app script and `vae-explorer serve` (argparse only)."""

from __future__ import annotations

import argparse

MAX_UPLOAD_MB = 10.0  # an upload travels base64-encoded: 13.3 MB of Bokeh's 20 MB message limit


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that limit what a browser session may open."""
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
        default=MAX_UPLOAD_MB,
        help="largest checkpoint a browser may upload, in MB (default: %(default)g)",
    )
