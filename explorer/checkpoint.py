"""Load, save and describe checkpoints, safely.

Two layouts are read: ours (``format: "vae-explorer"``) and the original Streamlit app's
(``config`` + ``model_state_dict`` + losses); a bare state dict of the same network loads too.
Files are always read with ``torch.load(..., weights_only=True)``: a pickle that tries to run code
is refused, never executed. Every bad input raises :class:`CheckpointError` with a one-line message.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
import shlex
import tempfile
import warnings
import zipfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from explorer import zoo
from explorer.model import VAE, VAEConfig

FORMAT = "vae-explorer"
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint could not be used; the message is one line, fit for a user."""


@dataclass(frozen=True)
class ModelInfo:
    """What a checkpoint says about its model (shown in the sidebar and by `vae-explorer info`)."""

    source: str  # what the user gave: a zoo name or a path
    path: str
    format: str  # "vae-explorer", "original" (the Streamlit app's) or "state-dict"
    latent_dim: int
    output: str  # "sigmoid" or "linear" (see VAEConfig)
    image_shape: tuple[int, int, int]
    beta: float | None = None
    epochs: int | None = None
    dataset: str | None = None
    seed: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    train_losses: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source if self.source in zoo.NAMES else Path(self.path).name

    @property
    def stem(self) -> str:
        """The start of the names of files made from this model (``mnist-beta0.1``, ``model``)."""
        return self.source if self.source in zoo.NAMES else Path(self.path).stem

    @property
    def final_val_loss(self) -> float | None:
        return self.val_losses[-1] if self.val_losses else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["image_shape"] = list(self.image_shape)
        data["train_losses"] = list(self.train_losses)
        data["val_losses"] = list(self.val_losses)
        data["final_val_loss"] = self.final_val_loss
        return data


@dataclass(frozen=True)
class Checkpoint:
    """A loaded model in eval mode, frozen, plus its description."""

    model: VAE
    info: ModelInfo


def resolve(source: str | os.PathLike) -> Path:
    """A zoo name or a path → an existing checkpoint file, or CheckpointError."""
    text = os.fspath(source).strip()
    if not text:
        raise CheckpointError("no checkpoint given: enter a file path or a zoo model name")
    if text in zoo.NAMES:
        path = zoo.path(text)
        if not path.is_file():
            raise CheckpointError(
                f"zoo model {text} is not built: run `make zoo` (or python -m explorer.zoo.build)"
            )
        return path
    path = Path(text).expanduser()
    if not path.exists():
        # The original app's hint, with the command that makes the file (its high-KL model).
        train = f"python train.py --beta 10 --epochs 10 --checkpoint-path {shlex.quote(text)}"
        hint = f" — train a model first: {train}" if path.suffix in (".pth", ".pt") else ""
        raise CheckpointError(f"checkpoint not found: {text}{hint}")
    if path.is_dir():
        raise CheckpointError(f"{text} is a directory, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{text} is not a regular file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{text} is empty (0 bytes), not a checkpoint")
    return path


def read(path: Path) -> object:
    """torch.load with weights_only=True, every failure turned into a CheckpointError."""
    try:
        with warnings.catch_warnings():
            # torch warns before refusing a plain pickle; our one-line error says all there is.
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "Weights only load failed" in message and ("GLOBAL" in message or _is_pickle(path)):
            raise CheckpointError(
                f"{path.name} was refused: it holds Python objects or code, not just tensors "
                "(nothing in it was executed)"
            ) from None
        raise CheckpointError(
            f"{path.name} is not a PyTorch checkpoint (unrecognized or corrupt data)"
        ) from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, ValueError, OSError) as exc:
        reason = "truncated or corrupt" if not isinstance(exc, OSError) else exc.strerror
        raise CheckpointError(
            f"{path.name} cannot be read as a PyTorch checkpoint ({reason})"
        ) from None
    except Exception as exc:  # torch raises assorted types on malformed archives
        raise CheckpointError(
            f"{path.name} cannot be read as a PyTorch checkpoint ({type(exc).__name__})"
        ) from None


def _is_pickle(path: Path) -> bool:
    """Does the file start like torch.save's zip archive or a protocol 2-5 pickle?

    The safe unpickler rejects random bytes with the same error as a forbidden pickle; only a
    real pickle deserves the "refused" message.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    zip_archive = head.startswith(b"PK\x03\x04")
    return zip_archive or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def load(source: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint (zoo name or path) and rebuild its model, in eval mode, on ``device``."""
    path = resolve(source)
    payload = read(path)
    model, info = _build(payload, source=os.fspath(source).strip(), path=path)
    model.to(device).eval().requires_grad_(False)
    return Checkpoint(model=model, info=info)


def load_bytes(data: bytes, filename: str, device: str | torch.device = "cpu") -> Checkpoint:
    """A checkpoint uploaded from a browser: the same checks as :func:`load`, on its bytes.

    The bytes are written to a private temporary folder under their file name (so that messages
    name the file the user chose), read with weights_only=True, and deleted.
    """
    name = Path(filename.replace("\\", "/")).name.strip() or "upload.pth"
    with tempfile.TemporaryDirectory(prefix="vae-explorer-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        loaded = load(path, device=device)
    info = replace(loaded.info, source=f"upload:{name}", path=name)
    return Checkpoint(model=loaded.model, info=info)


@functools.lru_cache(maxsize=32)
def _load_once(path: str, file_id: tuple, source: str, device: str) -> Checkpoint:
    return load(source if source in zoo.NAMES else path, device=device)


def load_shared(source: str | os.PathLike, device: str = "cpu") -> Checkpoint:
    """Like :func:`load`, but each file is read once per process and the frozen model shared.

    The cache key includes the file's inode, modification time and size, so a retrained file is
    reread (:func:`save` replaces the file, which gives it a new inode even when the clock's tick
    and the size are the same). Callers must treat the model as read-only (it is in eval mode
    with gradients off).
    """
    path = resolve(source)
    stat = path.stat()
    file_id = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    text = os.fspath(source).strip()
    return _load_once(str(path.resolve()), file_id, text, str(device))


def _build(payload: object, source: str, path: Path) -> tuple[VAE, ModelInfo]:
    if not isinstance(payload, dict):
        raise CheckpointError(
            f"{path.name} holds a {type(payload).__name__}, not a VAE checkpoint "
            "(expected a dict with model weights)"
        )
    if payload.get("format") == FORMAT:
        return _build_ours(payload, source, path)
    if "model_state_dict" in payload:
        return _build_original(payload, source, path)
    if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
        state = _state_dict(payload, path)
        config = VAEConfig(latent_dim=_latent_dim(state, path), output="linear")
        info = _info(source, path, "state-dict", config)
        return _model(config, state, path), info
    keys = ", ".join(sorted(map(str, payload))[:6]) or "none"
    raise CheckpointError(
        f"{path.name} has an unknown checkpoint layout (top-level keys: {keys}); "
        "expected model_state_dict and config"
    )


def _build_ours(payload: dict, source: str, path: Path) -> tuple[VAE, ModelInfo]:
    version = payload.get("version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path.name} is vae-explorer format version {version}, expected 1")
    state = _state_dict(payload.get("model_state_dict"), path)
    try:
        config = VAEConfig(**payload["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path.name} has an invalid model config: {exc}") from None
    meta = payload.get("meta")
    info = _info(source, path, FORMAT, config, meta if isinstance(meta, dict) else {})
    return _model(config, state, path), info


def _build_original(payload: dict, source: str, path: Path) -> tuple[VAE, ModelInfo]:
    state = _state_dict(payload["model_state_dict"], path)
    config_in = payload.get("config") or {}
    if not isinstance(config_in, dict):
        config_in = {}
    latent_dim = _latent_dim(state, path)
    stated = config_in.get("latent_dim")
    if stated is not None and stated != latent_dim:
        raise CheckpointError(
            f"{path.name} says latent_dim={stated} but its weights have {latent_dim} dimensions"
        )
    config = VAEConfig(latent_dim=latent_dim, output="linear")
    train_losses = _as_list(payload.get("train_losses"))
    meta = {
        "beta": config_in.get("beta"),
        "epochs": len(train_losses) or config_in.get("epochs"),
        "dataset": config_in.get("dataset"),
        "seed": config_in.get("seed"),
        "batch_size": config_in.get("batch_size"),
        "learning_rate": config_in.get("learning_rate"),
        "train_losses": train_losses,
        "val_losses": _as_list(payload.get("val_losses")),
    }
    info = _info(source, path, "original", config, meta)
    return _model(config, state, path), info


def _as_list(values: object) -> list:
    """A list or tuple (or a 1-d tensor) of losses as a list; anything else as []."""
    if isinstance(values, torch.Tensor):
        return values.detach().flatten().tolist()
    return list(values) if isinstance(values, (list, tuple)) else []


def _state_dict(state: object, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{path.name} has no model weights (model_state_dict is empty)")
    # Checkpoints saved from nn.DataParallel prefix every key with "module.".
    return {str(k).removeprefix("module."): v for k, v in state.items()}


def _latent_dim(state: dict, path: Path) -> int:
    weight = state.get("encoder.fc_mu.weight")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise CheckpointError(
            f"{path.name} does not hold this VAE's weights (no encoder.fc_mu.weight matrix)"
        )
    return int(weight.shape[0])


def _model(config: VAEConfig, state: dict, path: Path) -> VAE:
    model = VAE(config)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {unexpected[0]})")
        raise CheckpointError(f"{path.name} has the wrong layers for this VAE: {', '.join(parts)}")
    for key, tensor in expected.items():
        given = state[key]
        if not isinstance(given, torch.Tensor) or given.shape != tensor.shape:
            shape = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
            raise CheckpointError(
                f"{path.name} does not fit the model: {key} has shape {shape}, "
                f"expected {tuple(tensor.shape)}"
            )
        if given.is_floating_point() and not torch.isfinite(given).all():
            raise CheckpointError(f"{path.name} has NaN or infinite weights in {key}")
    model.load_state_dict(state)
    return model


def _info(source: str, path: Path, fmt: str, config: VAEConfig, meta: dict | None = None):
    meta = meta or {}

    def number(key, kind):
        value = meta.get(key)
        try:
            value = kind(value) if value is not None else None
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return None
        return value if value is None or math.isfinite(value) else None

    def losses(key):
        try:
            return tuple(float(v) for v in _as_list(meta.get(key)) if math.isfinite(float(v)))
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return ()

    return ModelInfo(
        source=source,
        path=str(path),
        format=fmt,
        latent_dim=config.latent_dim,
        output=config.output,
        image_shape=(1, config.image_size, config.image_size),
        beta=number("beta", float),
        epochs=number("epochs", int),
        dataset=meta.get("dataset") if isinstance(meta.get("dataset"), str) else None,
        seed=number("seed", int),
        batch_size=number("batch_size", int),
        learning_rate=number("learning_rate", float),
        train_losses=losses("train_losses"),
        val_losses=losses("val_losses"),
    )


def save(
    path: str | os.PathLike,
    model: VAE,
    meta: dict,
    optimizer_state: dict | None = None,
) -> Path:
    """Write a checkpoint in our format, atomically: a temporary file beside it, then replace.

    ``meta`` holds plain values (beta, epochs, dataset, losses, ...); numpy and torch numbers in
    it are stored as Python numbers, since the safe loader would refuse numpy objects. An
    interrupted save leaves the previous file untouched.
    """
    path = Path(path)
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": _plain(meta, "meta"),
    }
    if optimizer_state is not None:
        payload["optimizer_state_dict"] = optimizer_state
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _plain(value: object, where: str) -> object:
    """``value`` as plain Python data that ``torch.load(weights_only=True)`` reads back."""
    if isinstance(value, (np.generic, np.ndarray)):  # before float: np.float64 is a float
        return value.tolist()
    if value is None or type(value) in (bool, int, float, str):
        return value
    for kind in (int, float, str):  # subclasses (enums, ...) as the plain value
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {_key(k, where): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(
        f"{where} is a {type(value).__name__}: checkpoint meta holds only numbers, strings, "
        "lists and dicts"
    )


def _key(key: object, where: str) -> str | int:
    if isinstance(key, (str, int)) and not isinstance(key, bool):
        return key
    raise TypeError(f"{where} has a {type(key).__name__} key {key!r}: use strings")
