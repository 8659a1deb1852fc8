"""`vae-explorer metrics` as a user runs it: a zoo model scored against its sample's labels, and a
model trained on the generated shapes (train.py --dataset shapes) against their factors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from explorer.data import shapes
from tests.formats.factories import export_colour_onnx

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("vae-explorer")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*map(str, args)], capture_output=True, text=True, timeout=300)


def test_a_zoo_model_is_scored_against_its_labels():
    result = run(SCRIPT, "metrics", "mnist-beta10")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["factors"] == ["label"] and len(scores["mutual_information"]) == 12
    assert 0 <= scores["mig"] <= 1 and scores["best_dimension"]["label"].startswith("z")


def test_the_zoo_shapes_model_has_a_dimension_for_x_and_one_for_y():
    result = run(SCRIPT, "metrics", "shapes-beta16")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["factors"] == list(shapes.FACTORS) and len(scores["mutual_information"]) == 10
    best, gaps = scores["best_dimension"], scores["gap_per_factor"]
    assert best["x"] != best["y"] and min(gaps["x"], gaps["y"]) > 0.1, scores
    assert scores["mig"] > 0.03


def test_a_model_trained_on_the_shapes_is_scored_against_their_factors(tmp_path):
    out = tmp_path / "shapes.pth"
    trained = run(
        sys.executable, ROOT / "train.py", "--dataset", "shapes", "--limit", "400",
        "--image-size", "32", "--latent-dim", "4", "--epochs", "1", "--num-threads", "1",
        "--checkpoint-path", out,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    info = json.loads(run(SCRIPT, "info", out).stdout)
    assert (info["dataset"], info["image_shape"]) == ("shapes", [3, 32, 32])
    result = run(SCRIPT, "metrics", out, "--images", "300", "--seed", "2")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["factors"] == list(shapes.FACTORS)
    assert len(scores["mutual_information"]) == 4
    assert all(len(row) == len(shapes.FACTORS) for row in scores["mutual_information"])
    assert set(scores["best_dimension"]) == set(shapes.FACTORS)
    assert 0 <= scores["mig"] <= 1
    assert scores["against"] == "300 shapes drawn from seed 2"


def test_a_count_out_of_range_and_a_decoder_alone_get_one_line(tmp_path):
    result = run(SCRIPT, "metrics", "mnist-beta1", "--images", "5")
    assert result.returncode == 2 and "--images" in result.stderr
    decoder = export_colour_onnx(tmp_path, 32, encoder=False)
    result = run(SCRIPT, "metrics", decoder)
    assert result.returncode == 1 and "has no encoder" in result.stderr
    assert result.stderr.strip().count("\n") == 0
