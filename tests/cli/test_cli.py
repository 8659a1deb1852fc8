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
from explorer import access, checkpoint
from explorer.app import options
from explorer.cli import common, decode, figure, info
from explorer.cli.main import main
from explorer.compute import divergence
from explorer.figures import png
from explorer.latent import state
from explorer.latent.space import LatentModel
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
    # --out that cannot be written: refused before any work
    "out a folder": (
        ["decode", "{ckpt}", "--z", "0,0,0", "--out", "{tmp}/folder.png"],
        1,
        "cannot write",
    ),
    "export out, no folder": (
        ["export", "{ckpt}", "--out", "{tmp}/no/such/a.html"],
        1,
        "no folder",
    ),
    "figure out a folder": (
        ["figure", "samples", "{ckpt}", "--out", "{tmp}/folder.png"],
        1,
        "it is a folder",
    ),
    "figure out, no folder": (
        ["figure", "traversal", "{ckpt}", "--out", "{tmp}/no/t.gif"],
        1,
        "no folder",
    ),
}
# Checked once the checkpoint has loaded (each run imports torch: a fixture of their own, so
# that each set of runs stays well within the test timeout on a busy machine).
HOSTILE = {
    # every vector option is range-checked as the app's sliders are (1e39 overflows float32)
    "z overflows float32": (
        ["decode", "{ckpt}", "--z", "1e39,0,0", "--out", "{tmp}/a.png"],
        2,
        "--z: value 1 (1e+39) is outside [-4, 4]",
    ),
    "z beyond its sliders": (
        ["decode", "{ckpt}", "--z", "0,4.5,0", "--out", "{tmp}/a.npy"],
        2,
        "--z: value 2 (4.5) is outside [-4, 4]",
    ),
    "export z": (
        ["export", "{ckpt}", "--z", "0,0,-1e39", "--out", "{tmp}/a.html"],
        2,
        "--z: value 3 (-1e+39) is outside [-4, 4]",
    ),
    "export mu": (
        ["export", "{ckpt}", "--mu", "0,3.5,0", "--out", "{tmp}/a.html"],
        2,
        "--mu: value 2 (3.5) is outside [-3, 3]",
    ),
    "export sigma": (
        ["export", "{ckpt}", "--sigma", "-0.5,1,1", "--out", "{tmp}/a.html"],
        2,
        "--sigma: value 1 (-0.5) is outside [0, 2]",
    ),
    "export seed": (
        ["export", "{ckpt}", "--seed", "2147483648", "--out", "{tmp}/a.html"],
        2,
        "--seed must be in [0, 2147483647]",
    ),
    "figure z": (
        ["figure", "traversal", "{ckpt}", "--z", "1e39,0,0", "--out", "{tmp}/a.png"],
        2,
        "--z: value 1 (1e+39) is outside [-4, 4]",
    ),
    "figure mu": (
        ["figure", "samples", "{ckpt}", "--mu", "0,0,9", "--out", "{tmp}/a.png"],
        2,
        "--mu: value 3 (9) is outside [-3, 3]",
    ),
    "figure sigma": (
        ["figure", "samples", "{ckpt}", "--sigma", "1,1,2.5", "--out", "{tmp}/a.png"],
        2,
        "--sigma: value 3 (2.5) is outside [0, 2]",
    ),
    "figure a": (
        ["figure", "interpolation", "{ckpt}", "--out", "{tmp}/a.png", "--a", "1e39,0,0"],
        2,
        "--a: value 1 (1e+39) is outside [-4, 4]",
    ),
    "figure b": (
        ["figure", "interpolation", "{ckpt}", "--out", "{tmp}/a.gif", "--b", "0,-5,0"],
        2,
        "--b: value 2 (-5) is outside [-4, 4]",
    ),
    "figure seed": (
        ["figure", "samples", "{ckpt}", "--seed", "-1", "--out", "{tmp}/a.png"],
        2,
        "--seed must be in [0, 2147483647]",
    ),
    # hostile state files: each is one line, never a traceback
    "state 5000-digit integer": (
        ["decode", "--from-json", "{tmp}/huge-int.json", "--out", "{tmp}/a.npy"],
        2,
        "huge-int.json: not usable json (exceeds the limit",
    ),
    "state 400-digit integer": (
        ["decode", "--from-json", "{tmp}/long-int.json", "--out", "{tmp}/a.npy"],
        2,
        "z_set[0] = an integer of 401 digits is outside [-4, 4]",
    ),
    "state nested 100k deep": (
        ["decode", "--from-json", "{tmp}/deep.json", "--out", "{tmp}/a.npy"],
        2,
        "deep.json: not usable json (nested too deeply)",
    ),
    "state nested, export": (
        ["export", "--from-json", "{tmp}/deep.json", "--out", "{tmp}/a.html"],
        2,
        "deep.json: not usable json (nested too deeply)",
    ),
    "state too large": (
        ["decode", "--from-json", "{tmp}/large.json", "--out", "{tmp}/a.npy"],
        2,
        "large.json: larger than 1,048,576 bytes",
    ),
    "state a fifo": (
        ["decode", "--from-json", "{tmp}/fifo.json", "--out", "{tmp}/a.npy"],
        2,
        "fifo.json: not a regular file",
    ),
    "state a folder": (
        ["export", "--from-json", "{tmp}/folder.png", "--out", "{tmp}/a.html"],
        2,
        "folder.png: cannot read it (is a directory)",
    ),
    # hostile checkpoint files (checkpoint.load has its own tests): one line from the command
    "info empty file": (["info", "{tmp}/empty.pth"], 1, "empty.pth"),
    "info a folder": (["info", "{tmp}/models.pth"], 1, "models.pth"),
    "info a fifo": (["info", "{tmp}/fifo.json"], 1, "fifo.json"),
    # figures whose size depends on the model: refused before they are drawn
    "figure too wide": (
        ["figure", "traversal", "{ckpt}", "--scale", "16", "--steps", "41", "--out", "{tmp}/a.png"],
        2,
        "the figure would be",
    ),
    "animation too large": (
        ["figure", "traversal", "{ckpt}", "--scale", "16", "--steps", "41", "--out", "{tmp}/a.gif"],
        2,
        "the animation would be 80 frames",
    ),
}
# Caps that argparse enforces: the checkpoint does not exist, so the message shows that the
# command refused before it loaded (let alone decoded or drew) anything.
CAPS = {
    "manifold steps": (
        ["figure", "manifold", "{tmp}/nope.pth", "--steps", "300", "--out", "{tmp}/m.png"],
        "--steps: must be at most 41, got 300",
    ),
    "samples count": (
        ["figure", "samples", "{tmp}/nope.pth", "--count", "1000000", "--out", "{tmp}/s.png"],
        "--count: must be at most 256, got 1000000",
    ),
    "gif steps": (
        ["figure", "traversal", "{tmp}/nope.pth", "--steps", "2000", "--out", "{tmp}/t.gif"],
        "--steps: must be at most 41, got 2000",
    ),
    "steps of 5000 digits": (
        ["figure", "traversal", "{tmp}/nope.pth", "--steps", "9" * 5000, "--out", "{tmp}/t.png"],
        "--steps: invalid int value",
    ),
    "dims repeated 3000 times": (
        [
            "figure",
            "traversal",
            "{tmp}/nope.pth",
            "--out",
            "{tmp}/t.png",
            "--dims",
            "0," * 2999 + "0",
        ],
        "--dims: at most 32 dimensions, got 3000",
    ),
    "dims twice": (
        ["figure", "traversal", "{tmp}/nope.pth", "--dims", "1,0,1", "--out", "{tmp}/t.png"],
        "--dims: dimension 1 is given twice",
    ),
    "dims negative": (
        ["figure", "manifold", "{tmp}/nope.pth", "--dims", "-1,0", "--out", "{tmp}/t.png"],
        "--dims: dimensions start at 0",
    ),
    "figure scale": (
        ["figure", "samples", "{tmp}/nope.pth", "--scale", "17", "--out", "{tmp}/s.png"],
        "--scale: must be at most 16, got 17",
    ),
    "frame-ms": (
        ["figure", "traversal", "{tmp}/nope.pth", "--frame-ms", "100000", "--out", "{tmp}/t.gif"],
        "--frame-ms: must be at most 60000",
    ),
    "models": (
        [
            "figure",
            "compare",
            "{tmp}/nope.pth",
            "--out",
            "{tmp}/c.png",
            "--models",
            "a,b,c,d,e,f,g,h,i",
        ],
        "--models: at most 8 models, got 9",
    ),
    "decode scale": (
        ["decode", "{tmp}/nope.pth", "--z", "0,0,0", "--scale", "1000", "--out", "{tmp}/a.png"],
        "--scale: must be at most 64, got 1000",
    ),
    "serve port": (["serve", "{tmp}/nope.pth", "--port", "70000"], "--port: must be at most 65535"),
    "serve processes": (
        ["serve", "{tmp}/nope.pth", "--num-procs", "1000"],
        "--num-procs: must be at most 64",
    ),
    "serve session lifetime": (
        ["serve", "{tmp}/nope.pth", "--unused-session-lifetime", "9" * 20],
        "--unused-session-lifetime: must be at most 86400000",
    ),
    "serve upload size": (
        ["serve", "{tmp}/nope.pth", "--max-upload-mb", "nan"],
        "--max-upload-mb must be more than 0",
    ),
}
BAD.update({name: (args, 2, words) for name, (args, words) in CAPS.items()})


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
    (tmp / "huge-int.json").write_text('{"seed": ' + "9" * 5000 + "}")  # int() refuses 4300+
    (tmp / "long-int.json").write_text('{"z_set": [' + "9" * 401 + ", 0, 0]}")  # float() overflows
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # json.loads: RecursionError
    (tmp / "large.json").write_text(" " * 2**20 + "{}")
    (tmp / "empty.pth").write_bytes(b"")
    os.mkfifo(tmp / "fifo.json")  # reading it would wait for a writer for ever
    (tmp / "folder.png").mkdir()
    (tmp / "models.pth").mkdir()
    return {"ckpt": str(ckpt), "tmp": str(tmp)}


def explorer_model(ckpt: str) -> LatentModel:
    """The explorer's model for SAMPLE's settings: what a browser session shows."""
    model = LatentModel(checkpoint=ckpt, device="cpu")
    model.param.update(**SAMPLE)
    return model


def run(args: list[str], files: dict) -> subprocess.CompletedProcess:
    argv = [str(SCRIPT), *(arg.format(**files) for arg in args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=files["tmp"])


def run_all(runs: dict[str, list[str]], files: dict) -> dict[str, subprocess.CompletedProcess]:
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: install the package (pip install -e .)"
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = {name: pool.submit(run, args, files) for name, args in runs.items()}
        return {name: future.result() for name, future in done.items()}


@pytest.fixture(scope="module")
def results(files):
    runs = {name: args for name, args in GOOD.items()}
    runs.update({name: args for name, (args, _, _) in BAD.items()})
    return run_all(runs, files)


@pytest.fixture(scope="module")
def hostile_results(files):
    return run_all({name: args for name, (args, _, _) in HOSTILE.items()}, files)


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
    assert_one_line(results[case], *BAD[case][1:], files)


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_input_fails_with_one_line(hostile_results, files, case):
    assert_one_line(hostile_results[case], *HOSTILE[case][1:], files)


def assert_one_line(result: subprocess.CompletedProcess, status: int, word: str, files: dict):
    """Exit ``status``, one line on stderr that holds ``word``, no traceback, nothing written."""
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vae-explorer")
    assert word in lines[0].lower()
    assert result.stdout == ""
    written = ["junk.pth", "model.pth", "other.pth", "plain.pkl", "z.npy", "z.png", "z8.PNG"]
    written += ["bad-state.json", "notes.json", "state.json", "state.npy", "state.png"]
    written += ["huge-int.json", "long-int.json", "deep.json", "large.json", "empty.pth"]
    written += ["fifo.json", "folder.png", "models.pth"]
    assert set(os.listdir(files["tmp"])) <= set(written)  # nothing written by a failure


# A command line run in a fresh interpreter that then says whether torch was ever imported.
FAST = """import sys
from explorer.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(status, "torch" in sys.modules)
"""


@pytest.mark.parametrize("case", CAPS)
def test_caps_refuse_before_any_work(files, case):
    """Each cap refuses its value at once: without importing torch, so nothing was loaded,
    decoded or drawn (the issue's cases made a 25,256-pixel PNG, tried 6.3 GB, a 53 MB GIF)."""
    args, words = CAPS[case]
    argv = [sys.executable, "-c", FAST, *(arg.format(**files) for arg in args)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=files["tmp"])
    assert result.stdout.split() == ["2", "False"], result.stderr
    assert words in result.stderr


def test_help_gives_every_cap(files):
    text = run(["figure", "--help"], files).stdout
    for words in ["2 to 41", "at most 256", "at most 32", "at most 8", "at most 16", "20 to 60000"]:
        assert words in " ".join(text.split())
    assert "at most 64" in run(["decode", "--help"], files).stdout
    assert "at most 64" in " ".join(run(["serve", "--help"], files).stdout.split())


def test_an_unforeseen_error_is_one_line(monkeypatch, capsys):
    """The last resort in main(): whatever a command raises, the user reads one line."""

    def broken(args):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(info, "run", broken)
    assert main(["info", "mnist-beta1"]) == 1
    err = capsys.readouterr().err
    assert err == "vae-explorer: internal error: RuntimeError: a bug\\nover two lines\n"


def test_one_line_escapes_and_shortens():
    assert common.one_line("a\nb\tc\x1b[31m") == "a\\nb\\tc\\x1b[31m"
    long = common.one_line("x" * 5000 + " the end")
    assert len(long) <= common.MESSAGE_CHARS and long.endswith(" the end")


def test_the_cli_copies_agree_with_the_modules_that_enforce_them():
    """The command line copies these so that it parses without importing torch."""
    assert decode.MAX_SCALE == png.MAX_SCALE
    assert options.UPLOAD_MB == access.MAX_UPLOAD_MB
    assert figure.TRAVERSAL_ROWS == divergence.PAGE_SIZE


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
