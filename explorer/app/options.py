"""What the operator chose for a served explorer (AppOptions) and the options that set it, for
the app script (``parse_args``) and ``vae-explorer serve`` (``add_access_arguments``).

argparse and dataclasses only, no Panel or torch: the command line imports this to parse.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from explorer import zoo

TITLE = "VAE latent explorer"  # the served page's title
ORIGINAL_DEFAULT = "vae_high_kl.pth"  # the original app's default, looked for in the working dir
UPLOAD_MB = 10.0  # access.MAX_UPLOAD_MB, copied so that parsing imports no torch (tests compare)


def default_checkpoint() -> str:
    """./vae_high_kl.pth when present (as the original app), else the bundled default model."""
    return ORIGINAL_DEFAULT if Path(ORIGINAL_DEFAULT).is_file() else zoo.DEFAULT


@dataclass(frozen=True)
class AppOptions:
    """What the operator chose for every session of a served explorer (shared, never changed)."""

    checkpoint: str | None = None  # a .pth path or a zoo name; None: default_checkpoint()
    data_dir: str | None = None  # IDX files for checkpoints outside the zoo
    checkpoint_dirs: tuple[str, ...] = ()  # the only folders a session may open paths in
    zoo_only: bool = False
    max_upload_mb: float = UPLOAD_MB
    model: str | None = None  # the operator's own code, package.module:factory (trusted)
    weights: str | None = None  # its weights: .safetensors, or a .pth read weights_only
    model_output: str = "linear"  # what its decode gives: values in [0, 1], or logits

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AppOptions:
        """From parsed arguments with ``checkpoint``, ``data_dir`` and the access arguments."""
        return cls(
            checkpoint=args.checkpoint,
            data_dir=args.data_dir,
            checkpoint_dirs=tuple(args.checkpoint_dir),
            zoo_only=args.zoo_only,
            max_upload_mb=args.max_upload_mb,
            model=args.model,
            weights=args.weights,
            model_output=args.model_output,
        )


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    """--checkpoint-dir, --zoo-only and --max-upload-mb: what a browser session may open."""
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


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --weights and --model-output: the operator's own VAE code, trusted because the
    operator named it here (a name from a browser is never imported)."""
    parser.add_argument(
        "--model",
        metavar="PACKAGE.MODULE:FACTORY",
        help="your own VAE: FACTORY() (importable: installed, or on PYTHONPATH) returns an "
        "nn.Module, or any object with decode(z) and optionally encode(x) → (μ, log σ²)",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="weights for --model's module: .safetensors, or a .pth state dict (read weights_only)",
    )
    parser.add_argument(
        "--model-output",
        choices=("linear", "sigmoid"),
        default="linear",
        help="--model's decode gives values in [0, 1] (linear, shown clipped; the default) or "
        "logits (sigmoid)",
    )


def parse_args(argv: list[str]) -> AppOptions:
    """The app script's command line (``panel serve apps/explorer.py --args ...``)."""
    parser = argparse.ArgumentParser(prog="apps/explorer.py", description=TITLE)
    parser.add_argument(
        "--checkpoint", default=None, help="a .pth path or a zoo name (default: %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="IDX files of the model's data set, for the Encode, map and KL views of checkpoints "
        "outside the zoo (the zoo's models bring a sample)",
    )
    add_access_arguments(parser)
    add_model_arguments(parser)
    return AppOptions.from_args(parser.parse_args(argv))
