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
    "shapes-beta16",
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


def family(name: str) -> str | None:
    """A zoo model's data set, which its siblings share: "mnist" for "mnist-beta10"; None for a
    source outside the zoo."""
    return name.rsplit("-beta", 1)[0] if name in NAMES else None


def siblings(name: str) -> list[str]:
    """The other zoo models present of ``name``'s family (the same data set at other β)."""
    kin = family(name)
    return [other for other in available() if other != name and family(other) == kin] if kin else []
