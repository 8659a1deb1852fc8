"""Which torch device to run on: the one named, or for "auto" CUDA, then Apple's MPS, then CPU."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """'auto' plus the torch devices this machine really has."""
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(device: str) -> str:
    """The device "auto" stands for here; any other name as it is."""
    if device != "auto":
        return device
    found = available_devices()  # "auto", "cpu", then the accelerators in order of preference
    return found[2] if len(found) > 2 else "cpu"
