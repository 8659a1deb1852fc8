"""The living page: one self-contained HTML file whose decoder runs in the browser.

The page holds z sliders (deterministic mode), μ and σ sliders with a seed and Resample (the
N(μ, σ²) mode; the prior mode too), the image and the z bars, and the decoder: its layers from
:func:`explorer.layers.decoder_layers` (BatchNorm folded, weights as base64 float32) and a forward
pass in plain JavaScript (``explorer/js/decoder.js``) run by a Bokeh ``CustomJS`` on every change.
ε comes from ``explorer/js/noise.js``, the twin of :mod:`explorer.noise`, so a seed gives the app's
image. Nothing is fetched: Bokeh's JavaScript is inline as in :mod:`explorer.export`.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import numpy as np
from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.layouts import column, grid, row
from bokeh.models import Button, CustomJS, RadioButtonGroup, Slider, Spinner
from bokeh.resources import INLINE

from explorer.latent import state
from explorer.latent.space import (
    MODE_LABELS,
    MODES,
    SEED_BOUNDS,
    SLIDER_HELP,
    SLIDERS,
    LatentModel,
    dim_label,
)
from explorer.pages import layers, static
from explorer.plots import NEGATIVE, POSITIVE, bars_element, image_element, render

SLIDERS_PER_ROW = 4
PAGE = (
    static.HEAD
    + """{% block contents %}
{{ header }}
<div id="latent-values" class="latent-values"
     style="font-family:monospace;font-size:13px;line-height:1.6;min-height:42px"></div>
{{ super() }}
<div style="display:flex;flex-wrap:wrap;gap:32px">{{ info }}{{ about }}</div>
{% endblock %}
"""
)
# CustomJS bodies: the library (explorer/js/*.js) is prepended.
UPDATE = (
    "vaeUpdate({spec, z_grid, sample_grid, modes, mode_group, seed, resample, z_sliders, "
    "mu_sliders, sigma_sliders, image, bars, bars_range, positive, negative});"
)
RESAMPLE = "seed.value = vaeNextSeed(seed.value);"


def page_html(source: LatentModel | Mapping, net: list[dict] | None = None) -> str:
    """The living page for a LatentModel's current state, or for a state dict (explorer.state).

    ``net``: the model's :func:`layers.decoder_layers`, when made already (their torch.fx trace
    patches torch for every thread while it runs: an app makes them where no other thread
    decodes, and the rest of the page elsewhere).
    Raises ``layers.LayerError`` for a decoder the page cannot run, ValueError with no model."""
    model = source if isinstance(source, LatentModel) else state.model_from_json(source)
    if model.image is None or model.info is None:
        raise ValueError(model.message or "no model loaded: nothing to export")
    net = layers.decoder_layers(model.vae) if net is None else net
    document = _document(model, json.dumps(layers.to_json(net), separators=(",", ":")))
    text = {
        "header": _header_html(model),
        "info": static.info_html(model),
        "about": _about_html(model, net),
    }
    return file_html(
        document,
        resources=INLINE,
        title=f"VAE latent explorer (living page): {model.info.name}",
        template=PAGE,
        template_variables=static.inline_resources(document.roots[0]) | text,
    )


def export_html(source: LatentModel | Mapping, path: str | os.PathLike) -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(page_html(source), encoding="utf-8")
    return path


def script(*names: str) -> str:
    """The page's JavaScript library (``explorer/js``): by default all of it, the noise
    generator, the forward pass and the page's update."""
    folder = files("explorer.pages") / "js"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in names or SCRIPTS)


SCRIPTS = ("noise.js", "decoder.js", "page.js")


def _document(model: LatentModel, spec: str) -> Document:
    n = model.latent_dim
    z = model.z
    limit = max(static.BARS_LIMIT, float(np.ceil(np.abs(z).max(initial=0))))
    image = render(image_element(model.image), "latent-image-source")
    bars = render(bars_element(z, limit), "latent-bars-source")
    mode_group = RadioButtonGroup(
        labels=[MODE_LABELS[m] for m in MODES],
        active=MODES.index(model.mode),
        css_classes=["latent-mode"],
        align="end",
    )
    seed = Spinner(
        title="Seed",
        low=SEED_BOUNDS[0],
        high=SEED_BOUNDS[1],
        step=1,
        value=model.seed,
        width=140,
        css_classes=["latent-seed"],
    )
    resample = Button(
        label="Resample", button_type="primary", css_classes=["latent-resample"], align="end"
    )
    sliders = {
        name: [
            Slider(
                start=bounds[0],
                end=bounds[1],
                step=0.01,
                value=float(getattr(model, name)[i]),
                title=dim_label(symbol, i),
                html_attributes={"title": SLIDER_HELP[name].format(i + 1)},
                format="0[.]00",
                css_classes=[f"{css}-{i}"],
                width=200,
            )
            for i in range(n)
        ]
        for name, (bounds, symbol, css) in SLIDERS.items()
    }
    # One grid per mode, shown or hidden whole: toggling each slider re-laid out the page once
    # per slider (16 s for a latent size of 128).
    z_grid = grid(sliders["z_set"], ncols=SLIDERS_PER_ROW)
    sample_grid = grid(
        [column(mu, sigma) for mu, sigma in zip(sliders["mu"], sliders["sigma"], strict=True)],
        ncols=SLIDERS_PER_ROW,
    )
    z_grid.visible = model.mode == "deterministic"
    sample_grid.visible = model.mode == "sample"
    seed.visible = resample.visible = model.mode != "deterministic"
    update = CustomJS(
        args={
            "spec": spec,
            "z_grid": z_grid,
            "sample_grid": sample_grid,
            "modes": list(MODES),
            "mode_group": mode_group,
            "seed": seed,
            "resample": resample,
            "z_sliders": sliders["z_set"],
            "mu_sliders": sliders["mu"],
            "sigma_sliders": sliders["sigma"],
            "image": image.renderers[0].data_source,
            "bars": bars.renderers[0].data_source,
            "bars_range": bars.y_range,
            "positive": POSITIVE,
            "negative": NEGATIVE,
        },
        code=script() + UPDATE,
    )
    for group in sliders.values():
        for slider in group:
            slider.js_on_change("value", update)
    mode_group.js_on_change("active", update)
    seed.js_on_change("value", update)
    next_seed = CustomJS(args={"seed": seed}, code=script("noise.js") + RESAMPLE)
    resample.js_on_event("button_click", next_seed)
    layout = column(
        row(mode_group, seed, resample),
        row(image, column(bars, sizing_mode="stretch_width"), sizing_mode="stretch_width"),
        z_grid,
        sample_grid,
        sizing_mode="stretch_width",
    )
    document = Document()
    document.add_root(layout)
    document.js_on_event("document_ready", update)  # the page draws its own first image
    return document


def _header_html(model: LatentModel) -> str:
    name = html.escape(model.info.name)
    return (
        f"<h2 style='margin:4px 0'>VAE latent explorer: {name}</h2>"
        "<div style='color:#444;margin-bottom:8px'>A living page: the decoder runs in this "
        "page, with no server and no network. Move a slider, pick a mode, change the seed.</div>"
    )


def _about_html(model: LatentModel, net: list[dict]) -> str:
    kinds = " → ".join(layer["type"] for layer in net)
    facts = {
        "decoder": kinds,
        "parameters": f"{layers.parameter_count(net):,} (float32, BatchNorm folded)",
        "ε": "mulberry32 + Box–Muller from the seed, as the app draws it",
    }
    return static.facts_table("In this page", facts, "latent-about")
