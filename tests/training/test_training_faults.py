"""kill -9 of train.py in the middle of a save leaves the previous checkpoint loadable."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer import checkpoint

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def start_training(path: Path, resume: bool) -> subprocess.Popen:
    command = [
        sys.executable, "train.py", "--dataset", "mnist-5k", "--limit", "128",
        "--batch-size", "64", "--epochs", "100000", "--num-threads", "1",
        "--checkpoint-path", str(path),
    ]  # fmt: skip
    if resume:
        command += ["--resume", str(path)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_during_save(proc: subprocess.Popen, folder: Path, name: str, timeout: float = 60) -> bool:
    """SIGKILL the moment a temporary file of a save appears; False if none appeared in time."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if any(p.name.startswith(f".{name}.") for p in folder.iterdir()):
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
    proc.kill()
    proc.wait(10)
    return False


def test_kill_9_during_save_keeps_last_checkpoint(tmp_path):
    path = tmp_path / "run.pth"
    killed_mid_save = 0
    epochs = []
    for attempt in range(4):
        before = path.stat().st_ino if path.exists() else None
        proc = start_training(path, resume=before is not None)
        # Let this run complete one save of its own (a save replaces the file: a new inode),
        # so that every run moves the checkpoint on; then kill it as its next save begins.
        deadline = time.time() + 60
        while not (path.exists() and path.stat().st_ino != before) and time.time() < deadline:
            time.sleep(0.005)
        assert path.exists() and path.stat().st_ino != before, "train.py saved nothing"
        killed_mid_save += kill_during_save(proc, tmp_path, path.name)
        loaded = checkpoint.load(path)  # never a half-written file
        epochs.append(loaded.info.epochs)
        assert loaded.info.epochs >= 1, attempt
        for leftover in tmp_path.glob(f".{path.name}.*"):
            leftover.unlink()  # the interrupted save's temporary file; the checkpoint is intact
    assert killed_mid_save >= 3
    assert all(a < b for a, b in itertools.pairwise(epochs)), epochs  # --resume went on each time
