"""`vae-explorer serve`: a real server process answering HTTP, and one-line start-up errors."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

VAE_EXPLORER = str(Path(sys.executable).with_name("vae-explorer"))


def test_serve_answers_http(ckpt12):
    port = free_port()
    proc = subprocess.Popen(
        [VAE_EXPLORER, "serve", str(ckpt12), "--port", str(port), "--address", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"server did not answer: {proc.stdout.read()}")
                time.sleep(0.3)
        assert "VAE latent explorer" in page
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert f"serving {ckpt12}" in output
    assert "Traceback" not in output


def test_serve_bad_checkpoint_is_one_line(tmp_path):
    result = subprocess.run(
        [VAE_EXPLORER, "serve", str(tmp_path / "missing.pth")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"vae-explorer serve: error: checkpoint not found: {tmp_path / 'missing.pth'}"
    ]
