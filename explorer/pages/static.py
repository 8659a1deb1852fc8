"""A fixed z as one self-contained HTML page: the image, the z bars, the values and the model.

The two plots are plain Bokeh models (the app's own HoloViews elements, rendered once, their data
sources named as in the app, drawn on a canvas rather than WebGL); the text around them (the z
values, the settings, the model, the state as JSON) is plain HTML in the page's template, readable
without JavaScript. Bokeh's JavaScript is inline, so the page opens with no server and no network.

Panel's own save is not used: it still fetches CSS and icons from a CDN (panel #7073). Nor is
Bokeh's plain inline page: it also links the external JS and CSS files of every model class
imported in the process, used or not, and Panel's (imported by HoloViews) are relative URLs (an
ES-module shim; Tabulator's CSS once its widget is imported) that a page opened from a file cannot
load. So the page's template takes only the inline scripts and styles of the Bokeh bundle that its
own models need.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from bokeh.embed import file_html
from bokeh.embed.bundle import Bundle, bundle_for_objs_and_resources
from bokeh.layouts import column, row
from bokeh.resources import INLINE

from explorer import __version__
from explorer.latent import state
from explorer.latent.space import MODE_LABELS, LatentModel, dim_label
from explorer.plots import bars_element, color, image_element, render

BARS_LIMIT = 4.0  # the app's initial z axis: ±4, widened to fit a taller bar
# Bokeh's page template (a string extends it): resources inline only, and the text around the
# plots. HEAD is shared with the living page (explorer.live).
HEAD = """
{% block css_resources %}{{ inline_css }}
<style>body { font-family: sans-serif; margin: 8px 16px 16px; color: #111; }</style>
{% endblock %}
{% block js_resources %}{{ inline_js }}{% endblock %}
"""
PAGE = (
    HEAD
    + """{% block contents %}
{{ header }}
{{ super() }}
{{ values }}
<div style="display:flex;flex-wrap:wrap;gap:32px">{{ settings }}{{ info }}</div>
{{ json }}
{% endblock %}
"""
)
CELL = "padding:2px 10px;border-bottom:1px solid #e5e7eb;text-align:right"


def page_html(source: LatentModel | Mapping) -> str:
    """The page for a LatentModel's current image, or for a state dict (see explorer.state)."""
    model = source if isinstance(source, LatentModel) else state.model_from_json(source)
    if model.image is None or model.info is None:
        raise ValueError(model.message or "no model loaded: nothing to export")
    z = model.z
    limit = max(BARS_LIMIT, float(np.ceil(np.abs(z).max(initial=0))))
    image = render(image_element(model.image), "latent-image-source")
    bars = render(bars_element(z, limit), "latent-bars-source")
    bars_box = column(bars, sizing_mode="stretch_width")  # (bare in the row, it squeezes the image)
    layout = row(image, bars_box, spacing=16, sizing_mode="stretch_width")
    text = {
        "header": _header_html(model),
        "values": _values_html(z),
        "settings": _settings_html(model),
        "info": info_html(model),
        "json": _state_html(model),
    }
    return file_html(
        layout,
        resources=INLINE,
        title=f"VAE latent explorer: {model.info.name}",
        template=PAGE,
        template_variables=inline_resources(layout) | text,
    )


def export_html(source: LatentModel | Mapping, path: str | os.PathLike) -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(page_html(source), encoding="utf-8")
    return path


def inline_resources(layout) -> dict[str, str]:
    """The <script> and <style> tags of the Bokeh bundle for ``layout``, less any linked file."""
    bundle = bundle_for_objs_and_resources([layout], INLINE)
    js, css = Bundle(js_raw=bundle.js_raw, css_raw=bundle.css_raw, hashes=bundle.hashes)
    return {"inline_js": js, "inline_css": css}


def _header_html(model: LatentModel) -> str:
    name = html.escape(model.info.name)
    mode = html.escape(MODE_LABELS[model.mode])
    seed = f", seed {model.seed}" if model.mode != "deterministic" else ""
    return (
        f"<h2 style='margin:4px 0'>VAE latent explorer: {name}</h2>"
        f"<div style='color:#444;margin-bottom:8px'>{mode}{seed} &middot; a static page written "
        f"by vae-explorer {html.escape(__version__)}</div>"
    )


def _values_html(z: np.ndarray) -> str:
    cells = "".join(
        f"<span style='color:{color(v)}'>{dim_label('z', i)}&nbsp;{v:+.4f}</span> "
        for i, v in enumerate(z)
    )
    style = "font-family:monospace;font-size:13px;line-height:1.6;margin:8px 0"
    return f"<div class='latent-values' style='{style}'>{cells}</div>"


def _settings_html(model: LatentModel) -> str:
    """One row per dimension: μ and σ (sample mode), the z set (deterministic mode), and z."""
    columns = {"sample": ("μ", "σ"), "prior": (), "deterministic": ("z set",)}[model.mode]
    values = {"μ": model.mu, "σ": model.sigma, "z set": model.z_set}
    head = "".join(f"<th style='{CELL}'>{name}</th>" for name in ("dim", *columns, "z"))
    rows = []
    for i, z in enumerate(model.z):
        cells = [dim_label("z", i), *(f"{values[name][i]:+.2f}" for name in columns), f"{z:+.4f}"]
        rows.append("<tr>" + "".join(f"<td style='{CELL}'>{c}</td>" for c in cells) + "</tr>")
    return _table("Settings", head, rows, "latent-settings")


def info_html(model: LatentModel) -> str:
    """The model's facts (name, checkpoint, latent size, β, ...) as a table."""
    info = model.info

    def show(value, fmt="{}"):
        return fmt.format(value) if value is not None else "unknown"

    facts = {
        "model": info.name,
        "checkpoint": model.public_checkpoint,
        "latent size": info.latent_dim,
        "β": show(info.beta, "{:g}"),
        "epochs": show(info.epochs),
        "data set": show(info.dataset),
        "validation loss": show(info.final_val_loss, "{:.1f}"),
        "output": info.output,
        "format": info.format,
    }
    return facts_table("Model", facts, "latent-info")


def facts_table(title: str, facts: dict, css_class: str) -> str:
    """A titled two-column table: one row per fact, its name then its value (escaped)."""
    rows = [
        f"<tr><th style='{CELL};text-align:left'>{html.escape(key)}</th>"
        f"<td style='{CELL};text-align:left'>{html.escape(str(value))}</td></tr>"
        for key, value in facts.items()
    ]
    return _table(title, "", rows, css_class)


def _table(title: str, head: str, rows: list[str], css_class: str) -> str:
    head = f"<tr>{head}</tr>" if head else ""
    return (
        f"<div class='{css_class}'><h3 style='margin:8px 0 4px'>{title}</h3>"
        "<table style='border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums'>"
        f"{head}{''.join(rows)}</table></div>"
    )


def _state_html(model: LatentModel) -> str:
    text = html.escape(json.dumps(state.to_json(model), indent=2))
    return (
        "<details class='latent-state' style='margin-top:12px'><summary>State (JSON: "
        "<code>vae-explorer decode --from-json</code> and <code>export --from-json</code> "
        "read it)</summary>"
        f"<pre style='font-size:12px'>{text}</pre></details>"
    )
