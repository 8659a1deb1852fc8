"""Which torch device to run on: the one named, or for "auto" CUDA, then Apple's MPS, then CPU."""

from __future__ import annotations

import torch

# Every name a device option takes; after "auto" and "cpu", the accelerators "auto" prefers, first
# the best.
DEVICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """'auto' plus the torch devices this machine really has, in the order of DEVICES."""
    present = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    return [device for device in DEVICES if present.get(device, True)]


def resolve_device(device: str) -> str:
    """The device "auto" stands for here; any other name as it is."""
    if device != "auto":
        return device
    found = available_devices()  # "auto", "cpu", then the accelerators in order of preference
    return found[2] if len(found) > 2 else "cpu"
