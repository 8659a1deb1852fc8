"""The bounded vector (explorer.latent.vector) and the slider table (explorer.latent.table)."""

from __future__ import annotations

import json
import math
import re

import pytest

from explorer import names
from explorer.latent import table
from explorer.latent.space import LatentModel
from explorer.latent.vector import Bounds, finite, resized, shown

Z = Bounds(-4.0, 4.0)
SIGMA = Bounds(0.0, 2.0)


# -- strict: typed text ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "size", "expected"),
    [
        ("0.5,-1,2", 3, [0.5, -1.0, 2.0]),
        (" 0.5 , -1 ,2 ", None, [0.5, -1.0, 2.0]),
        ("3", 1, [3.0]),
        ("1e-3,-2.5E2", 2, [0.001, -250.0]),
        ("1,\n2", 2, [1.0, 2.0]),
        ("[0.5, -1, 2]", 3, [0.5, -1.0, 2.0]),  # a link's value, as copied
    ],
)
def test_parse(text, size, expected):
    assert Bounds().parse(text, size) == expected


def test_parse_keeps_the_bounds_themselves():
    assert Z.parse(" [4,-4] ", 2) == [4.0, -4.0]
    assert SIGMA.parse("0, 2, 0.0, 2.0", 4) == [0.0, 2.0, 0.0, 2.0]


@pytest.mark.parametrize(
    ("bounds", "text", "size", "message"),
    [
        (Z, "", None, "no values given: expected comma-separated numbers, e.g. 0.5,-1,2"),
        (Z, "  ", 2, "no values given"),
        (Z, "[]", 2, "no values given"),
        (Z, "1,2", 3, "expected 3 values (the model's latent size), got 2"),
        (Z, "1,2,3,4", 3, "got 4"),
        (Z, "1,,3", 3, "value 2 ('') is not a number"),
        (Z, "1,abc,3", 3, "value 2 ('abc') is not a number"),
        (Z, "1;2;3", 3, "value 1 ('1;2;3') is not a number"),
        (Z, "[[1], 2]", 2, "value 1 ('[1]') is not a number"),
        (Z, '["1", 2]', 2, "value 1 ('\"1\"') is not a number"),
        (Z, "nan,0", 2, "value 1 ('nan') is not a finite number"),
        (Z, "0,-inf", 2, "value 2 ('-inf') is not a finite number"),
        (Z, "0,1e999", 2, "value 2 ('1e999') is not a finite number"),
        (Z, "1,2\n3", 2, "value 2 ('2\\n3')"),  # one line: the newline shows as \n
        (Z, "1e39,0,0", 3, "value 1 (1e+39) is outside [-4, 4]"),
        (Z, "0,4.5", 2, "value 2 (4.5) is outside [-4, 4]"),
        (Z, "0,-5", 2, "value 2 (-5) is outside [-4, 4]"),
        (Z, "4.0000001", 1, "value 1 (4.0000001) is outside [-4, 4]"),  # exact, not rounded
        (SIGMA, "1,-0.5", 2, "value 2 (-0.5) is outside [0, 2]"),
        (SIGMA, "-0.0001", 1, "value 1 (-0.0001) is outside [0, 2]"),
    ],
)
def test_parse_refuses_with_one_line(bounds, text, size, message):
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        bounds.parse(text, size)
    assert "\n" not in str(caught.value)


def test_parse_checks_numbers_then_size_then_bounds():
    with pytest.raises(ValueError, match=re.escape("value 2 ('x') is not a number")):
        Z.parse("9,x", 3)
    with pytest.raises(ValueError, match="expected 3 values"):
        Z.parse("9,0", 3)


def test_parse_cuts_a_long_value_short():
    with pytest.raises(ValueError) as caught:
        Z.parse("0," + "x" * 10_000, 2)
    assert len(str(caught.value)) < 100


# -- strict: decoded lists ------------------------------------------------------------------
def test_check_gives_floats_and_keeps_edges():
    values = Z.check([-4, 4.0, 0, -0.5], "z")
    assert values == [-4.0, 4.0, 0.0, -0.5]
    assert all(type(v) is float for v in values)
    assert Z.check([], "z") == []


@pytest.mark.parametrize(
    ("bounds", "values", "message"),
    [
        (Z, [0, "x"], "z[1] must be a number, got 'x'"),
        (Z, [True], "z[0] must be a number, got True"),
        (Z, [None], "z[0] must be a number, got None"),
        (Z, [[1.0]], "z[0] must be a number, got [1.0]"),
        (Z, [0.0, math.nan], "z[1] = nan is not a finite number"),
        (Bounds(), [math.inf], "z[0] = inf is not a finite number"),
        (Z, [0, 4.5], "z[1] = 4.5 is outside [-4, 4]"),
        (SIGMA, [-0.1], "z[0] = -0.1 is outside [0, 2]"),
        (Z, [-(10**400)], "z[0] = an integer of 401 digits is outside [-4, 4]"),
        (Bounds(), [10**400], "z[0] = an integer of 401 digits is too large"),
        (Z, ["x" * 1000], "z[0] must be a number, got 'xxxxxxxxx"),
    ],
)
def test_check_refuses_naming_the_index(bounds, values, message):
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        bounds.check(values, "z")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 100


# -- lenient --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, 0.5),
        (-4, -4.0),
        (4.0, 4.0),
        (9, 4.0),
        (-1e300, -4.0),
        (math.nan, None),
        (math.inf, None),
        (-math.inf, None),
        (True, None),
        ("1.5", None),  # a slider sends numbers: text is refused
        (None, None),
        (10**400, None),
    ],
)
def test_clamp(value, expected):
    assert Z.clamp(value) == expected


def test_finite_reads_text_only_when_asked():
    assert finite("1.5") is None and finite("1.5", text=True) == 1.5
    assert finite("nan", text=True) is None and finite("1e999", text=True) is None
    assert finite("x", text=True) is None and finite(False, text=True) is None


def test_fit_lays_a_link_over_the_current_values():
    current = [1.0, 1.0, 1.0]
    assert Z.fit("[0.5, -1, 2]", current, "z") == ([0.5, -1.0, 2.0], [])
    assert Z.fit([0.5, "2", -3], current, "z") == ([0.5, 2.0, -3.0], [])  # numeric text counts
    assert current == [1.0, 1.0, 1.0]


def test_fit_says_what_it_corrected():
    values, notices = SIGMA.fit(json.dumps([9, -1, "x", None, 1.5, 7]), [1.0] * 5, "sigma")
    assert values == [2.0, 0.0, 1.0, 1.0, 1.5]
    assert notices == [
        "sigma has 6 values, the model has 5 dimensions: fitted",
        "sigma: 2 value(s) not finite numbers: ignored",
        "sigma: 2 value(s) outside [0, 2]: clamped",
    ]
    values, notices = Z.fit("[3]", [0.0, 0.0], "z")
    assert values == [3.0, 0.0] and notices == [
        "z has 1 values, the model has 2 dimensions: fitted"
    ]


@pytest.mark.parametrize(
    "raw", ["[1, 2", "0.5,1", "{}", 5, None, "[" * 30_000 + "]" * 30_000, "[" + "9" * 5000 + "]"]
)
def test_fit_ignores_what_is_no_list(raw):
    values, notices = Z.fit(raw, [0.0], "z")
    assert values is None
    assert len(notices) == 1 and "is not a list of numbers: ignored" in notices[0]
    assert "\n" not in notices[0] and len(notices[0]) < 100


def test_resized():
    assert resized([1, 2, 3], 2, 0.0) == [1.0, 2.0]
    assert resized([1.0], 3, 9.0) == [1.0, 9.0, 9.0]
    assert resized([], 0, 1.0) == []


def test_shown_is_short_and_one_line():
    assert shown("a\nb") == "'a\\nb'"
    assert shown(10**5000) == "<int>"
    assert shown(-(10**30)) == "an integer of 31 digits"
    assert len(shown("x" * 1000)) == 40


# -- the slider table -----------------------------------------------------------------------
def test_the_model_reads_the_table():
    assert list(table.SLIDERS) == ["mu", "sigma", "z_set"]
    for name, slider in table.SLIDERS.items():
        assert LatentModel.param[name].item_bounds is slider.bounds
        assert LatentModel.param[name].label == slider.symbol
    assert LatentModel.param.seed.bounds == table.SEED_BOUNDS
    assert LatentModel.param.mode.objects == list(table.MODES) == list(table.MODE_LABELS)


def test_the_seed_bounds_are_exact_whole_numbers():
    """A seed's bounds read exactly in messages, and hold integers of any size by value."""
    bounds = table.SEED_BOUNDS
    assert str(bounds) == "[0, 2147483647]" and str(table.MU.bounds) == "[-3, 3]"
    assert bounds.holds(0) and bounds.holds(2**31 - 1)
    assert not bounds.holds(-1) and not bounds.holds(2**31) and not bounds.holds(10**400)
    assert bounds.clamp(10**19) == 2**31 - 1 and bounds.clamp(-(10**19)) == 0


def test_a_slider_row():
    mu = table.SLIDERS["mu"]
    assert (mu.bounds.low, mu.bounds.high, mu.step) == (-3.0, 3.0, 0.01)
    assert mu.title(0) == "μ1" and mu.css_class(3) == "latent-mu-3" == names.mu_slider(3)
    assert mu.help(0) == "Mean for latent dimension 1"
    z = table.SLIDERS["z_set"]
    assert (z.key, z.option, z.css_class(0)) == ("z", "--z", names.z_slider(0))
    assert table.SLIDERS["sigma"].css_class(2) == names.sigma_slider(2)
