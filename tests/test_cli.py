"""The installed ``vae-explorer`` console script, run as a user runs it: in a subprocess.

Each run that loads a checkpoint imports torch (about 2 s), so the module's command lines run
once, side by side (one per CPU), and each test checks its own run.
"""

import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import checkpoint, state
from explorer.latent import LatentModel
from explorer.model import VAE, VAEConfig

SCRIPT = Path(sys.executable).with_name("vae-explorer")
Z = [-1.5, 0.0, 0.75]
SAMPLE = {"mode": "sample", "mu": [0.5, -1.0, 2.0], "sigma": [0.2, 1.5, 0.0], "seed": 321}

# name → arguments; {ckpt} is a checkpoint with latent size 3, {tmp} a scratch folder.
GOOD = {
    "info": ["info", "{ckpt}"],
    "png": ["decode", "{ckpt}", "--z", "-1.5,0,0.75", "--out", "{tmp}/z.png"],
    "png-scaled": [
        "decode",
        "{ckpt}",
        "--z=-1.5, 0, 0.75",
        "--out",
        "{tmp}/z8.PNG",
        "--scale",
        "8",
    ],
    "npy": ["decode", "{ckpt}", "--out", "{tmp}/z.npy", "--z", "-1.5,0,0.75"],
    # A state saved by the explorer's JSON download (SAMPLE's settings), with its own model or CKPT.
    "from-json": ["decode", "--from-json", "{tmp}/state.json", "--out", "{tmp}/state.npy"],
    "from-json-ckpt": [
        "decode",
        "{ckpt}",
        "--from-json",
        "{tmp}/state.json",
        "--out",
        "{tmp}/state.png",
    ],
}
# name → (arguments, exit status, a word the one-line message must contain)
BAD = {
    "wrong count": (
        ["decode", "{ckpt}", "--z", "1,2,3,4", "--out", "{tmp}/a.png"],
        2,
        "expected 3",
    ),
    "not a number": (["decode", "{ckpt}", "--z", "1,abc,3", "--out", "{tmp}/a.png"], 2, "abc"),
    "nan": (["decode", "{ckpt}", "--z", "1,nan,3", "--out", "{tmp}/a.png"], 2, "finite"),
    "inf": (["decode", "{ckpt}", "--z", "-inf,0,0", "--out", "{tmp}/a.npy"], 2, "finite"),
    "unknown extension": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/a.jpg"],
        2,
        ".png or .npy",
    ),
    "scale zero": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/a.png", "--scale", "0"],
        2,
        "--scale: must be at least 1",
    ),
    "scale too large": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/a.png", "--scale", "65"],
        2,
        "at most 64",
    ),
    "scale for npy": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/a.npy", "--scale", "2"],
        2,
        "--scale",
    ),
    "scale not an int": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/a.png", "--scale", "x"],
        2,
        "invalid int",
    ),
    "no --z": (["decode", "{ckpt}", "--out", "{tmp}/a.png"], 2, "--z"),
    "--z without CKPT": (["decode", "--z", "1,2,3", "--out", "{tmp}/a.png"], 2, "ckpt is required"),
    "--z and --from-json": (
        ["decode", "--from-json", "{tmp}/state.json", "--z", "1,2,3", "--out", "{tmp}/a.png"],
        2,
        "not allowed with",
    ),
    "bad state": (
        ["decode", "--from-json", "{tmp}/bad-state.json", "--out", "{tmp}/a.npy"],
        2,
        "warp",
    ),
    "state not JSON": (
        ["decode", "--from-json", "{tmp}/notes.json", "--out", "{tmp}/a.npy"],
        2,
        "notes.json: not json (expecting value at line 1)",
    ),
    "state too long": (
        ["decode", "{tmp}/other.pth", "--from-json", "{tmp}/state.json", "--out", "{tmp}/a.npy"],
        2,
        "the model has 2 latent dimensions",
    ),
    "no command": ([], 2, "command"),
    "unknown command": (["frobnicate"], 2, "invalid choice"),
    "missing checkpoint": (
        ["decode", "{tmp}/nope.pth", "--z", "1,2,3", "--out", "{tmp}/a.png"],
        1,
        "not found",
    ),
    "corrupt checkpoint": (["info", "{tmp}/junk.pth"], 1, "not a pytorch checkpoint"),
    "plain pickle": (["info", "{tmp}/plain.pkl"], 1, "refused"),
    "unwritable output": (
        ["decode", "{ckpt}", "--z", "1,2,3", "--out", "{tmp}/no/such/dir/a.png"],
        1,
        "cannot write",
    ),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=len(Z))).eval()
    meta = {"beta": 2.0, "epochs": 2, "dataset": "mnist", "val_losses": [5.0, 4.5]}
    ckpt = checkpoint.save(tmp / "model.pth", model, meta)
    (tmp / "junk.pth").write_bytes(np.random.default_rng(0).bytes(2048))
    (tmp / "plain.pkl").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    checkpoint.save(tmp / "other.pth", VAE(VAEConfig(latent_dim=2)).eval(), meta)
    (tmp / "state.json").write_text(state.dumps(explorer_model(str(ckpt))))
    (tmp / "bad-state.json").write_text('{"mode": "warp"}')
    (tmp / "notes.json").write_text("mu = [1, 2]")
    return {"ckpt": str(ckpt), "tmp": str(tmp)}


def explorer_model(ckpt: str) -> LatentModel:
    """The explorer's model for SAMPLE's settings: what a browser session shows."""
    model = LatentModel(checkpoint=ckpt, device="cpu")
    model.param.update(**SAMPLE)
    return model


def run(args: list[str], files: dict) -> subprocess.CompletedProcess:
    argv = [str(SCRIPT), *(arg.format(**files) for arg in args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=files["tmp"])


@pytest.fixture(scope="module")
def results(files):
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: install the package (pip install -e .)"
    runs = {name: args for name, args in GOOD.items()}
    runs.update({name: args for name, (args, _, _) in BAD.items()})
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = {name: pool.submit(run, args, files) for name, args in runs.items()}
        return {name: future.result() for name, future in done.items()}


def assert_ok(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_info_prints_the_model_info_as_json(results, files):
    result = results["info"]
    assert_ok(result)
    data = json.loads(result.stdout)
    expected = checkpoint.load(files["ckpt"]).info.to_dict()
    assert data == json.loads(json.dumps(expected))
    assert (data["format"], data["latent_dim"], data["beta"]) == ("vae-explorer", 3, 2.0)
    assert data["final_val_loss"] == 4.5


def decoded(files) -> np.ndarray:
    model = checkpoint.load(files["ckpt"]).model
    with torch.no_grad():
        return model.decode(torch.tensor([Z]))[0, 0].numpy()


@pytest.mark.parametrize(
    ("name", "filename", "scale"), [("png", "z.png", 1), ("png-scaled", "z8.PNG", 8)]
)
def test_decode_writes_a_png(results, files, name, filename, scale):
    assert_ok(results[name])
    assert results[name].stdout.startswith("wrote ")
    with Image.open(Path(files["tmp"]) / filename) as image:
        assert image.format == "PNG"
        assert image.mode == "L"
        assert image.size == (28 * scale, 28 * scale)
        pixels = np.asarray(image)
    expected = np.rint(decoded(files) * 255).astype(np.uint8)
    blocks = pixels.reshape(28, scale, 28, scale)
    assert (blocks == expected[:, None, :, None]).all()  # nearest neighbour: constant blocks
    assert pixels.std() > 0


def test_decode_writes_the_image_as_npy(results, files):
    assert_ok(results["npy"])
    image = np.load(Path(files["tmp"]) / "z.npy")
    assert image.dtype == np.float32
    assert image.shape == (28, 28)
    assert image.min() >= 0 and image.max() <= 1
    np.testing.assert_allclose(image, decoded(files), rtol=0, atol=1e-6)


def test_decode_from_json_gives_the_explorers_image(results, files):
    assert_ok(results["from-json"])
    image = np.load(Path(files["tmp"]) / "state.npy")
    expected = explorer_model(files["ckpt"]).image
    assert image.dtype == np.float32
    np.testing.assert_allclose(image, expected, rtol=0, atol=1e-6)
    assert_ok(results["from-json-ckpt"])  # CKPT given: the same model here, so the same image
    with Image.open(Path(files["tmp"]) / "state.png") as png:
        assert (np.asarray(png) == np.rint(expected * 255)).all()


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_fail_with_one_line(results, files, case):
    result = results[case]
    _, status, word = BAD[case]
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vae-explorer")
    assert word in lines[0].lower()
    assert result.stdout == ""
    written = ["junk.pth", "model.pth", "other.pth", "plain.pkl", "z.npy", "z.png", "z8.PNG"]
    written += ["bad-state.json", "notes.json", "state.json", "state.npy", "state.png"]
    assert sorted(os.listdir(files["tmp"])) == sorted(written)  # nothing written by a failure


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ([], ["info", "decode"]),
        (["info"], ["CKPT", "JSON"]),
        (["decode"], ["--z", "--scale", "--from-json"]),
    ],
)
def test_help(files, command, words):
    result = run([*command, "--help"], files)
    assert_ok(result)
    assert result.stdout.startswith(" ".join(["usage: vae-explorer", *command]))
    for word in words:
        assert word in result.stdout


def test_module_entry_point(files):
    """python -m explorer.cli works too (no console script needed)."""
    result = subprocess.run(
        [sys.executable, "-m", "explorer.cli", "--version"], capture_output=True, text=True
    )
    assert_ok(result)
    assert result.stdout.strip() == f"vae-explorer {explorer.__version__}"
