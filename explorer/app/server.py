"""The served explorer: the operator's options (AppOptions) and one browser session's page
(create_app, called by apps/explorer.py and `vae-explorer serve`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import panel as pn
import torch

from explorer import zoo
from explorer.access import MAX_UPLOAD_MB, CheckpointAccess
from explorer.app import internals
from explorer.app.explorer import LatentExplorer
from explorer.cli.options import add_access_arguments
from explorer.latent.space import LatentModel

ORIGINAL_DEFAULT = "vae_high_kl.pth"  # the original app's default, looked for in the working dir


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
    max_upload_mb: float = MAX_UPLOAD_MB

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AppOptions:
        """From parsed arguments with ``checkpoint``, ``data_dir`` and the access arguments."""
        return cls(
            checkpoint=args.checkpoint,
            data_dir=args.data_dir,
            checkpoint_dirs=tuple(args.checkpoint_dir),
            zoo_only=args.zoo_only,
            max_upload_mb=args.max_upload_mb,
        )

    def access(self, checkpoint: str) -> CheckpointAccess:
        """The operator's checkpoint is trusted: it always opens, and visitors see only its name."""
        return CheckpointAccess.confined(self.checkpoint_dirs, self.zoo_only, trusted=[checkpoint])


def parse_args(argv: list[str]) -> AppOptions:
    """The app script's command line (``panel serve apps/explorer.py --args ...``)."""
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
    return AppOptions.from_args(parser.parse_args(argv))


def create_app(options: AppOptions) -> pn.template.BaseTemplate:
    """One session's page: a fresh LatentModel and its view, state read from the URL."""
    torch.set_num_threads(1)  # one small decode per event; threads would only contend
    internals.mend_patch_curdoc()  # once per process; see there
    pn.extension(notifications=False)
    source = options.checkpoint or default_checkpoint()
    model = LatentModel(
        checkpoint=source,
        access=options.access(source),
        max_upload_bytes=max(1, int(options.max_upload_mb * 2**20)),
    )
    explorer = LatentExplorer(model, data_dir=options.data_dir)
    if pn.state.location is not None:
        explorer.sync_url(pn.state.location)
    return explorer.template()
