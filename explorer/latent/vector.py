"""One bounded vector: finite floats, each within ``[low, high]``, wherever μ, σ or z come from.

:class:`Bounds` holds the two ends and the rules for reading a vector within them:

- strict, for what a person typed or saved (the command line, a JSON state, the model's own
  parameters): :meth:`Bounds.parse` and :meth:`Bounds.check` give the floats or raise ValueError
  with one line naming the value and its position;
- lenient, for what a browser sent (a link, a slider): :meth:`Bounds.clamp` and
  :meth:`Bounds.fit` never raise; a value out of range is clamped, one that is no finite number
  is left out, and :meth:`Bounds.fit` says what it corrected, one notice per kind.

Imports nothing heavy, so that the command line can read bounds before it imports torch.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import NamedTuple

EXAMPLE = "0.5,-1,2"


class Bounds(NamedTuple):
    """The range of each item of a vector (a tuple, so ``low, high = bounds`` still works)."""

    low: float = -math.inf
    high: float = math.inf

    def __str__(self) -> str:
        return f"[{_short(self.low)}, {_short(self.high)}]"  # exact: a seed's [0, 2147483647]

    def holds(self, value) -> bool:
        """Whether the number ``value`` lies within the bounds (integers compared exactly)."""
        return self.low <= value <= self.high

    # -- strict ----------------------------------------------------------------------------
    def parse(self, text: str, size: int | None = None) -> list[float]:
        """Typed text → floats: ``"0.5,-1,2"``, or a link's ``"[0.5, -1, 2]"``. Every value a
        finite number within the bounds, exactly ``size`` of them when given; otherwise
        ValueError, counting values from 1 as a person does (``value 2 ('abc') is not a number``).
        """
        text = text.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        parts = [part.strip() for part in text.split(",")]
        if parts == [""]:
            raise ValueError(f"no values given: expected comma-separated numbers, e.g. {EXAMPLE}")
        values = []
        for i, part in enumerate(parts, start=1):
            try:
                value = float(part)
            except ValueError:
                raise ValueError(f"value {i} ({shown(part)}) is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"value {i} ({shown(part)}) is not a finite number")
            values.append(value)
        if size is not None and len(values) != size:
            raise ValueError(f"expected {size} values (the model's latent size), got {len(values)}")
        for i, value in enumerate(values, start=1):
            if not self.holds(value):
                raise ValueError(f"value {i} ({_short(value)}) is outside {self}")
        return values

    def check(self, values, name: str) -> list[float]:
        """A decoded list (a JSON state's, a parameter's) → floats, or ValueError naming the
        item by its index (``mu[1] = 3.5 is outside [-3, 3]``). Integers are compared exactly,
        so one of hundreds of digits is refused by its size, not by an overflow."""
        out = []
        for i, item in enumerate(values):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ValueError(f"{name}[{i}] must be a number, got {shown(item)}")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{name}[{i}] = {shown(item)} is not a finite number")
            if not self.holds(item):
                raise ValueError(f"{name}[{i}] = {shown(item)} is outside {self}")
            try:
                out.append(float(item))
            except OverflowError:  # an integer past float's range, where any finite value goes
                raise ValueError(f"{name}[{i}] = {shown(item)} is too large") from None
        return out

    # -- lenient ---------------------------------------------------------------------------
    def clamp(self, value) -> float | None:
        """``value`` as a float clamped to the bounds; None when it is no finite number."""
        value = finite(value)
        return None if value is None else float(min(max(value, self.low), self.high))

    def fit(self, raw, current: list[float], name: str) -> tuple[list[float] | None, list[str]]:
        """A link's value (JSON text or a list) laid over ``current``: its first
        ``len(current)`` items, each clamped, where they are finite numbers (numeric text
        counts); ``current``'s own values elsewhere. Returns the values (None when ``raw`` is
        no list) and one notice per kind of correction."""
        items = _list(raw)
        if items is None:
            return None, [f"{name} {shown(raw)} is not a list of numbers: ignored"]
        n = len(current)
        notices = []
        if len(items) != n:
            notices.append(f"{name} has {len(items)} values, the model has {n} dimensions: fitted")
        values = list(current)
        bad, clamped = 0, 0
        for i, item in enumerate(items[:n]):
            number = finite(item, text=True)
            if number is None:
                bad += 1
                continue
            values[i] = self.clamp(number)
            clamped += values[i] != number
        if bad:
            notices.append(f"{name}: {bad} value(s) not finite numbers: ignored")
        if clamped:
            notices.append(f"{name}: {clamped} value(s) outside {self}: clamped")
        return values, notices


def finite(value, *, text: bool = False) -> float | None:
    """``value`` as a finite float, or None: NaN, ±inf, a bool, an integer past float's range,
    anything but a number, and text unless ``text`` (then what ``float()`` reads counts)."""
    kinds = (str, numbers.Real) if text else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        return None
    try:
        value = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def resized(values: list[float], n: int, fill: float) -> list[float]:
    """``values`` made ``n`` long: the first ``n`` kept (as floats), then ``fill``."""
    return [float(v) for v in values[:n]] + [fill] * max(0, n - len(values))


def shown(value, limit: int = 40) -> str:
    """A value for a one-line message: its repr, cut to ``limit``; an integer of many digits by
    its size (a document may hold anything)."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # ValueError: an integer of more than 4300 digits
        text = f"<{type(value).__name__}>"
    if isinstance(value, int) and not isinstance(value, bool) and len(text) > 20:
        return f"an integer of {len(text.lstrip('-'))} digits"
    return clipped(text, limit)


def clipped(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters, ``...`` marking the cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: float) -> str:
    """A typed number as a person writes it (``1e+39``, ``-5``), exact (``3.0000001``)."""
    text = f"{value:g}"
    return text if float(text) == value else repr(value)


def _list(raw) -> list | None:
    """JSON text or a sequence → a list; None for anything else (junk, 5,000-digit numbers,
    deep nesting)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    return list(raw) if isinstance(raw, (list, tuple)) else None
