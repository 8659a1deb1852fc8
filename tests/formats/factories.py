"""VAE code as an operator names it on the command line (``--model tests.formats.factories:…``),
and as a notebook passes it in: small torch modules and plain objects, grey 28×28."""

from __future__ import annotations

import torch
from torch import nn

LATENT = 4


class GreyMLP(nn.Module):
    """z → a 28×28 grey image in [0, 1] (N×1×28×28), and back to (μ, log σ²)."""

    latent_dim = LATENT

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.decoder = nn.Sequential(nn.Linear(LATENT, 64), nn.Tanh(), nn.Linear(64, 784))
        self.encoder = nn.Linear(784, 2 * LATENT)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z)).view(-1, 1, 28, 28)

    def encode(self, x):
        both = self.encoder(x.flatten(1))
        return both[:, :LATENT], both[:, LATENT:]


def grey_mlp() -> GreyMLP:
    return GreyMLP()


def failing():
    raise RuntimeError("no GPU here")
