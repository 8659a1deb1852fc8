"""The Panel and Bokeh internals the app uses (explorer/app/internals.py): each test fails if the
library changes the shape the app relies on (pyproject pins the releases they were checked on)."""

from __future__ import annotations

import html
import logging

import panel as pn
import pytest
from bokeh.document import Document
from panel.models import HTML

from explorer.app import internals
from explorer.latent.space import LatentModel

NAN = float("nan")


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "explorer"]


@pytest.mark.parametrize("value", [NAN, 1e308, 2.5, None, -1, 2**31])
def test_seed_input_refuses_and_shows_its_value(caplog, value):
    """Panel hands a client's change to ``_process_property_change`` before param sees it."""
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=3)
    seed = internals.BoundedIntInput.from_param(model.param.seed)
    before = model.seed
    with caplog.at_level(logging.WARNING, "explorer"):
        seed._process_events({"value": value})  # what Panel does with a client's change
    assert seed.value == before and model.seed == before and len(lines(caplog)) == 1
    seed._process_events({"value": 7.0})
    assert seed.value == 7 and model.seed == 7


def test_text_model_is_the_model_of_panels_html_pane_and_takes_its_escaped_text():
    """Panel's HTML pane sends its HTML escaped once more to this model, which shows it as
    markup: write_text does the same."""
    markup = "<b>z1&nbsp;+0.5</b> <img src=x onerror=alert(1)>"
    pane_model = pn.pane.HTML(markup).get_root()
    model = internals.text_model(height=70)
    internals.write_text(model, markup)
    assert type(pane_model) is HTML and isinstance(model, HTML)
    assert model.text == pane_model.text == html.escape(markup)
    assert (model.run_scripts, model.disable_math, model.height) == (False, True, 70)


def test_mended_patch_curdoc_restores_curdoc_after_an_error():
    import bokeh.io.doc as bokeh_doc
    from bokeh.document.callbacks import invoke_with_curdoc

    assert isinstance(bokeh_doc._PATCHED_CURDOCS, list)  # the stack the mend pops
    internals.mend_patch_curdoc()
    internals.mend_patch_curdoc()  # twice: still one layer
    assert bokeh_doc.patch_curdoc.mended
    depth = len(bokeh_doc._PATCHED_CURDOCS)

    def bad_patch():
        raise ValueError("a string where a slider's value goes")

    doc = Document()
    with pytest.raises(ValueError):
        invoke_with_curdoc(doc, bad_patch)  # as Bokeh applies a browser's patch
    # Bokeh looked patch_curdoc up where the mend put it: the stack is as it was
    assert len(bokeh_doc._PATCHED_CURDOCS) == depth
    assert bokeh_doc.curdoc() is not doc
