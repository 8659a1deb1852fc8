"""The explorer's state as one small JSON document, and back.

What the app's JSON download holds, and what ``vae-explorer decode --from-json`` and
``vae-explorer export --from-json`` read: the checkpoint, mode, μ, σ, z_set and seed that make
the image, plus the z they gave. Unlike :mod:`explorer.latent.urlstate` (which forgives a
hand-edited link), reading is strict: a bad document (too large, not JSON, nested or numbered
beyond what Python parses, out of range) raises :class:`StateError` with a one-line message, and
nothing else.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from explorer.access import UPLOAD_PREFIX
from explorer.checkpoint import CheckpointError
from explorer.latent.space import LatentModel
from explorer.latent.table import MODES, SEED_BOUNDS, SLIDERS
from explorer.latent.vector import Bounds, clipped, shown

FORMAT = "vae-explorer-state"
VERSION = 1
# Each vector a state holds → its bounds: the sliders' vectors, and the z they gave (any finite).
VECTORS = {**{name: slider.bounds for name, slider in SLIDERS.items()}, "z": Bounds()}
KEYS = ("format", "version", "checkpoint", "model", "latent_dim", "mode", "seed", *VECTORS)
SETTINGS = ("mode", "seed", "mu", "sigma", "z_set")  # the LatentModel parameters a state sets
Z_TOLERANCE = 1e-6
MAX_BYTES = 2**20  # a state file's size cap: one of 512 latent dimensions takes about 40 kB
MAX_TEXT = 4096  # the longest checkpoint or model name (PATH_MAX on Linux)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # never in a name: they would break a message


class StateError(ValueError):
    """A state document that cannot be used; the message is one line, fit for a user."""


def to_json(model: LatentModel) -> dict:
    """The model's state as a JSON-ready dict; ``z`` holds its float32 values exactly."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "checkpoint": model.public_checkpoint,
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
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)  # a FIFO or a device may never end
            data = file.read(MAX_BYTES + 1) if regular else b""
    except FileNotFoundError:
        raise StateError(f"{path}: not found") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise StateError(
            f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    if not regular:
        raise StateError(f"{path}: not a regular file")
    if len(data) > MAX_BYTES:
        raise StateError(f"{path}: larger than {MAX_BYTES:,} bytes: not a state file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(f"{path}: cannot read it ({exc.reason})") from None
    return parse(text, str(path))


def parse(text: str, where: str = "state") -> dict:
    """JSON text → its validated contents, or StateError whose message starts with ``where``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{where}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        reason = str(exc).split(":")[0]
        raise StateError(f"{where}: not usable JSON ({clipped(reason, 80)})") from None
    except RecursionError:
        raise StateError(f"{where}: not usable JSON (nested too deeply)") from None
    try:
        return validate(data)
    except StateError as exc:
        raise StateError(f"{where}: {exc}") from None


def validate(data: object) -> dict:
    """Check a state document; returns its known keys, numbers as floats (None values dropped)."""
    if not isinstance(data, Mapping):
        raise StateError(f"expected a JSON object, got {type(data).__name__}")
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        raise StateError(f"unknown key {shown(unknown[0])} (known: {', '.join(KEYS)})")
    state = {key: value for key, value in data.items() if value is not None}
    if state.get("format", FORMAT) != FORMAT:
        raise StateError(f"format is {shown(state['format'])}, expected {FORMAT!r}")
    version = state.get("version", VERSION)
    if not _is_int(version) or not 1 <= version <= VERSION:
        raise StateError(f"version {shown(version)} is not one this vae-explorer reads ({VERSION})")
    for key in ("checkpoint", "model"):
        if key not in state:
            continue
        value = state[key]
        if not (isinstance(value, str) and value.strip()):
            raise StateError(f"{key} must be a non-empty string, got {shown(value)}")
        if len(value) > MAX_TEXT or CONTROL.search(value):
            raise StateError(
                f"{key} must be a name or path without control characters, at most {MAX_TEXT} "
                f"long, got {shown(value)}"
            )
    if "latent_dim" in state and not (_is_int(state["latent_dim"]) and state["latent_dim"] >= 1):
        raise StateError(f"latent_dim must be a positive integer, got {shown(state['latent_dim'])}")
    if "mode" in state and state["mode"] not in MODES:
        raise StateError(f"mode {shown(state['mode'])} is unknown (use {', '.join(MODES)})")
    if "seed" in state and not (_is_int(state["seed"]) and SEED_BOUNDS.holds(state["seed"])):
        raise StateError(f"seed must be an integer in {SEED_BOUNDS}, got {shown(state['seed'])}")
    lengths = {}
    for key, bounds in VECTORS.items():
        if key in state:
            state[key] = _vector(key, state[key], bounds)
            lengths[key] = len(state[key])
    if "latent_dim" in state:
        lengths = {"latent_dim": state["latent_dim"], **lengths}
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{key} {shown(n)}" for key, n in lengths.items())
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


def _vector(key: str, value: object, bounds: Bounds) -> list[float]:
    if not isinstance(value, list) or not value:
        raise StateError(f"{key} must be a non-empty list of numbers, got {shown(value)}")
    try:
        return bounds.check(value, key)
    except ValueError as exc:
        raise StateError(str(exc)) from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
