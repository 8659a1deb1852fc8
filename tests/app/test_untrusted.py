"""Hostile values where the app receives them, without a server: real LatentModel, real Bokeh
models and their callbacks (tests/app/test_hostile_protocol.py sends the same over the websocket).

Each refused value gives one log line (logger "explorer"), and the widget shows a valid value.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.io.doc import patch_curdoc
from bokeh.models import Slider, Title
from viewtools import shown

from explorer.app import untrusted
from explorer.app.sliders import DimensionSliders
from explorer.compute import drawing, grids
from explorer.latent.vector import Bounds, finite
from explorer.plots import bars_element, image_element, render

NAN = float("nan")


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "explorer"]


def test_guarded_callback_logs_one_line_and_raises_nothing(caplog):
    slider = Slider(start=0, end=1, value=0.5)

    def broken(_attr, _old, new):
        raise ValueError(f"bad\nvalue {new}")

    untrusted.on_change(slider, "value", "test slider", broken)
    with caplog.at_level(logging.WARNING, "explorer"):
        slider.value = 0.7  # Bokeh calls the callback: nothing escapes
    assert lines(caplog) == ["test slider failed: ValueError: bad value 0.7"]


def test_what_a_page_sends_as_a_number():
    """The page's values go through vector.finite and Bounds.clamp: a string is no number."""
    assert finite(2) == 2.0 and finite(np.float32(0.5)) == 0.5
    for junk in (NAN, float("inf"), None, "1", True, 10**400, [1.0]):
        assert finite(junk) is None
    assert Bounds(-3.0, 3.0).clamp(1e308) == 3.0 and Bounds(0.0, 2.0).clamp(-5) == 0.0
    assert Bounds(0.0, 1.0).clamp(NAN) is None


def test_clamped_logs_what_it_changes_or_refuses(caplog):
    """The one wording of the sliders' and t's refusals (app/sliders.py, views/interpolation)."""
    bounds = Bounds(0.0, 1.0)
    with caplog.at_level(logging.WARNING, "explorer"):
        assert untrusted.clamped("test t", 0.25, bounds) == 0.25  # in bounds: no line
        assert untrusted.clamped("test t", 1, bounds) == 1.0  # an integer is a number
        assert lines(caplog) == []
        assert untrusted.clamped("test t", 7.5, bounds) == 1.0
        assert untrusted.clamped("test t", NAN, bounds) is None
        assert untrusted.clamped("test t", "0.5", bounds) is None
    assert lines(caplog) == [
        "test t refused 7.5: clamped to 1",
        "test t refused nan: not a number",
        "test t refused '0.5': not a number",
    ]


def test_refused_logs_a_short_line_for_a_huge_value(caplog):
    with caplog.at_level(logging.WARNING, "explorer"):
        untrusted.refused("drawing", [[0.5] * 50] * 6000, "too many")
    (line,) = lines(caplog)
    assert len(line) < 200 and "\n" not in line


@pytest.mark.parametrize(
    ("name", "css", "value", "expected"),
    [
        ("mu", "latent-mu", NAN, 0.0),
        ("mu", "latent-mu", 1e308, 3.0),
        ("sigma", "latent-sigma", -5.0, 0.0),
        ("z_set", "latent-z", float("-inf"), 0.0),
    ],
)
def test_a_slider_refuses_or_clamps_and_shows_the_model(model, caplog, name, css, value, expected):
    sliders = DimensionSliders(model)
    slider = sliders.shown(name)[0]
    before = list(getattr(model, name))
    with caplog.at_level(logging.WARNING, "explorer"):
        slider.value = value  # what Bokeh does with a client's patch
    assert slider.value == expected and getattr(model, name)[0] == expected
    assert getattr(model, name)[1:] == before[1:]
    assert len(lines(caplog)) == 1 and f"{css}-0" in lines(caplog)[0]
    slider.value = 0.25  # and it still works
    assert getattr(model, name)[0] == 0.25


@pytest.mark.parametrize(("value", "expected"), [(NAN, 0.5), (1e308, 1.0), (-1.0, 0.0)])
def test_interpolation_t_is_clamped_or_set_back(views, caplog, value, expected):
    interp = shown(views, "latent-interp")
    strip = interp.at_t.source.data["image"][0].copy()
    with caplog.at_level(logging.WARNING, "explorer"):
        interp.t_slider.value = value  # what Bokeh does with a client's patch
    assert interp.t_slider.value == interp.t == expected and len(lines(caplog)) == 1
    assert f"t = {expected:.2f}" in interp.note
    if value != value:  # refused: nothing repainted
        np.testing.assert_array_equal(interp.at_t.source.data["image"][0], strip)


@pytest.mark.parametrize("point", [(NAN, 1.0), (1.0, float("inf")), (None, None), ("1", "2")])
def test_map_click_refuses_a_point_that_is_not_finite(views, model, caplog, point):
    map_view = shown(views, "latent-map")
    mu, sigma = list(model.mu), list(model.sigma)
    with caplog.at_level(logging.WARNING, "explorer"):
        map_view.click(*point)
    assert (model.mu, model.sigma) == (mu, sigma) and len(lines(caplog)) == 1


@pytest.mark.parametrize(
    ("xs", "ys"),
    [
        ([["a", "b"]], [[1.0, 2.0]]),
        ([[1.0, NAN]], [[1.0, 2.0]]),
        ([[1.0, 2.0]], [[1.0]]),
        ([[0.5] * 50] * 6000, [[0.5] * 50] * 6000),
        ([[0.5] * (drawing.MAX_POINTS + 1)], [[0.5] * (drawing.MAX_POINTS + 1)]),
    ],
)
def test_a_hostile_drawing_is_cleared_with_a_note(views, model, caplog, xs, ys):
    encode = shown(views, "latent-encode")
    mu = list(model.mu)
    with caplog.at_level(logging.WARNING, "explorer"):
        encode.strokes.data = {"xs": xs, "ys": ys}
    assert list(encode.strokes.data["xs"]) == [] and model.mu == mu
    assert "Drawing cleared" in encode.note and len(lines(caplog)) == 1


def test_checked_strokes():
    strokes = drawing.checked_strokes([[1, 2.5], np.array([3.0])], [[4, 5], [6]])
    assert [x.tolist() for x, _ in strokes] == [[1.0, 2.5], [3.0]]
    assert all(x.dtype == np.float64 and y.dtype == np.float64 for x, y in strokes)
    for xs, ys in [
        ("ab", "cd"),
        ([[True]], [[1]]),
        ([[[1, 2]]], [[[1, 2]]]),
        ([[10**400]], [[1]]),
        ([{"x": 1}], [{"y": 1}]),
        ([[None]], [[1]]),
    ]:
        with pytest.raises(ValueError):
            drawing.checked_strokes(xs, ys)
    # counts are checked before anything is read: these strokes are never looked into
    too_many = [object()] * (drawing.MAX_STROKES + 1)
    with pytest.raises(ValueError, match="strokes"):
        drawing.checked_strokes(too_many, too_many)


def test_drawing_far_off_the_canvas_is_drawn_clipped():
    image = drawing.strokes_to_image([[1e308, 14.0], ["x", 3.0]], [[14.0, 14.0], [1.0, 2.0]])
    assert image.shape == (28, 28) and image[13, 20] > 0.5  # the line runs to the right edge


def test_cell_at_refuses_a_point_that_is_not_finite():
    with pytest.raises(ValueError, match="finite"):
        grids.cell_at(NAN, 1.0, (4, 4), 28, 1)


def test_render_never_uses_a_leaked_curdoc():
    """A destroyed session's Document left as curdoc(): rendering does not touch it."""
    leaked, session = Document(), object()
    leaked.on_change_dispatch_to(session)
    leaked.destroy(session)  # as Bokeh's server destroys a session's document
    with patch_curdoc(leaked):
        image = render(image_element(np.zeros((28, 28), np.float32)), "latent-image-source")
        bars = render(bars_element(np.ones(12), 4.0), "latent-bars-source")
    session = Document()
    session.add_root(image)  # in no other document: a session's can take it
    session.add_root(bars)
    assert image.renderers[0].data_source.name == "latent-image-source"
    title = next(m for m in bars.references() if isinstance(m, Title))
    assert (title.text_font_size, title.text_color) == ("12pt", "black")  # HoloViews' theme


def test_every_raw_bokeh_callback_is_guarded():
    """explorer registers raw Bokeh callbacks only through explorer.app.untrusted (see its
    docstring): an exception escaping one would leave its session's Document as curdoc()."""
    raw = re.compile(r"\.on_(change|event)\(")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in Path(untrusted.__file__).parent.rglob("*.py")
        if path.name != "untrusted.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if raw.search(line) and "untrusted.on_" not in line
    ]
    assert found == []
