"""What the ``vae-explorer`` commands share: one-line errors, argparse types, the checks made
before any work, and loading a checkpoint or a state file as a command reports it.

torch is imported inside the functions that need it, not here, so that ``--help`` and usage
errors answer at once instead of after the ~2 s it takes to import torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from explorer import zoo
from explorer.latent.table import SEED_BOUNDS
from explorer.latent.vector import Bounds

PROG = "vae-explorer"
MESSAGE_CHARS = 1000  # an error message longer than this keeps its start and its end
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


def one_line(text: str) -> str:
    """``text`` as one printable line: control characters escaped (a file name may hold a
    newline), and at most MESSAGE_CHARS long, keeping both ends."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(text) > MESSAGE_CHARS:
        text = f"{text[: MESSAGE_CHARS - 200]} ... {text[-195:]}"
    return text


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


def add_checkpoint(parser: argparse.ArgumentParser, *, optional: bool = False, when: str = ""):
    """The CKPT argument, required unless ``optional``; ``when`` says when it is needed."""
    parser.add_argument(
        "checkpoint",
        metavar="CKPT",
        nargs="?" if optional else None,
        help=f"{CHECKPOINT_HELP}; {when}" if when else CHECKPOINT_HELP,
    )


def add_out(parser: argparse.ArgumentParser, metavar: str, help: str) -> None:
    """The --out FILE option (required)."""
    parser.add_argument("--out", required=True, type=Path, metavar=metavar, help=help)


def check_suffix(out: Path, suffixes: tuple[str, ...]) -> str:
    """``out``'s suffix in lower case; CommandError (status 2) unless one of ``suffixes``."""
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        raise CommandError(
            f"cannot write {out.name!r}: --out must end in {' or '.join(suffixes)}", 2
        )
    return suffix


def check_seed(seed: int | None) -> None:
    """CommandError (status 2) for a --seed outside SEED_BOUNDS."""
    if seed is not None and not SEED_BOUNDS.holds(seed):
        raise CommandError(f"--seed must be in {SEED_BOUNDS}", 2)


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


def vector(option: str, text: str | None, n: int, bounds: Bounds):
    """The value of a vector option (``--z 0.5,-1,...``): ``n`` finite numbers within
    ``bounds``; None when not given. A bad one is a CommandError naming the option and value."""
    if text is None:
        return None
    try:
        return bounds.parse(text, n)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}", 2) from None


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
