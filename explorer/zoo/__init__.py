"""The bundled model zoo: small checkpoints trained by our own train.py (see README.md here)."""

from __future__ import annotations

from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent

NAMES = (
    "mnist-beta0.1",
    "mnist-beta1",
    "mnist-beta10",
    "fashion-mnist-beta0.1",
    "fashion-mnist-beta1",
    "fashion-mnist-beta10",
)
DEFAULT = "mnist-beta1"


def path(name: str) -> Path:
    """The checkpoint file of a zoo model (it may be missing if the zoo was not built)."""
    if name not in NAMES:
        raise KeyError(name)
    return ZOO_DIR / f"{name}.pth"


def available() -> list[str]:
    """Zoo names whose checkpoint files are present, in catalogue order."""
    return [name for name in NAMES if path(name).is_file()]
