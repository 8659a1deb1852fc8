"""Models the benchmarks time beside the zoo's: a 64×64 RGB conv decoder about the zoo's size
(the zoo's 12-dim decoder, one more up-convolution, three channels), as a torch module and as the
ONNX file that `export-onnx` writes. Random weights: speed does not depend on training."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from explorer.formats import module, onnx_export

LATENT = 12


class RGB64(nn.Module):
    """z (12) → 3×64×64 through fc → 64×8×8 and three 2× up-convolutions with BatchNorm."""

    latent_dim = LATENT

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(LATENT, 64 * 8 * 8)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.ConvTranspose2d(16, 3, 4, 2, 1),
        )  # fmt: skip
        self.eval()

    def decode(self, z):
        return self.up(self.fc(z).view(-1, 64, 8, 8))  # logits


def rgb64_onnx(folder: Path) -> Path:
    """RGB64 written by export-onnx's code into ``folder`` (once), with sigmoid output."""
    path = folder / "rgb64.onnx"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        onnx_export.export(module.wrap(RGB64(), "rgb64", output="sigmoid").model, path)
    return path
