"""``vae-explorer serve``: the explorer on a Bokeh server, given its options as AppOptions."""

from __future__ import annotations

import argparse
import dataclasses

from explorer import zoo
from explorer.app.options import (
    AppOptions,
    add_access_arguments,
    add_model_arguments,
    default_checkpoint,
)
from explorer.cli.common import CommandError, add_checkpoint, int_in

MAX_PROCS = 64  # --num-procs
MAX_MS = 86_400_000  # the session timings: one day
MAX_UPLOAD_MB = 1024.0  # --max-upload-mb: an upload is held in memory, base64 on the wire

HELP = "serve the explorer in the browser"
DESCRIPTION = f"""Serve the interactive explorer (the app of `panel serve apps/explorer.py`) on a
Bokeh server. Without CKPT: ./vae_high_kl.pth when present (as the original app),
otherwise the bundled model {zoo.DEFAULT}."""
EPILOG = None
# Bokeh's session timings: option, default (ms), what it sets.
TIMINGS = [
    ("--unused-session-lifetime", 15000, "free a session this long after its browser left"),
    ("--check-unused-sessions", 5000, "how often to look for such sessions"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checkpoint(parser, optional=True)
    port = int_in(1, 65535)
    parser.add_argument("--port", type=port, default=5006, help="1 to 65535 (default: %(default)s)")
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
    for option, default, what in TIMINGS:
        parser.add_argument(
            option,
            type=int_in(1, MAX_MS),
            default=default,
            metavar="MS",
            help=f"{what} (default: %(default)s ms, at most a day)",
        )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the model's data set (IDX files) for the Encode, map and KL views of a checkpoint "
        "outside the zoo",
    )
    add_access_arguments(parser)
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.max_upload_mb <= MAX_UPLOAD_MB:  # also NaN
        raise CommandError(f"--max-upload-mb must be more than 0, at most {MAX_UPLOAD_MB:g}", 2)
    from explorer import checkpoint
    from explorer.app.server import serve
    from explorer.formats import module

    if args.model and args.checkpoint:
        raise CommandError("give CKPT or --model, not both", 2)
    if args.weights and not args.model:
        raise CommandError("--weights goes with --model", 2)
    source = args.model or args.checkpoint or default_checkpoint()
    try:  # fail now, with one line, rather than in every session
        if args.model:
            module.import_factory(args.model, args.weights, args.model_output)
        else:
            checkpoint.resolve(source)
    except checkpoint.CheckpointError as exc:
        raise CommandError(str(exc)) from None
    options = dataclasses.replace(AppOptions.from_args(args), checkpoint=source)
    origins = args.allow_websocket_origin or [f"{args.address}:{args.port}"]
    print(f"vae-explorer: serving {source} at http://{args.address}:{args.port}/", flush=True)
    serve(
        options,
        port=args.port,
        address=args.address,
        origins=origins,
        num_procs=args.num_procs,
        unused_session_lifetime_milliseconds=args.unused_session_lifetime,
        check_unused_sessions_milliseconds=args.check_unused_sessions,
        show=args.show,
    )
    return 0
