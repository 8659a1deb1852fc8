"""What a page open builds (issue #19): the parts most visitors never use are made on first use,
and then work as before. Server-side, no browser; the cost itself is benchmarks/page_open.py's."""

from __future__ import annotations

import gc

import panel as pn
import pytest
from bokeh.core.validation.check import check_integrity
from bokeh.document import Document
from bokeh.settings import settings

from explorer import names
from explorer.app.options import parse_args
from explorer.app.server import create_app
from explorer.app.sliders import DimensionSliders
from explorer.app.views.tabs import VIEWS, ExplorationViews


def slider_classes(sliders: DimensionSliders, visible_only: bool = False) -> set[str]:
    """The css classes of the sliders laid out (in the visible grids only, if asked)."""
    found = set()
    for grid in sliders.__panel__().select(pn.GridBox):
        if visible_only and not grid.visible:
            continue
        for pane in grid.objects:
            found.update(pane.object.css_classes)
    return found


def test_a_view_is_made_when_its_tab_is_first_opened(model):
    views = ExplorationViews(model)
    tabs = views.tabs(pn.Column())
    boxes = [tabs[k] for k in range(1, len(VIEWS) + 1)]
    assert [len(box) for box in boxes] == [0] * len(VIEWS)  # no view made at the open

    tabs.active = 2  # the second view's tab
    assert [len(box) for box in boxes] == [0, 1] + [0] * (len(VIEWS) - 2)
    view = views.view(1)
    assert boxes[1][0] is view.__panel__()  # the tab holds that view, now shown
    assert view.shown and view.css == VIEWS[1].css
    model.mu = [1.0, *model.mu[1:]]  # a made view follows the model
    assert not view.stale or view.drawing

    tabs.active = 0
    assert not view.shown and len(boxes[1]) == 1  # kept once made


def test_the_z_sliders_are_made_when_their_mode_is_first_shown(model):
    sliders = DimensionSliders(model)
    mu, z = names.mu_slider(0), names.z_slider(0)
    assert mu in slider_classes(sliders) and z not in slider_classes(sliders)

    model.mode = "deterministic"
    assert slider_classes(sliders, visible_only=True) >= {z}
    assert mu not in slider_classes(sliders, visible_only=True)
    sliders.shown("z_set")[0].value = 1.5  # as the page moves it
    assert model.z_set[0] == 1.5

    model.mode = "sample"  # back: the μ/σ sliders are the same ones
    assert mu in slider_classes(sliders, visible_only=True)
    assert z not in slider_classes(sliders, visible_only=True)


@pytest.fixture
def process_settings():
    """create_app sets the collector's threshold and Bokeh's validation for the process: put them
    back for the tests that follow."""
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    settings.perform_document_validation.unset_value()


def test_the_served_page_passes_bokehs_integrity_checks(process_settings):
    """Serving skips Bokeh's per-session document validation (server.skip_document_validation):
    the checks it would run at every open run here, on the page as served, and find nothing."""
    doc = Document()
    create_app(parse_args(["--checkpoint", "mnist-beta1"])).server_doc(doc)
    models = [m for root in doc.roots for m in root.references()]
    assert len(models) > 100
    issues = check_integrity(models)
    assert (issues.error, issues.warning) == ([], [])
    assert not settings.perform_document_validation()  # and the served process skips them
