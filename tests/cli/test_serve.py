"""`vae-explorer serve` and `panel serve apps/explorer.py`: real server processes answering HTTP,
and one-line start-up errors."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port

from explorer.app.options import TITLE, AppOptions, parse_args
from explorer.cli.main import build_parser

VAE_EXPLORER = str(Path(sys.executable).with_name("vae-explorer"))
PANEL = str(Path(sys.executable).with_name("panel"))


def serve_page(command: list[str], url: str) -> tuple[str, str]:
    """Start a server, fetch ``url`` once it answers, stop it: (page, the server's output)."""
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=30) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"server did not answer: {proc.stdout.read()}")
                time.sleep(0.3)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    return page, output


def test_serve_answers_http(ckpt12):
    port = free_port()
    command = [VAE_EXPLORER, "serve", str(ckpt12), "--port", str(port), "--address", "127.0.0.1"]
    page, output = serve_page(command, f"http://127.0.0.1:{port}/")
    assert TITLE in page
    assert f"serving {ckpt12}" in output
    assert "Traceback" not in output


def test_the_design_cards_command_serves_the_app(ckpt12):
    """`panel serve apps/explorer.py`, as the card names it: the script's own folder, first on
    sys.path, must not shadow the explorer package (the page is built when it is fetched)."""
    assert not (ROOT / "apps" / "vae_explorer.py").exists()  # one app script
    port = free_port()
    command = [PANEL, "serve", "apps/explorer.py", "--port", str(port), "--address", "127.0.0.1",
               "--args", "--checkpoint", str(ckpt12)]  # fmt: skip
    page, output = serve_page(command, f"http://127.0.0.1:{port}/explorer")
    assert f"<title>{TITLE}</title>" in page
    assert "Traceback" not in output and "ERROR" not in output, output


def test_serve_bad_checkpoint_is_one_line(tmp_path):
    result = subprocess.run(
        [VAE_EXPLORER, "serve", str(tmp_path / "missing.pth")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    missing = tmp_path / "missing.pth"
    assert result.stderr.strip().splitlines() == [
        f"vae-explorer serve: error: checkpoint not found: {missing} — train a model first: "
        f"python train.py --beta 10 --epochs 10 --checkpoint-path {missing}"
    ]


def test_serve_and_the_app_script_hand_the_app_the_same_options(tmp_path):
    """`vae-explorer serve` builds AppOptions from its own arguments; the app script parses
    them from its argv: the same options give the same AppOptions."""
    given = ["--data-dir", str(tmp_path), "--checkpoint-dir", "a", "--checkpoint-dir=b",
             "--zoo-only", "--max-upload-mb", "2.5"]  # fmt: skip
    options = parse_args(["--checkpoint", "mnist-beta1", *given])
    assert options == AppOptions("mnist-beta1", str(tmp_path), ("a", "b"), True, 2.5)
    served = build_parser().parse_args(["serve", "mnist-beta1", *given])
    assert AppOptions.from_args(served) == options
    assert parse_args([]) == AppOptions()  # and the same defaults


def test_the_command_line_and_the_app_options_import_neither_torch_nor_panel():
    """`vae-explorer --help` and a usage error answer before torch or Panel loads, and the
    app's options are read on that path: explorer.app.options imports neither."""
    code = "import sys, explorer.cli.main, explorer.app.options; print(*sys.modules, sep='\\n')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    loaded = set(result.stdout.splitlines())
    assert "explorer.app.options" in loaded  # the list is real
    assert not loaded & {"torch", "panel", "bokeh", "explorer.app.server"}
