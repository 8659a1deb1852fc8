"""The controls row follows the mode, without a browser: what changes nothing in a mode is
disabled there, and the bar chart is titled by where its z comes from."""

from __future__ import annotations

import panel as pn
import pytest

from explorer import names, plots
from explorer.app.explorer import LatentExplorer
from explorer.latent.space import LatentModel
from explorer.latent.table import MODES

CONTROLS = (names.RESAMPLE, names.RESET, names.RANDOMIZE, names.SEED)
# The controls disabled in each mode (the rest stay enabled): ε is unused when z is set, μ is
# unused in the prior and when z is set.
DISABLED = {
    "sample": set(),
    "prior": {names.RANDOMIZE},
    "deterministic": {names.RESAMPLE, names.RANDOMIZE, names.SEED},
}


def widget(explorer: LatentExplorer, css: str) -> pn.widgets.Widget:
    """The one widget of the page whose CSS classes include ``css``."""
    found = pn.Column(*explorer.main()).select(
        lambda item: isinstance(item, pn.widgets.Widget) and css in (item.css_classes or [])
    )
    assert len(found) == 1, (css, found)
    return found[0]


@pytest.fixture(scope="module")
def explorer(ckpt12) -> LatentExplorer:
    return LatentExplorer(LatentModel(checkpoint=str(ckpt12), rng_seed=1))


@pytest.mark.parametrize("mode", [*MODES, "sample"])  # and back: nothing stays disabled
def test_controls_that_do_nothing_in_a_mode_are_disabled(explorer, mode):
    explorer.model.mode = mode
    disabled = {css for css in CONTROLS if widget(explorer, css).disabled}
    assert disabled == DISABLED[mode]
    assert explorer.bars_plot.figure.title.text == plots.BARS_TITLES[mode]


def test_a_session_opened_in_a_mode_starts_with_its_controls_and_title(ckpt12):
    model = LatentModel(checkpoint=str(ckpt12), mode="deterministic", rng_seed=1)
    explorer = LatentExplorer(model)
    assert widget(explorer, names.RESAMPLE).disabled and widget(explorer, names.SEED).disabled
    assert not widget(explorer, names.RESET).disabled
    assert explorer.bars_plot.figure.title.text == plots.BARS_TITLES["deterministic"]


def test_resample_disabled_in_set_z_is_the_one_that_draws_when_enabled(explorer):
    explorer.model.mode = "sample"
    resample = widget(explorer, names.RESAMPLE)
    seed = explorer.model.seed
    resample.param.trigger("value")  # what a browser click does (Button._process_event)
    assert explorer.model.seed != seed
