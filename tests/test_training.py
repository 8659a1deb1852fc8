"""explorer.training and train.py: real runs on small slices of mnist-5k (offline)."""

from __future__ import annotations

import hashlib
import itertools
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import checkpoint, data, training
from explorer.model import VAE, VAEConfig

ROOT = Path(__file__).resolve().parent.parent
# One thread: tiny batches gain little from two, and two spin badly on a busy shared machine.
BASE = ["--dataset", "mnist-5k", "--limit", "256", "--num-threads", "1"]


@pytest.fixture(autouse=True)
def one_thread():
    """In-process runs set torch's thread count (--num-threads 1): restore it afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_py(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """train.py as a user runs it."""
    command = [sys.executable, str(ROOT / "train.py"), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One epoch on 256 images, with plots: (process, checkpoint path, plot folder)."""
    tmp = tmp_path_factory.mktemp("run")
    proc = train_py(*BASE, "--epochs", "1", "--save-plots", "--plot-dir", "figs",
                    "--checkpoint-path", "one.pth", cwd=tmp)  # fmt: skip
    return proc, tmp / "one.pth", tmp / "figs"


def test_one_epoch_writes_a_loadable_checkpoint(first_run):
    proc, path, _ = first_run
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1/1" in proc.stdout and "val" in proc.stdout
    info = checkpoint.load(path).info
    assert (info.format, info.dataset, info.epochs, info.beta) == (
        "vae-explorer",
        "mnist-5k",
        1,
        1.0,
    )
    assert (info.latent_dim, info.output, info.seed, info.batch_size) == (12, "sigmoid", 42, 128)
    assert info.learning_rate == pytest.approx(1e-3)
    assert len(info.train_losses) == len(info.val_losses) == 1


def test_checkpoint_meta_is_complete(first_run):
    _, path, _ = first_run
    payload = checkpoint.read(path)
    meta = payload["meta"]
    assert meta["train_split"] == 0.9 and meta["limit"] == 256
    assert (meta["train_size"], meta["val_size"]) == (230, 26)
    for key in ("train_losses", "val_losses", "train_recon", "train_kl", "val_recon", "val_kl"):
        assert len(meta[key]) == 1 and math.isfinite(meta[key][0]), key
    total, recon, kl = meta["val_losses"][0], meta["val_recon"][0], meta["val_kl"][0]
    assert total == pytest.approx(recon + 1.0 * kl, rel=1e-5)
    assert payload["optimizer_state_dict"]["state"], "optimizer state is saved for --resume"
    assert all(t.is_contiguous() for t in payload["model_state_dict"].values())


def test_save_plots(first_run):
    proc, _, figs = first_run
    assert proc.returncode == 0, proc.stderr
    html = (figs / "training_curves.html").read_text()
    assert "<html" in html and "Bokeh" in html and "Reconstruction" in html
    assert '<script src="http' not in html and 'type="text/css" href="http' not in html  # offline
    with Image.open(figs / "reconstructions.png") as image:
        assert image.size == (16 * 30 + 2, 2 * 30 + 2)  # 16 inputs over 16 outputs, 2px padding
    with Image.open(figs / "prior_samples.png") as image:
        assert image.size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples
        assert len(np.unique(np.asarray(image.convert("L")))) > 20  # images, not a blank grid


def test_resume_continues_the_epochs(first_run, tmp_path, capsys):
    _, path, _ = first_run
    ckpt = shutil.copy(path, tmp_path / "resumed.pth")
    assert training.main(["--resume", str(ckpt), "--epochs", "2"]) == 0
    assert "epoch 3/3" in capsys.readouterr().out
    first, resumed = checkpoint.read(path), checkpoint.read(ckpt)
    meta = resumed["meta"]
    assert meta["epochs"] == 3 and len(meta["val_losses"]) == 3
    assert meta["train_losses"][0] == first["meta"]["train_losses"][0]
    assert (meta["dataset"], meta["limit"], meta["val_size"]) == ("mnist-5k", 256, 26)
    steps = resumed["optimizer_state_dict"]["state"][0]["step"]
    assert int(steps) == 3 * 2  # 230 images in batches of 128: 2 Adam steps per epoch


def test_resume_repeats_an_uninterrupted_run(tmp_path, capsys):
    args = ["--dataset", "mnist-5k", "--limit", "200", "--num-threads", "1", "--no-optimizer-state"]
    assert (
        training.main([*args, "--epochs", "2", "--checkpoint-path", str(tmp_path / "a.pth")]) == 0
    )
    args.remove("--no-optimizer-state")
    assert (
        training.main([*args, "--epochs", "1", "--checkpoint-path", str(tmp_path / "b.pth")]) == 0
    )
    assert training.main(["--resume", str(tmp_path / "b.pth"), "--epochs", "1"]) == 0
    a, b = checkpoint.read(tmp_path / "a.pth"), checkpoint.read(tmp_path / "b.pth")
    assert a["meta"]["val_losses"] == b["meta"]["val_losses"]
    for key, tensor in a["model_state_dict"].items():
        assert torch.equal(tensor, b["model_state_dict"][key]), key
    assert "optimizer_state_dict" not in a  # --no-optimizer-state
    assert tmp_path.joinpath("a.pth").stat().st_size < 500_000


def test_diverging_loss_stops_and_keeps_the_last_good_checkpoint(first_run, tmp_path):
    _, path, _ = first_run
    ckpt = shutil.copy(path, tmp_path / "good.pth")
    before = digest(ckpt)
    proc = train_py("--resume", str(ckpt), "--lr", "1e30", "--epochs", "2", "--num-threads", "1",
                    cwd=tmp_path)  # fmt: skip
    assert proc.returncode == training.EXIT_DIVERGED
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "epoch 2" in lines[0] and "nan" in lines[0].lower() and "--lr" in lines[0]
    assert digest(ckpt) == before
    assert checkpoint.load(ckpt).info.epochs == 1


def test_diverging_first_epoch_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never.pth"
    status = training.main([*BASE, "--lr", "1e30", "--epochs", "1", "--checkpoint-path", str(out)])
    assert status == training.EXIT_DIVERGED
    assert not out.exists()
    assert "no checkpoint was written" in capsys.readouterr().err


def test_bad_argument_is_one_line(tmp_path):
    proc = train_py("--epochs", "0", cwd=tmp_path)
    assert proc.returncode == training.EXIT_ERROR
    assert proc.stderr.strip() == (
        "train.py: error: argument --epochs: must be an integer > 0, got 0 (see --help)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--dataset", "mnist", "--data-dir", "{tmp}/empty"], "--download"),
     (["--resume", "{tmp}/missing.pth"], "checkpoint not found"),
     (["--resume", "{tmp}/junk.pth"], "not a PyTorch checkpoint"),
     (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "mps"],
      "not available")],
    ids=["missing-data", "missing-checkpoint", "junk-checkpoint", "device"],
)  # fmt: skip
def test_errors_are_one_line(tmp_path, capsys, args, expected):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    argv = [a.format(tmp=tmp_path) for a in args] + ["--checkpoint-path", str(tmp_path / "x.pth")]
    if "--dataset" not in argv:
        argv += BASE
    assert training.main(argv) == training.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("train.py: error: ") and expected in err
    assert err.count("\n") == 1


def test_resume_refuses_a_different_latent_size(first_run, tmp_path, capsys):
    _, path, _ = first_run
    argv = ["--resume", str(path), "--latent-dim", "4", "--checkpoint-path", str(tmp_path / "x")]
    assert training.main(argv) == training.EXIT_ERROR
    assert "does not match" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_set() -> tuple[torch.Tensor, torch.Tensor]:
    return training.split_images(data.load("mnist-5k").head(640), 0.8, seed=0)


def test_loss_decreases(small_set):
    train_x, val_x = small_set
    torch.manual_seed(0)
    model = training.prepare_model(VAE(VAEConfig()), torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = training.fit(model, optimizer, train_x, val_x, epochs=4, progress=False,
                           log=lambda line: None)  # fmt: skip
    assert history.epochs == 4 and len(history.val_loss) == 4
    assert all(b < a for a, b in itertools.pairwise(history.train_loss)), history
    assert history.val_loss[-1] < history.val_loss[0] - 10, history


def test_evaluate_uses_the_posterior_mean(small_set):
    _, val_x = small_set
    torch.manual_seed(0)
    model = VAE(VAEConfig())
    first = training.evaluate(model, val_x, batch_size=50)
    again = training.evaluate(model, val_x, batch_size=1000)  # deterministic, batch-independent
    assert first.loss == pytest.approx(again.loss, rel=1e-5)
    assert first.loss == pytest.approx(first.recon + first.kl, rel=1e-5)
    assert not model.training


def test_non_finite_loss_stops_before_the_step(small_set):
    train_x, _ = small_set
    bad = train_x[:64].clone()
    bad[5, 0, 3, 3] = float("nan")
    model = VAE(VAEConfig())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(training.NonFiniteLoss, match="batch 1"):
        training.train_epoch(model, optimizer, bad, batch_size=64)
    params = {k: v for k, v in model.state_dict().items() if "running" not in k and "num" not in k}
    assert all(torch.equal(v, before[k]) for k, v in params.items())


def test_history_round_trips_through_meta():
    history = training.History()
    history.append(training.Stats(3.0, 2.0, 1.0), training.Stats(4.0, 2.5, 1.5))
    history.append(training.Stats(2.0, 1.5, 0.5), None)
    meta = history.to_meta()
    assert meta["train_losses"] == [3.0, 2.0] and meta["val_kl"] == [1.5]
    assert training.History.from_meta(meta) == history


def test_select_device():
    assert training.select_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else None
    auto = training.select_device("auto").type
    assert auto == expected or (expected is None and auto in ("cpu", "mps"))
