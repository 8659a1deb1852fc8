"""A fixed z as one self-contained HTML page: the image, the z bars, the values and the model.

The two plots are plain Bokeh models (the app's own HoloViews elements, rendered once, their data
sources named as in the app, drawn on a canvas rather than WebGL); the text around them (the z
values, the settings, the model, the state as JSON) is plain HTML in the page's template, readable
without JavaScript. Bokeh's JavaScript is inline (:mod:`explorer.pages.shell`), so the page opens
with no server and no network.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

from bokeh.layouts import column, row

from explorer import __version__, names
from explorer.latent import state
from explorer.latent.space import LatentModel
from explorer.latent.table import MODE_LABELS, dim_label
from explorer.pages import fragments, shell
from explorer.plots import bars_element, image_element, render

CONTENTS = """{% block contents %}
{{ header }}
{{ super() }}
{{ values }}
<div style="display:flex;flex-wrap:wrap;gap:32px">{{ settings }}{{ info }}</div>
{{ json }}
{% endblock %}
"""


def page_html(source: LatentModel | Mapping) -> str:
    """The page for a LatentModel's current image, or a state dict (explorer.latent.state)."""
    model = shell.model_for(source)
    z = model.z
    image = render(image_element(model.image), names.IMAGE_SOURCE)
    bars = render(bars_element(z, mode=model.mode), names.BARS_SOURCE)
    # In a column (bare in the row, it squeezes the image): beside the image, under it on a phone.
    bars_box = column(bars, sizing_mode="stretch_width", styles=shell.BESIDE)
    layout = row(image, bars_box, spacing=16, sizing_mode="stretch_width", styles=shell.WRAP)
    mode = html.escape(MODE_LABELS[model.mode])
    seed = f", seed {model.seed}" if model.mode != "deterministic" else ""
    written = f"a static page written by vae-explorer {html.escape(__version__)}"
    text = {
        "header": shell.header_html(model, f"{mode}{seed} &middot; {written}"),
        "values": fragments.values_html(z, digits=4, size=13, style="margin:8px 0"),
        "settings": _settings_html(model),
        "info": fragments.info_html(model),
        "json": _state_html(model),
    }
    return shell.page(layout, f"VAE latent explorer: {model.info.name}", CONTENTS, text)


def export_html(source: LatentModel | Mapping, path: str | os.PathLike) -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8); returns the path."""
    return shell.write(path, page_html(source))


def _settings_html(model: LatentModel) -> str:
    """One row per dimension: μ and σ (sample mode), the z set (deterministic mode), and z."""
    columns = {"sample": ("μ", "σ"), "prior": (), "deterministic": ("z set",)}[model.mode]
    values = {"μ": model.mu, "σ": model.sigma, "z set": model.z_set}
    cell = fragments.CELL
    head = "".join(f"<th style='{cell}'>{name}</th>" for name in ("dim", *columns, "z"))
    rows = []
    for i, z in enumerate(model.z):
        cells = [dim_label("z", i), *(f"{values[name][i]:+.2f}" for name in columns), f"{z:+.4f}"]
        rows.append("<tr>" + "".join(f"<td style='{cell}'>{c}</td>" for c in cells) + "</tr>")
    return fragments.table("Settings", head, rows, names.SETTINGS)


def _state_html(model: LatentModel) -> str:
    text = html.escape(json.dumps(state.to_json(model), indent=2))
    return (
        f"<details class='{names.STATE}' style='margin-top:12px'><summary>State (JSON: "
        "<code>vae-explorer decode --from-json</code> and <code>export --from-json</code> "
        "read it)</summary>"
        f"<pre style='font-size:12px'>{text}</pre></details>"
    )
