"""Small checkpoint files that would expand to gigabytes: refused, with little memory spent.

The bombs are real files: torch.save of stride-0 tensors (one stored element each), and zip
archives in torch.save's layout whose deflated entries inflate ~230-fold. Each is checked to be
live (torch.load really materialises it, or .tolist() would) before being checked refused.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import resource
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from explorer import checkpoint
from explorer.checkpoint import (
    MAX_ENTRY_BYTES,
    MAX_META_ITEMS,
    MAX_PICKLE_BYTES,
    MAX_PICKLE_CALLS,
    MAX_UNPACKED_BYTES,
    MAX_ZIP_ENTRIES,
    CheckpointError,
)
from explorer.latent.space import LatentModel
from explorer.model import VAE, VAEConfig

MB = 2**20


def expanded(*shape: int) -> torch.Tensor:
    """A tensor of ``shape`` whose storage is one element (all strides 0)."""
    return torch.zeros(1).expand(*shape)


def weights(latent_dim: int = 4) -> dict[str, torch.Tensor]:
    return VAE(VAEConfig(latent_dim=latent_dim, output="linear")).state_dict()


def original(**changes) -> dict:
    payload = {
        "config": {"latent_dim": 4, "beta": 1.0},
        "model_state_dict": weights(),
        "train_losses": [3.0, 2.0],
        "val_losses": [3.5, 2.5],
    }
    return payload | changes


def ours(**changes) -> dict:
    payload = {
        "format": "vae-explorer",
        "version": 1,
        "config": {"latent_dim": 4, "output": "sigmoid"},
        "model_state_dict": VAE(VAEConfig(latent_dim=4)).state_dict(),
        "meta": {"beta": 1.0, "train_losses": [3.0, 2.0]},
    }
    return payload | changes


def stored_sizes(path) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename.split("/", 1)[1]: info.file_size for info in archive.infolist()}


# -- zip bombs in torch.save's layout ----------------------------------------------------------


class _Storage:
    """One storage record of the archive; pickled as torch.save's persistent id for it."""

    def __init__(self, key: str, nbytes: int):
        self.key, self.numel = key, nbytes // 4


class _Zeros:
    """A float32 tensor over a whole _Storage, pickled as torch.save pickles a tensor."""

    def __init__(self, storage: _Storage):
        self.storage = storage

    def __reduce__(self):
        n = self.storage.numel
        args = (self.storage, 0, (n,), (1,), False, collections.OrderedDict())
        return torch._utils._rebuild_tensor_v2, args


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def write_zip_bomb(path, sizes: list[int]):
    """A torch checkpoint {"t0": zeros, ...} with one deflated entry of each size (bytes).

    The zeros are streamed through zipfile in 1 MB chunks, so making a 300 MB bomb costs no
    memory (compresslevel=1: about 0.5 s per 300 MB here, ~230-fold).
    """
    storages = [_Storage(str(i), nbytes) for i, nbytes in enumerate(sizes)]
    pickled = io.BytesIO()
    _Pickler(pickled, protocol=2).dump({f"t{i}": _Zeros(s) for i, s in enumerate(storages)})
    zero = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("bomb/data.pkl", pickled.getvalue())
        archive.writestr("bomb/byteorder", "little")
        archive.writestr("bomb/version", "3\n")
        for storage, nbytes in zip(storages, sizes, strict=True):
            with archive.open(f"bomb/data/{storage.key}", "w", force_zip64=True) as entry:
                for start in range(0, nbytes, MB):
                    entry.write(zero[: min(MB, nbytes - start)])
    return path


# One entry over MAX_ENTRY_BYTES; three under it that together pass MAX_UNPACKED_BYTES.
ENTRY_BOMB = [MAX_ENTRY_BYTES + 172 * MB]  # 300 MB
TOTAL_BOMB = [100 * MB] * 3


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "entry": write_zip_bomb(folder / "entry-bomb.pth", ENTRY_BOMB),
        "total": write_zip_bomb(folder / "total-bomb.pth", TOTAL_BOMB),
        # The 1.9 KB file: expanded weights and 100 M expanded losses (400 MB as a tensor,
        # gigabytes as a list).
        "expanded": folder / "expanded.pth",
    }
    torch.save(
        {
            "config": {"latent_dim": 12},
            "model_state_dict": {"encoder.fc_mu.weight": expanded(12, 1024)},
            "train_losses": expanded(100_000_000),
        },
        made["expanded"],
    )
    return made


def test_the_bombs_are_small_files(bombs):
    assert ENTRY_BOMB[0] > MAX_ENTRY_BYTES
    assert max(TOTAL_BOMB) <= MAX_ENTRY_BYTES < MAX_UNPACKED_BYTES < sum(TOTAL_BOMB)
    assert bombs["entry"].stat().st_size < 2 * MB
    assert bombs["total"].stat().st_size < 2 * MB
    assert bombs["expanded"].stat().st_size < 4096
    assert stored_sizes(bombs["entry"])["data/0"] == ENTRY_BOMB[0]  # what the zip declares
    # torch.save wrote one element for each expanded tensor.
    sizes = stored_sizes(bombs["expanded"])
    assert sorted(v for k, v in sizes.items() if k.startswith("data/")) == [4, 4]


# Peak-RSS measures for a child process: its RSS now, and a reset of the kernel's peak mark
# (Linux: clear_refs 5), so that VmHWM later says how far it rose. (ru_maxrss will not do: a child
# inherits its parent's across fork and exec.)
MEASURE = """
import re
def kb(key):
    with open("/proc/self/status") as status:
        return int(re.search(key + r":\\s+(\\d+) kB", status.read()).group(1))
def start():
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return kb("VmRSS")
def rise(before):
    return (kb("VmHWM") - before) * 1024
"""


def test_the_zip_bomb_is_live(bombs):
    """Unchecked, torch.load really inflates the bomb (so refusing it is what saves memory)."""
    code = MEASURE + (
        "import torch\n"
        "before = start()\n"
        f"t = torch.load({str(bombs['entry'])!r}, weights_only=True)['t0']\n"
        "print(rise(before), t.numel() * t.element_size(), int(t.count_nonzero()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    rise, nbytes, nonzero = map(int, done.stdout.split())
    assert nbytes == ENTRY_BOMB[0] and nonzero == 0
    assert rise > 0.9 * ENTRY_BOMB[0]


def test_the_expanded_bomb_is_live(bombs):
    payload = torch.load(bombs["expanded"], weights_only=True)
    losses = payload["train_losses"]
    assert losses.numel() == 100_000_000 and losses.untyped_storage().nbytes() == 4
    assert losses.stride() == (0,)  # .tolist() would make 100 M Python floats


@pytest.mark.parametrize(
    ("bomb", "words"),
    [
        ("entry", "one of its entries unpacks to 300.0 MB"),
        ("total", "it unpacks to 300.0 MB"),
        ("expanded", "would take 381.5 MB"),
    ],
)
def test_bombs_are_refused(bombs, bomb, words, monkeypatch):
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load(bombs[bomb])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(bombs[bomb].name) and "too large" in message and words in message
    # The zip bombs are refused from the zip's own account, before torch.load inflates anything.
    assert len(loads) == (1 if bomb == "expanded" else 0)


def test_an_uploaded_bomb_leaves_the_model(bombs, ckpt12):
    model = LatentModel(checkpoint=str(ckpt12))
    image, info = model.image.copy(), model.info
    model.upload(bombs["entry"].read_bytes(), "innocent.pth")  # 1.4 MB: under the upload limit
    assert model.message.startswith("innocent.pth is too large")
    np.testing.assert_array_equal(model.image, image)
    assert model.info is info


# -- metadata: short, checked before anything is copied out of it ------------------------------

META_BOMBS = {
    "original train_losses": original(train_losses=expanded(1_000_000)),
    "original val_losses": original(val_losses=expanded(1_000_000)),
    "original losses as a list": original(train_losses=[0] * (MAX_META_ITEMS + 1)),
    "original config": original(config={"latent_dim": 4, "history": expanded(1_000_000)}),
    "ours meta": ours(meta={"train_losses": expanded(1_000_000)}),
    "ours nested meta": ours(meta={"log": {"steps": [expanded(1_000_000)]}}),
    "ours long list": ours(meta={"val_losses": [0] * (MAX_META_ITEMS + 1)}),
    "ours long text": ours(meta={"dataset": "x" * 20_000}),
}


@pytest.mark.parametrize("case", META_BOMBS)
def test_long_metadata_is_refused(tmp_path, case):
    path = tmp_path / "meta.pth"
    torch.save(META_BOMBS[case], path)
    assert path.stat().st_size < 2 * MB
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("meta.pth has ")
    assert f"(limit {MAX_META_ITEMS:,})" in message or "(limit 10,000)" in message


def test_metadata_at_its_limits_loads(tmp_path):
    path = tmp_path / "long.pth"
    losses = torch.linspace(1, 2, MAX_META_ITEMS)
    torch.save(original(train_losses=losses, val_losses=losses.tolist()), path)
    info = checkpoint.load(path).info
    assert len(info.train_losses) == len(info.val_losses) == info.epochs == MAX_META_ITEMS


def test_huge_numbers_in_metadata_are_dropped(tmp_path):
    path = tmp_path / "numbers.pth"
    huge = 10**400  # float() fails on it (and json.dumps on a bigger one)
    torch.save(ours(meta={"epochs": huge, "seed": -huge, "beta": huge, "dataset": "a\nb"}), path)
    info = checkpoint.load(path).info
    assert (info.epochs, info.seed, info.beta) == (None, None, None)
    assert info.dataset == "a?b"


# -- the archive itself ------------------------------------------------------------------------


def _torch_zip(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_too_many_entries(tmp_path):
    path = tmp_path / "many.pth"
    path.write_bytes(_torch_zip(original()))
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(MAX_ZIP_ENTRIES):
            archive.writestr(f"archive/extra/{i}", b"")
    with pytest.raises(CheckpointError, match=r"many\.pth has too many entries"):
        checkpoint.load(path)


def test_too_large_a_zip_directory(tmp_path):
    path = tmp_path / "names.pth"
    path.write_bytes(_torch_zip(original()))
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(100):  # 49 + 100 entries, but 3 MB of names
            archive.writestr(f"archive/{i:03d}{'x' * 30_000}", b"")
    with pytest.raises(
        CheckpointError,
        match=r"names\.pth has too many entries for a checkpoint \(149 entries, a 2\.9 MB",
    ):
        checkpoint.load(path)


def test_zip64_record_where_only_one_reader_looks(tmp_path):
    """torch writes a zip64 end record; one at another place than its locator says would let
    zipfile (which looks just before the locator) and torch's reader see different archives."""
    data = bytearray(_torch_zip(original()))
    locator = data.rfind(b"PK\x06\x07")
    assert locator > 0
    data[locator + 8 : locator + 16] = (0).to_bytes(8, "little")  # the record's offset
    path = tmp_path / "z64.pth"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        checkpoint.load(path)


def test_too_large_a_pickle(tmp_path):
    path = tmp_path / "pickle.pth"
    torch.save(original(train_losses=[1.5] * 250_000), path)  # 9 bytes per float
    assert stored_sizes(path)["data.pkl"] > MAX_PICKLE_BYTES
    with pytest.raises(CheckpointError, match=r"pickle.pth is too large: its object data"):
        checkpoint.load(path)


def test_too_many_objects_built(tmp_path):
    """25,000 views of one stored element: a 1.5 MB pickle that makes 25,000 tensors."""
    path = tmp_path / "views.pth"
    base = torch.zeros(1)
    torch.save(original(extra=[base.expand(1) for _ in range(25_000)]), path)
    assert stored_sizes(path)["data.pkl"] < MAX_PICKLE_BYTES
    with pytest.raises(CheckpointError, match=f"more than {MAX_PICKLE_CALLS:,}"):
        checkpoint.load(path)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants:UserWarning")
@pytest.mark.parametrize("kind", ["sparse", "meta"])
def test_unusual_tensors_are_refused(tmp_path, kind):
    if kind == "sparse":  # a billion elements, one stored
        tensor = torch.sparse_coo_tensor(torch.tensor([[0]]), torch.tensor([1.0]), (10**9,))
    else:
        tensor = torch.empty(10**9, device="meta")  # stays on meta whatever map_location says
    path = tmp_path / "odd.pth"
    torch.save(original(extra=tensor), path)
    with pytest.raises(CheckpointError, match="a kind this explorer does not read"):
        checkpoint.load(path)


# -- the command line: one line, quickly, without the memory -----------------------------------


# The child runs the command as `python -m explorer.cli` does, after importing torch (its ~0.7 GB
# is not what is measured), and writes how far its peak RSS rose to the file named by $RSS_OUT.
CLI = (
    MEASURE
    + """
import os, runpy, sys
import torch
before = start()
sys.argv = ["vae-explorer", *sys.argv[1:]]
try:
    runpy.run_module("explorer.cli", run_name="__main__", alter_sys=True)
finally:
    with open(os.environ["RSS_OUT"], "w") as out:
        out.write(str(rise(before)))
"""
)


def run_cli(tmp_path, *args: str) -> tuple[int, str, str, int]:
    """`vae-explorer ARGS` in a child: (status, stdout, stderr, bytes its peak RSS rose by).

    The child's address space is capped (torch itself maps ~3.3 GB) so that a regression fails
    this test quickly instead of taking the machine's memory.
    """
    limit = 5 * 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    rss = tmp_path / "rss"
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap,
        env={**os.environ, "RSS_OUT": str(rss)},
    )
    return done.returncode, done.stdout, done.stderr, int(rss.read_text())


def test_cli_measure_sees_a_load(tmp_path):
    """The measure is live: reading a real checkpoint shows, a refused text file does not."""
    text = tmp_path / "text.pth"
    text.write_text("not a checkpoint\n")
    status, stdout, stderr, rss = run_cli(tmp_path, "info", str(text))
    assert (status, stdout) == (1, "")
    assert stderr == "vae-explorer info: error: text.pth is not a PyTorch checkpoint " + (
        "(unrecognized data)\n"
    )
    assert rss < 8 * MB
    path = tmp_path / "fine.pth"
    torch.save(original(train_losses=torch.rand(30 * MB // 4)), path)  # 30 MB of losses
    status, stdout, stderr, rss = run_cli(tmp_path, "info", str(path))
    assert (status, stdout) == (1, "")
    assert "30.0 MB" not in stderr and "entries in train_losses" in stderr
    assert rss > 30 * MB


@pytest.mark.parametrize("bomb", ["entry", "total", "expanded"])
def test_cli_info_refuses_bombs_in_one_line(bombs, bomb, tmp_path):
    status, stdout, stderr, rss = run_cli(tmp_path, "info", str(bombs[bomb]))
    assert status == 1
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith(f"vae-explorer info: error: {bombs[bomb].name} is too large")
    # Each bomb would cost at least 300 MB if it were inflated or materialised.
    assert rss < 32 * MB, rss / MB
