"""Build the served explorer for one browser session (apps/explorer.py calls this)."""

from __future__ import annotations

import argparse
from pathlib import Path

import panel as pn
import torch

from explorer import zoo
from explorer.access import CheckpointAccess
from explorer.app import untrusted
from explorer.app.explorer import LatentExplorer
from explorer.latent.space import LatentModel
from explorer.options import add_access_arguments

ORIGINAL_DEFAULT = "vae_high_kl.pth"  # the original app's default, looked for in the working dir


def default_checkpoint() -> str:
    """./vae_high_kl.pth when present (as the original app), else the bundled default model."""
    return ORIGINAL_DEFAULT if Path(ORIGINAL_DEFAULT).is_file() else zoo.DEFAULT


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="apps/explorer.py", description="VAE latent explorer")
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
    return parser.parse_args(argv)


def access_from(args: argparse.Namespace, checkpoint: str) -> CheckpointAccess:
    """The operator's checkpoint is trusted: it always opens, and visitors see only its name."""
    return CheckpointAccess.confined(args.checkpoint_dir, args.zoo_only, trusted=[checkpoint])


def create_app(argv: list[str]) -> pn.template.BaseTemplate:
    """One session's page: a fresh LatentModel and its view, state read from the URL."""
    args = parse_args(argv)
    torch.set_num_threads(1)  # one small decode per event; threads would only contend
    untrusted.mend_patch_curdoc()  # once per process; see there
    pn.extension(notifications=False)
    source = args.checkpoint or default_checkpoint()
    model = LatentModel(
        checkpoint=source,
        access=access_from(args, source),
        max_upload_bytes=max(1, int(args.max_upload_mb * 2**20)),
    )
    explorer = LatentExplorer(model, data_dir=args.data_dir)
    if pn.state.location is not None:
        explorer.sync_url(pn.state.location)
    return explorer.template()
