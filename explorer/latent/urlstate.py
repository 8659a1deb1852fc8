"""The explorer's state as URL query values, and back, forgiving malformed input.

A copied link reproduces the exact image: mode, μ, σ, z, seed and the zoo model travel in the
query. Reading never fails: values out of range are clamped, unusable ones ignored, and each
correction is reported as a one-line notice. Pure functions over a LatentModel; no Panel here.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping

from explorer import zoo
from explorer.latent.space import LatentModel
from explorer.latent.table import MODES, SEED_BOUNDS, SLIDERS
from explorer.latent.vector import finite, shown

DECIMALS = 4
# A page URL longer than this is ignored whole: a real link of a 512-dimension model is ~25 kB.
MAX_SEARCH_CHARS = 64_000


def to_query(model: LatentModel) -> dict[str, str]:
    """The query values that reproduce the model's current image."""
    query = {"mode": model.mode, "seed": str(model.seed)}
    for slider in SLIDERS.values():
        query[slider.key] = json.dumps([round(v, DECIMALS) for v in getattr(model, slider.name)])
    if model.info is not None and model.info.source in zoo.NAMES:
        query["model"] = model.info.source
    return query


def parse_search(search: str) -> tuple[dict[str, str], list[str]]:
    """A URL's ``?a=1&b=…`` as strings (and notices), never raising.

    Panel's ``Location.query_params`` converts values itself and raises on some (a 5,000-digit
    number exceeds Python's int-from-text limit): it must never see a visitor's link.
    """
    if len(search) > MAX_SEARCH_CHARS:
        return {}, [f"the link is too long ({len(search):,} characters): its values were ignored"]
    try:
        pairs = urllib.parse.parse_qsl(search.removeprefix("?"), max_num_fields=100)
    except ValueError:
        return {}, ["the link has too many values: they were ignored"]
    return dict(pairs), []


def search_string(model: LatentModel) -> str:
    """The ``?…`` part of the page URL for the model's current state."""
    return "?" + urllib.parse.urlencode(to_query(model))


def apply_query(model: LatentModel, query: Mapping[str, object]) -> list[str]:
    """Set the model from query values; returns one notice per value clamped or ignored."""
    notices: list[str] = []
    name = query.get("model")
    if name is not None:
        if name in zoo.available():
            model.checkpoint = str(name)
        else:
            notices.append(f"model {shown(name)} is not a bundled model: ignored")
    updates: dict[str, object] = {}
    mode = query.get("mode")
    if mode is not None:
        if mode in MODES:
            updates["mode"] = mode
        else:
            notices.append(f"mode {shown(mode)} is unknown (use {', '.join(MODES)}): ignored")
    if "seed" in query:
        seed = _seed(query["seed"])
        if seed is None:
            notices.append(f"seed {shown(query['seed'])} is not a number: ignored")
        else:
            clamped = int(SEED_BOUNDS.clamp(seed))
            if clamped != seed:
                notices.append(f"seed {shown(query['seed'])} was clamped to {clamped}")
            updates["seed"] = clamped
    for slider in SLIDERS.values():
        if slider.key in query:
            current = getattr(model, slider.name)
            values, fixed = slider.bounds.fit(query[slider.key], current, slider.key)
            notices += fixed
            if values is not None:
                updates[slider.name] = values
    model.param.update(**updates)
    return notices


def _seed(raw) -> int | None:
    """A whole number as it was written (a 400-digit seed is clamped, not refused), else the
    rounded finite number, else None."""
    text = raw.strip() if isinstance(raw, str) else None
    if text and text.lstrip("+-").isascii() and text.lstrip("+-").isdigit():
        digits = text.lstrip("+-")
        if len(digits) > 18:  # past any bound, clamped alike: no need to build the number
            return -(10**19) if text.startswith("-") else 10**19
        return int(text)
    number = finite(raw, text=True)
    return round(number) if number is not None else None
