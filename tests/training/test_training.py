"""explorer.training and train.py: real runs on small slices of mnist-5k (offline)."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import free_port
from PIL import Image
from test_checkpoint import TRAIN_LOSSES, VAL_LOSSES, OriginalVAE, original_payload
from torchvision.utils import make_grid

from explorer import checkpoint, zoo
from explorer.cli import train
from explorer.compute import device
from explorer.data import datasets
from explorer.model import VAE, VAEConfig
from explorer.training import curves, loop, plots, resume
from explorer.zoo import build

ROOT = Path(__file__).resolve().parents[2]
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
    assert (info.latent_dim, info.output, info.seed, info.batch_size) == (12, "linear", 42, 128)
    assert info.learning_rate == pytest.approx(1e-3)
    assert len(info.train_losses) == len(info.val_losses) == 1


def test_checkpoint_meta_is_complete(first_run):
    _, path, _ = first_run
    payload = checkpoint.read(path)
    meta = payload["meta"]
    assert meta["train_split"] == 0.9 and meta["limit"] == 256 and meta["init"] == "kaiming"
    assert (meta["train_size"], meta["val_size"]) == (230, 26)
    for key in ("train_losses", "val_losses", "train_recon", "train_kl", "val_recon", "val_kl"):
        assert len(meta[key]) == 1 and math.isfinite(meta[key][0]), key
    total, recon, kl = meta["val_losses"][0], meta["val_recon"][0], meta["val_kl"][0]
    assert total == pytest.approx(recon + 1.0 * kl, rel=1e-5)
    assert payload["optimizer_state_dict"]["state"], "optimizer state is saved for --resume"
    assert all(t.is_contiguous() for t in payload["model_state_dict"].values())


def test_save_plots(first_run):
    proc, path, figs = first_run
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in figs.iterdir()) == sorted(
        [*plots.CURVE_PNG_NAMES, "training_curves.html"]
    )
    html = (figs / "training_curves.html").read_text()
    assert "<html" in html and "Bokeh" in html and "Reconstruction" in html
    assert '<script src="http' not in html and 'type="text/css" href="http' not in html  # offline
    with Image.open(figs / "vae_training_curves.png") as image:
        assert image.size == (3 * curves.PANEL[0], curves.PANEL[1])  # loss, recon, KL
        colors = {color for _, color in image.convert("RGB").getcolors(1 << 20)}
        assert {curves.TRAIN, curves.VALIDATION} <= colors
    with Image.open(figs / "vae_reconstructions.png") as image:
        assert image.size == (16 * 30 + 2, 2 * 30 + 2)  # 16 inputs over 16 outputs, 2px padding
    with Image.open(figs / "vae_samples.png") as image:
        assert image.size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples
        drawn = np.asarray(image.convert("L")).astype(int)
    # The saved model's own prior samples (VAE.sample, seeded), tiled as save_image tiles them.
    samples = checkpoint.load(path).model.sample(64, generator=torch.Generator().manual_seed(0))
    grid = make_grid(samples, nrow=8, pad_value=1.0)[0].mul(255).add(0.5).clamp(0, 255)
    assert np.abs(grid.to(torch.uint8).numpy().astype(int) - drawn).max() <= 1


def test_training_curves_png_follows_the_losses():
    """A falling training loss is drawn falling: its leftmost point is its highest."""
    falling, flat = [90.0, 60.0, 40.0, 35.0], [50.0] * 4
    image = curves.draw([("loss", falling, flat)], 4).convert("RGB")
    pixels = np.asarray(image)
    plot = pixels[curves.PLOT[1] + 1 : curves.PANEL[1] - curves.PLOT[3]]  # below the legend
    rows, cols = np.nonzero(np.all(plot == curves.TRAIN, axis=-1))
    assert cols[rows.argmin()] < image.width / 4 and cols[rows.argmax()] > image.width * 3 / 4
    rows, _ = np.nonzero(np.all(plot == curves.VALIDATION, axis=-1))
    assert rows.max() - rows.min() <= 8  # flat: one line of dots


def test_curves_of_a_resumed_original_run_end_at_the_last_epoch():
    assert curves.epochs_of([1.0, 2.0], 5) == [4, 5]
    assert curves.epochs_of([], 3) == []
    assert curves.nice_ticks(0.95, 2.05) == [1.0, 1.5, 2.0]


def test_resume_continues_the_epochs(first_run, tmp_path, capsys):
    _, path, _ = first_run
    ckpt = shutil.copy(path, tmp_path / "resumed.pth")
    assert train.main(["--resume", str(ckpt), "--epochs", "2"]) == 0
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
    assert train.main([*args, "--epochs", "2", "--checkpoint-path", str(tmp_path / "a.pth")]) == 0
    args.remove("--no-optimizer-state")
    assert train.main([*args, "--epochs", "1", "--checkpoint-path", str(tmp_path / "b.pth")]) == 0
    assert train.main(["--resume", str(tmp_path / "b.pth"), "--epochs", "1"]) == 0
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
    assert proc.returncode == train.EXIT_DIVERGED
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "epoch 2" in lines[0] and "nan" in lines[0].lower() and "--lr" in lines[0]
    assert digest(ckpt) == before
    assert checkpoint.load(ckpt).info.epochs == 1


def test_diverging_first_epoch_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never.pth"
    status = train.main([*BASE, "--lr", "1e30", "--epochs", "1", "--checkpoint-path", str(out)])
    assert status == train.EXIT_DIVERGED
    assert not out.exists()
    assert "no checkpoint was written" in capsys.readouterr().err


def test_bad_argument_is_one_line(tmp_path):
    proc = train_py("--epochs", "0", cwd=tmp_path)
    assert proc.returncode == train.EXIT_ERROR
    assert proc.stderr.strip() == (
        "train.py: error: argument --epochs: must be an integer > 0, got 0 (see --help)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--dataset", "mnist", "--data-dir", "{tmp}/empty", "--no-download"], "--download"),
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
    assert train.main(argv) == train.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("train.py: error: ") and expected in err
    assert err.count("\n") == 1


def test_resume_refuses_a_different_latent_size(first_run, tmp_path, capsys):
    _, path, _ = first_run
    argv = ["--resume", str(path), "--latent-dim", "4", "--checkpoint-path", str(tmp_path / "x")]
    assert train.main(argv) == train.EXIT_ERROR
    assert "does not match" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_set() -> tuple[torch.Tensor, torch.Tensor]:
    return loop.split_images(datasets.load("mnist-5k").head(640), 0.8, seed=0)


def test_loss_decreases(small_set):
    train_x, val_x = small_set
    torch.manual_seed(0)
    model = loop.prepare_model(VAE(VAEConfig()), torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = loop.fit(model, optimizer, train_x, val_x, epochs=4, progress=False,
                           log=lambda line: None)  # fmt: skip
    assert history.epochs == 4 and len(history.val_loss) == 4
    assert all(b < a for a, b in itertools.pairwise(history.train_loss)), history
    assert history.val_loss[-1] < history.val_loss[0] - 10, history


def test_kl_warmup_raises_the_kl_weight_linearly_and_is_saved(small_set, tmp_path):
    train_x, val_x = small_set
    torch.manual_seed(0)
    model = loop.prepare_model(VAE(VAEConfig()), torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    beta, warmup = 4.0, 2
    h = loop.fit(model, optimizer, train_x, val_x, epochs=3, beta=beta, kl_warmup=warmup,
                 progress=False, log=lambda line: None)  # fmt: skip
    for epoch, weight in enumerate([2.0, 4.0, 4.0]):  # β·min(1, (e + 1)/W)
        expected = h.train_recon[epoch] + weight * h.train_kl[epoch]
        assert math.isclose(h.train_loss[epoch], expected, rel_tol=1e-5), (epoch, h)
        # validation weighs KL by β throughout, so its losses compare across epochs
        assert math.isclose(h.val_loss[epoch], h.val_recon[epoch] + beta * h.val_kl[epoch],
                            rel_tol=1e-5)  # fmt: skip
    out = tmp_path / "warm.pth"
    proc = train_py(*BASE, "--epochs", "1", "--kl-warmup", "5", "--checkpoint-path", str(out),
                    cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert checkpoint.read(out)["meta"]["kl_warmup"] == 5


def test_evaluate_uses_the_posterior_mean(small_set):
    _, val_x = small_set
    torch.manual_seed(0)
    model = VAE(VAEConfig())
    first = loop.evaluate(model, val_x, batch_size=50)
    again = loop.evaluate(model, val_x, batch_size=1000)  # deterministic, batch-independent
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
    with pytest.raises(loop.NonFiniteLoss, match="batch 1"):
        loop.train_epoch(model, optimizer, bad, batch_size=64)
    params = {k: v for k, v in model.state_dict().items() if "running" not in k and "num" not in k}
    assert all(torch.equal(v, before[k]) for k, v in params.items())


def test_history_round_trips_through_meta():
    history = loop.History()
    history.append(loop.Stats(3.0, 2.0, 1.0), loop.Stats(4.0, 2.5, 1.5))
    history.append(loop.Stats(2.0, 1.5, 0.5), None)
    meta = history.to_meta()
    assert meta["train_losses"] == [3.0, 2.0] and meta["val_kl"] == [1.5]
    assert loop.History.from_meta(meta) == history


def test_select_device():
    assert loop.select_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else None
    auto = loop.select_device("auto").type
    assert auto == expected or (expected is None and auto in ("cpu", "mps"))


def test_train_py_takes_every_device_name():
    """--device offers the names compute.device resolves; this machine's are among them, in
    that order ("auto" takes the first accelerator after "cpu")."""
    for name in device.DEVICES:
        assert train.build_parser().parse_args(["--device", name]).device == name
    found = device.available_devices()
    assert found[:2] == ["auto", "cpu"] and found == sorted(found, key=device.DEVICES.index)


def test_a_resumed_run_keeps_its_start_and_adds_its_time(first_run):
    _, path, _ = first_run
    meta = checkpoint.read(path)["meta"]
    run = resume.prepare({}, resume=str(path), init="pytorch")
    assert run.init == "kaiming"  # as the checkpoint says: the weights started long ago
    assert run.settings["dataset"] == "mnist-5k" and run.settings["limit"] == 256
    later = run.meta(run.history, train_size=1, val_size=0, seconds=2.0)
    assert later["train_seconds"] == round(meta["train_seconds"] + 2.0, 1)
    assert later["epochs"] == 1 and later["train_losses"] == meta["train_losses"]


def test_weights_that_are_not_finite_are_not_saved(tmp_path):
    model = VAE(VAEConfig())
    with torch.no_grad():
        next(model.parameters()).fill_(math.nan)
    with pytest.raises(loop.NonFiniteLoss, match="epoch 3: the weights became NaN"):
        resume.save(tmp_path / "x.pth", model, {"epochs": 3}, None)
    assert not (tmp_path / "x.pth").exists()


# -- the original app's defaults -----------------------------------------------------------------


def test_help_shows_the_original_apps_defaults(tmp_path):
    proc = train_py("--help", cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for default in ["default mnist", "default vae_checkpoint.pth", "linear + MSE (the original "
                    "app; default)", "default: on", "size of z (default 12)", "default 128",
                    "(default 1.0)", "(default 0.001)", "(default 0.9)", "kaiming, the original "
                    "app's (default"]:  # fmt: skip
        assert default in text, default


def test_a_new_run_starts_as_the_originals(tmp_path):
    args = train.build_parser().parse_args([])
    run = resume.prepare(vars(args), resume=args.resume, init=args.init)
    s = run.settings
    assert (s["dataset"], s["beta"], s["latent_dim"], s["batch_size"]) == ("mnist", 1.0, 12, 128)
    assert (s["lr"], s["train_split"]) == (1e-3, 0.9)
    assert run.model.config.output == "linear" and args.download
    assert train.checkpoint_path(args) == Path("vae_checkpoint.pth")
    torch.manual_seed(s["seed"])
    expected = VAE(VAEConfig(output="linear")).init_weights().state_dict()
    assert all(torch.equal(expected[k], v) for k, v in run.model.state_dict().items())


@pytest.mark.parametrize("name", zoo.NAMES)
def test_the_zoo_recipe_is_not_changed_by_the_defaults(name):
    """The zoo was trained from PyTorch's default weights with a sigmoid output: its recipe
    says so, whatever train.py's defaults are."""
    recipe = build.RECIPES[name]
    args = train.build_parser().parse_args(recipe.argv(Path("x.pth")))
    run = resume.prepare(vars(args), init=args.init)
    assert (run.settings["dataset"], run.model.config.output) == (recipe.dataset, "sigmoid")
    torch.manual_seed(build.SEED)
    config = VAEConfig(recipe.latent_dim, image_size=recipe.image_size, channels=recipe.channels)
    assert run.model.config == config
    expected = VAE(config).state_dict()
    assert all(torch.equal(expected[k], v) for k, v in run.model.state_dict().items())


def test_offline_default_run_is_one_line(tmp_path):
    """`python train.py` with no network: torchvision's download of MNIST fails (here through a
    proxy that refuses every connection), and one line says what to do instead."""
    env = dict(os.environ, no_proxy="", NO_PROXY="")
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[key] = f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, str(ROOT / "train.py")]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == train.EXIT_ERROR
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: error: mnist is not in data")
    assert "--dataset mnist-5k" in lines[0] and "--data-dir" in lines[0]
    assert not (tmp_path / "vae_checkpoint.pth").exists()


# -- resuming the original app's checkpoints -----------------------------------------------------


class DecoderFirstVAE(torch.nn.Module):
    """The original app's network with its halves registered the other way round, so that its
    parameters (and its Adam state) come in another order than ours."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.decoder = OriginalVAE(latent_dim).decoder
        self.encoder = OriginalVAE(latent_dim).encoder


@pytest.fixture
def original_checkpoint(tmp_path) -> tuple[Path, DecoderFirstVAE, dict]:
    """An original-format checkpoint after two real Adam steps on mnist-5k, and its network."""
    torch.manual_seed(0)
    net = DecoderFirstVAE(12)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = datasets.load("mnist-5k").head(64).as_float()
    for _ in range(2):
        mu, logvar = net.encoder(x)
        loss = (net.decoder(mu) - x).pow(2).sum() / len(x) + 1e-3 * logvar.pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    payload = original_payload(net, optimizer_state_dict=optimizer.state_dict())
    payload["config"] = {**payload["config"], "latent_dim": 12, "beta": 0.1, "seed": 7}
    path = tmp_path / "vae_low_kl.pth"
    torch.save(payload, path)
    return path, net, optimizer.state_dict()


def test_resume_renumbers_the_originals_adam_state(original_checkpoint):
    path, net, saved = original_checkpoint
    loaded = checkpoint.load(path).model
    state = resume.renumbered(saved, checkpoint.read(path), loaded)
    names = [name for name, _ in net.named_parameters()]
    ours = [name for name, _ in loaded.named_parameters()]
    assert names != ours  # the orders differ, so the test means something
    for old, name in enumerate(names):
        moved = state["state"][ours.index(name)]
        assert torch.equal(moved["exp_avg"], saved["state"][old]["exp_avg"]), name
    assert resume.renumbered({"state": {}, "param_groups": []}, {}, loaded) is None


def test_resume_an_original_checkpoint(original_checkpoint, tmp_path, capsys):
    path, _, _ = original_checkpoint
    out = tmp_path / "continued.pth"
    argv = ["--resume", str(path), "--epochs", "1", "--checkpoint-path", str(out), *BASE]
    assert train.main(argv) == 0
    assert "epoch 4/4" in capsys.readouterr().out  # after the original's three
    resumed = checkpoint.read(out)
    meta = resumed["meta"]
    assert resumed["config"]["output"] == "linear"  # the original's network and loss
    assert (meta["beta"], meta["seed"], meta["epochs"]) == (0.1, 7, 4)
    assert meta["train_losses"][:3] == TRAIN_LOSSES and meta["val_losses"][:3] == VAL_LOSSES
    assert len(meta["train_recon"]) == 1  # the original kept no recon/KL lists
    steps = resumed["optimizer_state_dict"]["state"][0]["step"]
    assert int(steps) == 2 + 2  # the original's two Adam steps, then 230 images in batches of 128
