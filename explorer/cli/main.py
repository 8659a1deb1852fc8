"""The ``vae-explorer`` command: its parser, one subparser per command, and the one-line errors.

Each command is a module here, named after it (or its ``NAME``, where that has a hyphen):
``HELP`` (its line in ``--help``), ``DESCRIPTION`` and ``EPILOG`` (its own ``--help``, line
breaks kept), ``add_arguments(parser)``, and ``run(args) -> int``, which does the work. A
command reports a failure by raising :class:`CommandError`: :func:`main` prints its message as
one line on stderr and exits with its status (2 for bad arguments, 1 for anything else), never
with a traceback. Every number a command takes has a cap (given in ``--help``), checked before
any work starts, so that no command line can ask for unbounded time, memory or output.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from explorer import __version__
from explorer.cli import decode, export, export_onnx, figure, info, metrics, serve
from explorer.cli.common import PROG, CommandError, Parser, one_line

COMMANDS = (info, decode, export, export_onnx, figure, metrics, serve)


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
    for command in COMMANDS:
        sub = commands.add_parser(
            getattr(command, "NAME", command.__name__.rpartition(".")[2]),
            help=command.HELP,
            description=command.DESCRIPTION,
            epilog=command.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
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
