"""The model's facts as the sidebar and the pages say them: in words, not the checkpoint's keys."""

from __future__ import annotations

import torch

from explorer.latent.space import LatentModel
from explorer.model import OUTPUTS, VAE, VAEConfig
from explorer.pages import fragments
from tests.conftest import make_checkpoint


def test_every_output_has_words():
    assert set(fragments.OUTPUT_WORDS) == set(OUTPUTS)


def test_our_checkpoint_is_said_in_words(tmp_path):
    model = LatentModel(checkpoint=str(make_checkpoint(tmp_path / "a.pth")))
    facts = fragments.model_facts(model)
    assert facts["pixels"] == "0–1 through a sigmoid"
    assert facts["saved by"] == "this project's train.py"
    assert "output" not in facts and "format" not in facts
    assert "saved by" in fragments.info_html(model)  # the pages' table says the same


def test_a_bare_state_dict_is_said_in_words(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(VAE(VAEConfig(latent_dim=4, output="linear")).state_dict(), path)
    model = LatentModel(checkpoint=str(path))
    assert model.message == ""
    facts = fragments.model_facts(model)
    assert facts["saved by"] == "a bare state dict (no metadata)"
    assert facts["pixels"] == "as decoded, clipped to 0–1"
