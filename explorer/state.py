"""The explorer's state as one small JSON document, and back.

What the app's JSON download holds, and what ``vae-explorer decode --from-json`` and
``vae-explorer export --from-json`` read: the checkpoint, mode, μ, σ, z_set and seed that make
the image, plus the z they gave. Unlike :mod:`explorer.urlstate` (which forgives a hand-edited
link), reading is strict: a bad document raises :class:`StateError` with a one-line message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from explorer.access import UPLOAD_PREFIX
from explorer.checkpoint import CheckpointError
from explorer.latent import MODES, MU_BOUNDS, SEED_BOUNDS, SIGMA_BOUNDS, Z_BOUNDS, LatentModel

FORMAT = "vae-explorer-state"
VERSION = 1
VECTORS = {"mu": MU_BOUNDS, "sigma": SIGMA_BOUNDS, "z_set": Z_BOUNDS, "z": (-math.inf, math.inf)}
KEYS = ("format", "version", "checkpoint", "model", "latent_dim", "mode", "seed", *VECTORS)
SETTINGS = ("mode", "seed", "mu", "sigma", "z_set")  # the LatentModel parameters a state sets
Z_TOLERANCE = 1e-6


class StateError(ValueError):
    """A state document that cannot be used; the message is one line, fit for a user."""


def to_json(model: LatentModel) -> dict:
    """The model's state as a JSON-ready dict; ``z`` holds its float32 values exactly."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "checkpoint": model.checkpoint,
        "model": model.info.name if model.info is not None else None,
        "latent_dim": model.latent_dim,
        "mode": model.mode,
        "seed": model.seed,
        "mu": [float(v) for v in model.mu],
        "sigma": [float(v) for v in model.sigma],
        "z_set": [float(v) for v in model.z_set],
        "z": [float(v) for v in model.z] if model.z is not None else None,
    }


def dumps(model: LatentModel) -> str:
    """The model's state as indented JSON text."""
    return json.dumps(to_json(model), indent=2) + "\n"


def read(path: str | Path) -> dict:
    """A state file → its validated contents, or StateError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(
            f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        return validate(data)
    except StateError as exc:
        raise StateError(f"{path}: {exc}") from None


def validate(data: object) -> dict:
    """Check a state document; returns its known keys, numbers as floats (None values dropped)."""
    if not isinstance(data, Mapping):
        raise StateError(f"expected a JSON object, got {type(data).__name__}")
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        raise StateError(f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    state = {key: value for key, value in data.items() if value is not None}
    if state.get("format", FORMAT) != FORMAT:
        raise StateError(f"format is {state['format']!r}, expected {FORMAT!r}")
    version = state.get("version", VERSION)
    if not _is_int(version) or not 1 <= version <= VERSION:
        raise StateError(f"version {version!r} is not one this vae-explorer reads ({VERSION})")
    for key in ("checkpoint", "model"):
        if key in state and not (isinstance(state[key], str) and state[key].strip()):
            raise StateError(f"{key} must be a non-empty string, got {state[key]!r}")
    if "latent_dim" in state and not (_is_int(state["latent_dim"]) and state["latent_dim"] >= 1):
        raise StateError(f"latent_dim must be a positive integer, got {state['latent_dim']!r}")
    if "mode" in state and state["mode"] not in MODES:
        raise StateError(f"mode {state['mode']!r} is unknown (use {', '.join(MODES)})")
    if "seed" in state:
        low, high = SEED_BOUNDS
        if not (_is_int(state["seed"]) and low <= state["seed"] <= high):
            raise StateError(f"seed must be an integer in [{low}, {high}], got {state['seed']!r}")
    lengths = {}
    for key, bounds in VECTORS.items():
        if key in state:
            state[key] = _vector(key, state[key], bounds)
            lengths[key] = len(state[key])
    if "latent_dim" in state:
        lengths = {"latent_dim": state["latent_dim"], **lengths}
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{key} {n}" for key, n in lengths.items())
        raise StateError(f"sizes disagree: {sizes}")
    return state


def apply_json(model: LatentModel, data: object) -> None:
    """Set ``model`` to a state: its checkpoint (when it names one), then mode, μ, σ, z, seed.

    When the state holds the z it gave, the model must give that z again (within 1e-6).
    Raises StateError for a bad state, CheckpointError when its checkpoint does not load.
    """
    state = validate(data)
    source = state.get("checkpoint")
    if source is not None and source != model.checkpoint:
        model.checkpoint = source
        if model.info is None or model.info.source != source:
            raise CheckpointError(model.message or f"cannot load {source}")
    n = model.latent_dim
    for key in VECTORS:
        if key in state and len(state[key]) != n:
            raise StateError(
                f"{key} has {len(state[key])} values; the model has {n} latent dimensions"
            )
    model.param.update(**{key: state[key] for key in SETTINGS if key in state})
    if "z" in state and model.z is not None:
        _check_z(model, np.asarray(state["z"], dtype=np.float64))


def model_from_json(data: object, checkpoint: str | None = None, device: str = "cpu"):
    """A new LatentModel in the state ``data``; ``checkpoint`` replaces the one it names."""
    state = validate(data)
    source = checkpoint or state.get("checkpoint")
    state.pop("checkpoint", None)
    if source is None:
        raise StateError('it names no checkpoint ("checkpoint"): give one')
    if source.startswith(UPLOAD_PREFIX):
        name = source.removeprefix(UPLOAD_PREFIX)
        raise StateError(f"its model {name} was uploaded to the explorer: give that file")
    model = LatentModel(checkpoint=source, device=device)
    if model.info is None:
        raise CheckpointError(model.message or f"cannot load {source}")
    apply_json(model, state)
    return model


def _check_z(model: LatentModel, expected: np.ndarray) -> None:
    got = model.z.astype(np.float64)
    off = np.flatnonzero(np.abs(got - expected) > Z_TOLERANCE)
    if off.size:
        i = int(off[0])
        raise StateError(
            f"z[{i}] = {expected[i]:.6g} does not match the {got[i]:.6g} that mode "
            f"{model.mode!r} gives with these settings (to decode a z of your own, "
            'use "mode": "deterministic" with "z_set")'
        )


def _vector(key: str, value: object, bounds: tuple[float, float]) -> list[float]:
    if not isinstance(value, list) or not value:
        raise StateError(f"{key} must be a non-empty list of numbers, got {value!r:.60}")
    low, high = bounds
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise StateError(f"{key}[{i}] must be a number, got {item!r:.40}")
        if not math.isfinite(item):
            raise StateError(f"{key}[{i}] = {item} is not a finite number")
        if not low <= item <= high:
            raise StateError(f"{key}[{i}] = {item} is outside [{low:g}, {high:g}]")
        out.append(float(item))
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
