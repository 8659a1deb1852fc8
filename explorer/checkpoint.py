"""Load, save and describe checkpoints, safely.

Two layouts are read: ours (``format: "vae-explorer"``) and the original Streamlit app's
(``config`` + ``model_state_dict`` + losses); a bare state dict of the same network loads too.
ONNX files (``.onnx``) are read by :mod:`explorer.formats.onnx_file`.
Files are always read with ``torch.load(..., weights_only=True)``: a pickle that tries to run code
is refused, never executed. What a file may cost is capped (the MAX_* constants): the zip's own
account of its entries is checked before torch.load inflates any, every tensor's numel after it,
and metadata lengths before anything is copied out. Every bad input raises
:class:`CheckpointError` with a one-line message that names the file printably.
"""

from __future__ import annotations

import functools
import io
import math
import os
import pickle
import pickletools
import shlex
import stat
import struct
import tempfile
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from explorer import zoo
from explorer.formats.base import Checkpoint, CheckpointError, ModelInfo, mb, shown
from explorer.model import VAE, VAEConfig

FORMAT = "vae-explorer"
FORMAT_VERSION = 1

# -- caps ---------------------------------------------------------------------------------------
# A checkpoint is measured before anything in it is believed: a 2 KB file can describe a tensor of
# a billion elements (one stored element, stride 0), and a deflated zip inflates ~1000-fold. The
# largest file this explorer has a use for is far below the caps: our VAE with MAX_LATENT_DIM
# dimensions has 1.6 M parameters (6.3 MB in float32, 13 MB in float64), three times that with
# Adam's state (under 40 MB); the zoo's files are 0.35 MB. The caps leave room for a bigger network
# (a 64×64 RGB conv VAE is tens of MB, ~100 MB with its optimizer state) and bound what one load
# may allocate (MB = 2**20 bytes).
MAX_FILE_BYTES = 256 * 2**20  # the file itself; nothing bigger is opened
MAX_UNPACKED_BYTES = 256 * 2**20  # the zip's entries, uncompressed, together
MAX_ENTRY_BYTES = 128 * 2**20  # one entry (one tensor's storage), uncompressed
MAX_ZIP_ENTRIES = 10_000  # one per storage: the zoo's files have 49
# zipfile holds ~10 bytes of objects per byte of the central directory: read only a small one.
MAX_DIRECTORY_BYTES = MAX_ZIP_ENTRIES * 256
# torch's safe unpickler is pure Python (~3 µs an opcode) and a pickle can build an object (a
# tensor view, ~1 KB) per 6 bytes: cap data.pkl (the zoo's is 8 KB) and the objects it builds by
# calls (two per tensor; the zoo's make 86).
MAX_PICKLE_BYTES = 2 * 2**20
MAX_PICKLE_CALLS = 20_000
# Every tensor as it would be materialised (numel × element size), alone and together: the same
# caps as stored bytes, so that a stride-0 expansion is no cheaper a way to ask for memory.
MAX_TENSOR_BYTES = MAX_ENTRY_BYTES
MAX_TENSORS_BYTES = MAX_UNPACKED_BYTES
MAX_META_ITEMS = 100_000  # entries of one metadata list, dict or tensor (losses: one per epoch)
MAX_META_TEXT = 10_000  # characters of one metadata string
MAX_LATENT_DIM = 512  # latent dimensions: the app gives each three sliders
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux


def source_text(source: object) -> str:
    """What the user gave (a zoo name or a path) as stripped text, or CheckpointError.

    Text that no file system would take (a NUL, more than MAX_PATH_CHARS characters) is refused
    here with its own message, before any file-system call turns it into an exception.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise CheckpointError("a checkpoint is named by a file path or a zoo model name (text)")
    text = source.strip()
    if "\0" in text:
        raise CheckpointError("the checkpoint path contains a NUL character")
    if len(text) > MAX_PATH_CHARS:
        raise CheckpointError(
            f"the checkpoint path is too long ({len(text):,} characters; limit {MAX_PATH_CHARS:,})"
        )
    return text


def upload_name(filename: object) -> str:
    """The name a browser gave an upload, as shown: its last part, printable, short."""
    if not isinstance(filename, str):
        return UPLOAD_NAME
    name = shown(filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return UPLOAD_NAME if name in ("", ".", "..") else name


UPLOAD_NAME = "upload.pth"  # an upload that came without a usable file name


def _train_hint(text: str) -> str:
    """The original app's hint for a missing .pth, with the command that makes it (its high-KL
    model); none for other names (a mistyped zoo name needs no training)."""
    if Path(text).suffix not in (".pth", ".pt"):
        return ""
    train = f"python train.py --beta 10 --epochs 10 --checkpoint-path {shlex.quote(text)}"
    return f" — train a model first: {train}"


def resolve(source: str | os.PathLike) -> Path:
    """A zoo name or a path → an existing checkpoint file, or CheckpointError."""
    text = source_text(source)
    if not text:
        raise CheckpointError("no checkpoint given: enter a file path or a zoo model name")
    if text in zoo.NAMES:
        path = zoo.path(text)
        if not path.is_file():
            raise CheckpointError(
                f"zoo model {text} is not built: run `make zoo` (or python -m explorer.zoo.build)"
            )
        return path
    where = shown(text, 300)  # a path: long ones happen, absurd ones are clipped
    try:
        path = Path(text).expanduser()
        status = path.stat()
    except (RuntimeError, FileNotFoundError, NotADirectoryError):
        # RuntimeError: "~name" where no account is called name, which is "not found" too.
        raise CheckpointError(f"checkpoint not found: {where}{_train_hint(where)}") from None
    except OSError as exc:  # a name too long, no permission, a loop of links
        raise CheckpointError(f"cannot open {where}: {exc.strerror or 'unknown error'}") from None
    if stat.S_ISDIR(status.st_mode):
        raise CheckpointError(f"{where} is a directory, not a checkpoint file")
    if not stat.S_ISREG(status.st_mode):
        raise CheckpointError(f"{where} is not a regular file")
    if status.st_size == 0:
        raise CheckpointError(f"{where} is empty (0 bytes), not a checkpoint")
    if status.st_size > MAX_FILE_BYTES:
        raise CheckpointError(f"{where} is too large ({mb(status.st_size)}; {_FILE_LIMIT})")
    return path


def read(path: str | os.PathLike) -> object:
    """The payload of a checkpoint file, after every cap is checked; or CheckpointError.

    torch.load runs with weights_only=True, on the open file whose zip entries were measured
    (a file swapped in between could not be).
    """
    path = Path(path)
    name = shown(path.name)
    try:
        # O_NONBLOCK: a FIFO put in the file's place after resolve() must not hang the reader.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "invalid path"
        raise CheckpointError(f"{name} cannot be read as a PyTorch checkpoint ({reason})") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        return _read(handle, status.st_size, name)


def _read(handle: BinaryIO, size: int, name: str) -> object:
    _check_archive(handle, size, name)
    handle.seek(0)
    try:
        payload = torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc):
            raise CheckpointError(
                f"{name} was refused: it holds Python objects or code, not just tensors "
                "(nothing in it was executed)"
            ) from None
        raise CheckpointError(
            f"{name} is not a PyTorch checkpoint (unrecognized or corrupt data)"
        ) from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, ValueError, OSError) as exc:
        reason = "truncated or corrupt" if not isinstance(exc, OSError) else exc.strerror
        raise CheckpointError(f"{name} cannot be read as a PyTorch checkpoint ({reason})") from None
    except Exception as exc:  # torch raises assorted types on malformed archives
        raise CheckpointError(
            f"{name} cannot be read as a PyTorch checkpoint ({type(exc).__name__})"
        ) from None
    _check_tensors(payload, name)
    return payload


# -- before torch.load: the archive's own account of its size -----------------------------------

_ZIP_MAGIC = b"PK\x03\x04"  # how torch.load tells its zip archive from a legacy pickle
_END = struct.Struct("<4s4H2LH")  # the zip's end of central directory record (APPNOTE 4.3.16)
_END_SIGNATURE = b"PK\x05\x06"
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end record, without extensible data (4.3.14)
_END64_SIGNATURE = b"PK\x06\x06"
_LOCATOR = struct.Struct("<4sLQL")  # zip64 end record locator, just before the end record (4.3.15)
_LOCATOR_SIGNATURE = b"PK\x06\x07"
# Pickle opcodes that call something: each may build a tensor (torch._utils._rebuild_tensor_v2).
_CALLS = frozenset({"REDUCE", "BUILD", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST"})
_FILE_LIMIT = f"a checkpoint may be at most {MAX_FILE_BYTES // 2**20} MB"


def _check_archive(handle: BinaryIO, size: int, name: str) -> None:
    """Refuse, before torch.load reads a byte of it, a file that would cost more than the caps.

    Only torch.save's zip archive is read: torch's legacy format (before torch 1.6, 2020) and
    bare pickles allocate what their pickle declares before any of it can be measured.
    """
    if size > MAX_FILE_BYTES:
        raise CheckpointError(f"{name} is too large ({mb(size)}; {_FILE_LIMIT})")
    handle.seek(0)
    head = handle.read(4)
    if head != _ZIP_MAGIC:
        if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle, protocol 2-5
            raise CheckpointError(
                f"{name} was refused: it is a bare pickle or torch's legacy format, not a "
                "torch.save zip archive (nothing in it was executed; re-save it with torch.save)"
            )
        raise CheckpointError(f"{name} is not a PyTorch checkpoint (unrecognized data)")
    corrupt = CheckpointError(
        f"{name} cannot be read as a PyTorch checkpoint (truncated or corrupt)"
    )
    end = _end_record(handle, size)
    if end is None:
        raise corrupt
    entries, directory_bytes = end
    if entries > MAX_ZIP_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        raise CheckpointError(
            f"{name} has too many entries for a checkpoint ({entries:,} entries, a "
            f"{mb(directory_bytes)} directory; limits {MAX_ZIP_ENTRIES:,} and "
            f"{mb(MAX_DIRECTORY_BYTES)})"
        )
    try:
        archive = zipfile.ZipFile(handle)
    except Exception:  # zipfile raises assorted types on malformed archives
        raise corrupt from None
    with archive:
        infos = archive.infolist()
        _refuse_programs([info.filename for info in infos], name)
        biggest = max((info.file_size for info in infos), default=0)
        unpacked = sum(info.file_size for info in infos)
        # torch reads "<archive>/data.pkl", matching names without regard to case.
        pickles = [info for info in infos if info.filename.lower().endswith("data.pkl")]
        pickle_bytes = sum(info.file_size for info in pickles)
        if len(infos) > MAX_ZIP_ENTRIES:
            raise CheckpointError(
                f"{name} has too many entries for a checkpoint (limit {MAX_ZIP_ENTRIES:,})"
            )
        if biggest > MAX_ENTRY_BYTES:
            raise CheckpointError(
                f"{name} is too large: one of its entries unpacks to {mb(biggest)} "
                f"(limit {mb(MAX_ENTRY_BYTES)})"
            )
        if unpacked > MAX_UNPACKED_BYTES:
            raise CheckpointError(
                f"{name} is too large: it unpacks to {mb(unpacked)} "
                f"(limit {mb(MAX_UNPACKED_BYTES)})"
            )
        if pickle_bytes > MAX_PICKLE_BYTES:
            raise CheckpointError(
                f"{name} is too large: its object data (data.pkl) is {mb(pickle_bytes)} "
                f"(limit {mb(MAX_PICKLE_BYTES)})"
            )
        try:
            calls = sum(
                _pickle_calls(archive.open(info).read(MAX_PICKLE_BYTES + 1)) for info in pickles
            )
        except Exception:  # zipfile's and pickletools' errors on malformed data
            raise corrupt from None
    if calls > MAX_PICKLE_CALLS:
        raise CheckpointError(
            f"{name} holds too many objects for a checkpoint "
            f"(more than {MAX_PICKLE_CALLS:,} built by calls)"
        )


SAFE_WAY = (
    "export it to ONNX (one file: external_data=False) and open the .onnx file, or serve your "
    "own code with `vae-explorer serve --model package.module:factory`"
)


def _refuse_programs(names: list[str], name: str) -> None:
    """TorchScript and torch.export (.pt2) archives are programs: loading either runs what it
    holds (TorchScript's code; a .pt2's pickles), so neither is loaded, whatever it holds."""
    parts = {part for entry in names for part in entry.split("/")[1:3]}
    if "code" in parts or "constants.pkl" in parts:
        raise CheckpointError(f"{name} is TorchScript, which is code and never loaded: {SAFE_WAY}")
    if "archive_format" in parts or "models" in parts:
        raise CheckpointError(
            f"{name} is a torch.export program (.pt2), which unpickles when loaded and is never "
            f"loaded: {SAFE_WAY}"
        )


def _pickle_calls(data: bytes) -> int:
    """How many objects the pickle builds by calls, counted up to one past MAX_PICKLE_CALLS."""
    calls = 0
    for opcode, _, _ in pickletools.genops(data):
        calls += opcode.name in _CALLS
        if calls > MAX_PICKLE_CALLS:
            break
    return calls


def _end_record(handle: BinaryIO, size: int) -> tuple[int, int] | None:
    """(entries, central directory bytes) by the archive's end records, or None if unusable.

    Read before zipfile parses the central directory, which it holds whole in memory. The record
    chosen is the one zipfile and torch's reader (miniz) both use: the last 22 bytes if they are
    one with no comment, else the last signature in the final 64 KiB; then the zip64 record that
    torch always writes, which must lie where both readers look for it (zipfile: just before its
    locator; miniz: where the locator points).
    """
    start = max(size - _END.size - (1 << 16), 0)
    handle.seek(start)
    tail = handle.read()
    if (
        len(tail) >= _END.size
        and tail[-_END.size :].startswith(_END_SIGNATURE)
        and tail.endswith(b"\0\0")
    ):
        at = len(tail) - _END.size
    else:
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or len(tail) - at < _END.size:
            return None
    end = _END.unpack_from(tail, at)
    entries, directory_bytes = max(end[3], end[4]), end[5]
    locator_at = start + at - _LOCATOR.size
    if locator_at < 0:
        return entries, directory_bytes
    handle.seek(locator_at)
    signature, _, offset, _ = _LOCATOR.unpack(handle.read(_LOCATOR.size))
    if signature != _LOCATOR_SIGNATURE:
        return entries, directory_bytes
    record_at = locator_at - _END64.size
    if record_at < 0 or offset != record_at:
        return None
    handle.seek(record_at)
    end64 = _END64.unpack(handle.read(_END64.size))
    if end64[0] != _END64_SIGNATURE:
        return None
    return max(entries, end64[6], end64[7]), max(directory_bytes, end64[8])


# -- after torch.load: what the tensors would cost -----------------------------------------------


def _check_tensors(payload: object, name: str) -> None:
    """Refuse tensors that would take more than the caps if materialised (numel × element size).

    A stride-0 tensor (``torch.zeros(1).expand(N)``) is saved as one element and comes back as
    N on ``.tolist()``, ``.clone()`` or ``torch.isfinite``: its numel is what it costs.
    Only plain CPU tensors are kept (map_location="cpu" puts every stored tensor there).
    """
    seen: set[int] = set()
    stack = [payload]
    total = 0
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list, tuple, set, frozenset, torch.Tensor)):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, torch.Tensor):
            if item.layout != torch.strided or item.is_nested or item.device.type != "cpu":
                raise CheckpointError(
                    f"{name} holds a tensor of a kind this explorer does not read "
                    f"({item.layout}, {item.device.type}); only ordinary CPU tensors are read"
                )
            nbytes = item.numel() * item.element_size()
            if nbytes > MAX_TENSOR_BYTES:
                raise CheckpointError(
                    f"{name} is too large: a tensor of shape {shown(str(tuple(item.shape)), 60)} "
                    f"would take {mb(nbytes)} (limit {mb(MAX_TENSOR_BYTES)})"
                )
            total += nbytes
            if total > MAX_TENSORS_BYTES:
                raise CheckpointError(
                    f"{name} is too large: its tensors would take more than "
                    f"{mb(MAX_TENSORS_BYTES)} together"
                )


def _check_meta(value: object, where: str, name: str) -> None:
    """Metadata is small: refuse a list, dict or tensor of more than MAX_META_ITEMS entries, or a
    string of more than MAX_META_TEXT characters, anywhere in ``value``, before anything is copied
    out of it (``.tolist()`` of an expanded tensor is where a 2 KB file became gigabytes)."""
    seen: set[int] = set()
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, (str, bytes)):
            if len(item) > MAX_META_TEXT:
                raise CheckpointError(
                    f"{name} has a text of {len(item):,} characters in {at} "
                    f"(limit {MAX_META_TEXT:,})"
                )
            continue
        if not isinstance(item, (dict, list, tuple, set, frozenset, torch.Tensor)):
            continue
        count = item.numel() if isinstance(item, torch.Tensor) else len(item)
        if count > MAX_META_ITEMS:
            raise CheckpointError(
                f"{name} has {count:,} entries in {at} (limit {MAX_META_ITEMS:,})"
            )
        if isinstance(item, torch.Tensor) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            for key, inner in item.items():
                label = f"{at}[{shown(repr(key), 40)}]" if isinstance(key, str) else at
                stack.append((key, at))
                stack.append((inner, label))
        else:
            stack.extend((inner, at) for inner in item)


def load(source: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint (zoo name or path) and rebuild its model, in eval mode, on ``device``."""
    text = source_text(source)
    path = resolve(text)
    if path.suffix.lower() == ".onnx":  # onnxruntime runs it on the CPU, whatever the device
        return Checkpoint(*_onnx().load(path, text))
    payload = read(path)
    model, info = _build(payload, source=text, path=path)
    model.to(device).eval().requires_grad_(False)
    return Checkpoint(model=model, info=info)


def load_bytes(data: bytes, filename: object, device: str | torch.device = "cpu") -> Checkpoint:
    """A checkpoint uploaded from a browser: the same checks as :func:`load`, on its bytes.

    The bytes are read from memory; messages name the file as :func:`upload_name` shows it.
    """
    name = upload_name(filename)
    if not isinstance(data, (bytes, bytearray)):
        raise CheckpointError(f"{name} is not a file upload")
    if not data:
        raise CheckpointError(f"{name} is empty (0 bytes), not a checkpoint")
    if name.lower().endswith(".onnx"):
        return Checkpoint(*_onnx().load_bytes(bytes(data), name, f"upload:{name}"))
    payload = _read(io.BytesIO(data), len(data), name)
    model, info = _build(payload, source=f"upload:{name}", path=Path(name))
    model.to(device).eval().requires_grad_(False)
    return Checkpoint(model=model, info=info)


def _onnx():
    """explorer.formats.onnx_file, imported when an ONNX file is opened: onnx, onnxruntime and
    onnxscript take seconds and ~100 MB to import, which no .pth load or CLI call should pay."""
    from explorer.formats import onnx_file

    return onnx_file


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
    text = source_text(source)
    path = resolve(text)
    try:
        status = path.stat()
    except OSError as exc:  # gone since resolve()
        raise CheckpointError(f"cannot open {shown(text)}: {exc.strerror}") from None
    file_id = (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)
    return _load_once(os.path.realpath(path), file_id, text, str(device))


def _build(payload: object, source: str, path: Path) -> tuple[VAE, ModelInfo]:
    name = shown(path.name)
    if not isinstance(payload, dict):
        raise CheckpointError(
            f"{name} holds a {type(payload).__name__}, not a VAE checkpoint "
            "(expected a dict with model weights)"
        )
    form = payload.get("format")
    if isinstance(form, str) and form == FORMAT:
        return _build_ours(payload, source, path, name)
    if "model_state_dict" in payload:
        return _build_original(payload, source, path, name)
    if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
        state = _state_dict(payload, name)
        config = VAEConfig(latent_dim=_latent_dim(state, name), output="linear")
        info = _info(source, path, "state-dict", config)
        return _model(config, state, name), info
    keys = sorted(shown(k, 40) if isinstance(k, str) else type(k).__name__ for k in payload)
    raise CheckpointError(
        f"{name} has an unknown checkpoint layout (top-level keys: "
        f"{', '.join(keys[:6]) or 'none'}); expected model_state_dict and config"
    )


def _build_ours(payload: dict, source: str, path: Path, name: str) -> tuple[VAE, ModelInfo]:
    version = payload.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        said = version if type(version) is int and abs(version) < 10**9 else "unknown"
        raise CheckpointError(f"{name} is vae-explorer format version {said}, expected 1")
    state = _state_dict(payload.get("model_state_dict"), name)
    config = _our_config(payload.get("config"), name)
    meta = payload.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    _check_meta(meta, "meta", name)
    info = _info(source, path, FORMAT, config, meta)
    return _model(config, state, name), info


def _our_config(raw: object, name: str) -> VAEConfig:
    """VAEConfig(**raw), with plain values only, every failure one line."""
    if raw is None:
        raise CheckpointError(f"{name} has no model config")
    if not isinstance(raw, dict):
        raise CheckpointError(
            f"{name} has an invalid model config (a {type(raw).__name__}, not a dict)"
        )
    known = {f.name for f in fields(VAEConfig)}
    for key, value in raw.items():
        if not isinstance(key, str) or key not in known:
            what = shown(key, 40) if isinstance(key, str) else f"a {type(key).__name__} key"
            raise CheckpointError(f"{name} has an invalid model config: unknown field {what}")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise CheckpointError(
                f"{name} has an invalid model config: {key} is a {type(value).__name__}, "
                "expected a number or text"
            )
    latent_dim = raw.get("latent_dim")
    if isinstance(latent_dim, int) and not 1 <= latent_dim <= MAX_LATENT_DIM:
        said = latent_dim if abs(latent_dim) < 10**9 else "huge"
        raise CheckpointError(
            f"{name} has an invalid model config: latent_dim {said} is outside 1..{MAX_LATENT_DIM}"
        )
    try:
        return VAEConfig(**raw)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{name} has an invalid model config: {shown(str(exc))}") from None


def _build_original(payload: dict, source: str, path: Path, name: str) -> tuple[VAE, ModelInfo]:
    state = _state_dict(payload["model_state_dict"], name)
    config_in = payload.get("config") or {}
    if not isinstance(config_in, dict):
        config_in = {}
    for key in ("config", "train_losses", "val_losses"):
        _check_meta(payload.get(key), key, name)
    latent_dim = _latent_dim(state, name)
    stated = config_in.get("latent_dim")
    if stated is not None and (isinstance(stated, bool) or not isinstance(stated, int)):
        raise CheckpointError(
            f"{name} has an invalid config: latent_dim is a {type(stated).__name__}, "
            "expected an integer"
        )
    if stated is not None and stated != latent_dim:
        said = stated if abs(stated) < 10**9 else "huge"
        raise CheckpointError(
            f"{name} says latent_dim={said} but its weights have {latent_dim} dimensions"
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
    return _model(config, state, name), info


def _as_list(values: object) -> list:
    """A list or tuple (or a 1-d tensor) of losses as a list; anything else, or anything longer
    than MAX_META_ITEMS (refused earlier by _check_meta), as []."""
    if isinstance(values, torch.Tensor):
        if values.numel() > MAX_META_ITEMS:  # before tolist(), which would materialise it
            return []
        return values.detach().flatten().tolist()
    if isinstance(values, (list, tuple)) and len(values) <= MAX_META_ITEMS:
        return list(values)
    return []


def _state_dict(state: object, name: str) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{name} has no model weights (model_state_dict is empty)")
    if not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{name} has model weights under names that are not text")
    # Checkpoints saved from nn.DataParallel prefix every key with "module.".
    return {k.removeprefix("module."): v for k, v in state.items()}


def _latent_dim(state: dict, name: str) -> int:
    weight = state.get("encoder.fc_mu.weight")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise CheckpointError(
            f"{name} does not hold this VAE's weights (no encoder.fc_mu.weight matrix)"
        )
    rows = int(weight.shape[0])
    if not 1 <= rows <= MAX_LATENT_DIM:
        raise CheckpointError(
            f"{name} has {rows:,} latent dimensions (rows of encoder.fc_mu.weight); "
            f"this explorer handles 1 to {MAX_LATENT_DIM}"
        )
    return rows


def _model(config: VAEConfig, state: dict, name: str) -> VAE:
    model = VAE(config)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {shown(unexpected[0], 60)})")
        raise CheckpointError(f"{name} has the wrong layers for this VAE: {', '.join(parts)}")
    for key, tensor in expected.items():
        given = state[key]
        if not isinstance(given, torch.Tensor) or given.shape != tensor.shape:
            shape = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
            raise CheckpointError(
                f"{name} does not fit the model: {key} has shape {shown(str(shape), 60)}, "
                f"expected {tuple(tensor.shape)}"
            )
        odd = given.is_complex() or given.is_quantized
        if odd or given.is_floating_point() != tensor.is_floating_point():
            kind = "floating-point numbers" if tensor.is_floating_point() else "integers"
            raise CheckpointError(f"{name} has {given.dtype} values in {key}, expected {kind}")
        if given.is_floating_point() and not torch.isfinite(given).all():
            raise CheckpointError(f"{name} has NaN or infinite weights in {key}")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{name} does not fit the model: {shown(str(exc))}") from None
    return model


def _info(source: str, path: Path, fmt: str, config: VAEConfig, meta: dict | None = None):
    meta = meta or {}

    def number(key, kind):
        value = meta.get(key)
        if value is None:
            return None
        try:
            value = kind(value)
            # Huge integers do not survive float() or json.dumps(): treat them as absent.
            if not math.isfinite(value) or (kind is int and abs(value) >= 2**63):
                return None
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return None
        return value

    def losses(key):
        try:
            return tuple(float(v) for v in _as_list(meta.get(key)) if math.isfinite(float(v)))
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return ()

    dataset = meta.get("dataset")
    return ModelInfo(
        source=source,
        path=str(path),
        format=fmt,
        latent_dim=config.latent_dim,
        output=config.output,
        image_shape=(config.channels, config.image_size, config.image_size),
        beta=number("beta", float),
        epochs=number("epochs", int),
        dataset=shown(dataset) if isinstance(dataset, str) else None,
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
