"""The living page: one self-contained HTML file whose decoder runs in the browser.

The page holds z sliders (deterministic mode), μ and σ sliders with a seed and Resample (the
N(μ, σ²) mode; the prior mode too), the image and the z bars, and the decoder: its layers from
:func:`explorer.pages.layers.decoder_layers` (BatchNorm folded, weights as base64 float32) and a
forward pass in plain JavaScript (``pages/js/decoder.js``) run by a Bokeh ``CustomJS`` on every
change. Any VAE the explorer opens whose decoder maps onto those layers: ours, a live torch
module, an ONNX graph; grey or RGB, of any size (the image source holds what
:func:`explorer.plots.image_element` made: grey floats, or RGBA packed in uint32).
ε comes from ``pages/js/noise.js``, the twin of :mod:`explorer.compute.noise`, so a seed gives the
app's image. Nothing is fetched: Bokeh's JavaScript is inline (:mod:`explorer.pages.shell`).

How typical z is travels as a Gaussian fit of the aggregate posterior of the model's data sample
(:class:`explorer.compute.typicality.GaussianFit`: the posterior means' mean and full covariance
plus the mean posterior variance, and the means' own log densities under it), not the sample
itself; ``pages/js/typicality.js`` evaluates it. The app uses the exact mixture instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from bokeh.document import Document
from bokeh.layouts import column, grid, row
from bokeh.models import Button, CustomJS, RadioButtonGroup, Slider, Spinner

from explorer import names, plots
from explorer.compute import decoding, noise, typicality
from explorer.data import samples
from explorer.latent.space import LatentModel
from explorer.latent.table import DRAWN_SEED_BOUNDS, MODE_LABELS, MODES, SEED_BOUNDS, SLIDERS
from explorer.pages import fragments, layers, shell
from explorer.plots import InPlacePlot, bars_element, image_element

SLIDERS_PER_ROW = 4
# The slider grids' columns: SLIDERS_PER_ROW of them, fewer where they do not fit (a phone);
# the sliders flow into them (Bokeh's grid places each in its own row and column).
GRID = f"""
:host {{ grid-template-columns: repeat(auto-fill, minmax(210px, {100 // SLIDERS_PER_ROW}%)); }}
* {{ grid-area: auto !important; }}
"""
CONTENTS = f"""{{% block contents %}}
{{{{ header }}}}
<div id="{names.VALUES}" class="{names.VALUES}"
     style="font-family:monospace;font-size:13px;line-height:1.6;min-height:42px"></div>
<div id="{names.TYPICALITY}" class="{names.TYPICALITY}"
     style="font-size:13px;min-height:20px">{{{{ typicality }}}}</div>
<div id="{names.OFF_MANIFOLD}" class="{names.OFF_MANIFOLD}" role="alert"
     style="display:none;background:#fff3cd;border:1px solid #ffe69c;color:#664d03;
            border-radius:6px;padding:6px 12px;margin:4px 0;font-size:14px">{{{{ warning }}}}</div>
{{{{ super() }}}}
<div style="display:flex;flex-wrap:wrap;gap:32px">{{{{ info }}}}{{{{ about }}}}</div>
{{% endblock %}}
"""
SUBLINE = (
    "A living page: the decoder runs in this page, with no server and no network. Move a "
    "slider, pick a mode, change the seed."
)
# CustomJS bodies: the library (pages/js/*.js) is prepended; the update passes on all its args.
RESAMPLE = "seed.value = vaeNextSeed(seed.value, low, count);"


def page_html(source: LatentModel | Mapping, net: list[dict] | None = None) -> str:
    """The living page for a LatentModel's current state, or for a state dict (latent.state).

    ``net``: the model's :func:`layers.decoder_layers`, when made already (their torch.fx trace
    patches torch for every thread while it runs: an app makes them where no other thread
    decodes, and the rest of the page elsewhere).
    Raises ``layers.LayerError`` for a decoder the page cannot run, ValueError with no model."""
    model = shell.model_for(source)
    net = layers.decoder_layers(model.vae) if net is None else net
    fit = typicality_fit(model)
    spec = json.dumps(layers.to_json(net), separators=(",", ":"))
    document = _document(model, spec, fit_json(*fit) if fit is not None else "")
    text = {
        "typicality": "" if fit is not None else NO_FIT,
        "warning": typicality.WARNING,
        "header": shell.header_html(model, SUBLINE),
        "info": fragments.info_html(model),
        "about": _about_html(model, net),
    }
    title = f"VAE latent explorer (living page): {model.info.name}"
    return shell.page(document, title, CONTENTS, text)


def export_html(source: LatentModel | Mapping, path: str | os.PathLike) -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8); returns the path."""
    return shell.write(path, page_html(source))


def script(*scripts: str) -> str:
    """The page's JavaScript library (``pages/js``): by default all of it, the noise
    generator, the forward pass and the page's update."""
    folder = files("explorer.pages") / "js"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in scripts or SCRIPTS)


SCRIPTS = ("noise.js", "decoder.js", "typicality.js", "page.js")
NO_FIT = "No data sample (or no encoder) went into this page: how typical z is is not shown."


def typicality_fit(model: LatentModel) -> tuple[typicality.GaussianFit, samples.Sample] | None:
    """The Gaussian fit of the aggregate posterior of the model's data sample, and the sample;
    None without an encoder or a sample of the model's images (one forward pass of the
    sample)."""
    vae, info = model.vae, model.info
    if vae is None or not vae.has_encoder:
        return None
    sample = samples.load_sample(info.source, info.dataset, image_shape=info.image_shape)
    if sample is None or sample.shape != info.image_shape:
        return None
    return typicality.GaussianFit.of(*decoding.posterior(vae, sample.images)), sample


def fit_json(fit: typicality.GaussianFit, sample: samples.Sample) -> str:
    """The fit as the page's script reads it (pages/js/typicality.js), with the words that say
    which form of q the page uses."""
    form = (
        f"q: a Gaussian fit of the aggregate posterior of {len(sample)} data images, the mean "
        "and covariance of their posterior means plus their mean posterior variance; the app "
        "uses the exact mixture"
    )
    data = {
        "mean": fit.mean.tolist(),
        "whiten": [row[: i + 1].tolist() for i, row in enumerate(fit.whiten)],
        "log_det": fit.log_det,
        "data": fit.data_log_q.tolist(),
        "off_below": typicality.OFF_MANIFOLD_PERCENTILE,
        "form": form,
    }
    return json.dumps(data, separators=(",", ":"))


def _document(model: LatentModel, spec: str, fit: str = "") -> Document:
    n = model.latent_dim
    z = model.z
    image = InPlacePlot(image_element(model.image), names.IMAGE_SOURCE)
    bars = InPlacePlot(bars_element(z, mode=model.mode), names.BARS_SOURCE)
    mode_group = RadioButtonGroup(
        labels=[MODE_LABELS[m] for m in MODES],
        active=MODES.index(model.mode),
        css_classes=[names.MODE],
        align="end",
    )
    seed = Spinner(
        title="Seed",
        low=SEED_BOUNDS[0],
        high=SEED_BOUNDS[1],
        step=1,
        value=model.seed,
        width=140,
        css_classes=[names.SEED],
    )
    resample = Button(
        label="Resample", button_type="primary", css_classes=[names.RESAMPLE], align="end"
    )
    sliders = {
        name: [
            Slider(
                start=kind.bounds.low,
                end=kind.bounds.high,
                step=kind.step,
                value=float(getattr(model, name)[i]),
                title=kind.title(i),
                html_attributes={"title": kind.help(i)},
                format="0[.]00",
                css_classes=[kind.css_class(i)],
                width=200,
            )
            for i in range(n)
        ]
        for name, kind in SLIDERS.items()
    }
    # One grid per mode, shown or hidden whole: toggling each slider re-laid out the page once
    # per slider (16 s for a latent size of 128).
    z_grid = grid(sliders["z_set"], ncols=SLIDERS_PER_ROW)
    sample_grid = grid(
        [column(mu, sigma) for mu, sigma in zip(sliders["mu"], sliders["sigma"], strict=True)],
        ncols=SLIDERS_PER_ROW,
    )
    z_grid.stylesheets = sample_grid.stylesheets = [GRID]
    z_grid.visible = model.mode == "deterministic"
    sample_grid.visible = model.mode == "sample"
    seed.visible = resample.visible = model.mode != "deterministic"
    args = {
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
        "image": image.source,
        "bars": bars.source,
        "bars_range": bars.figure.y_range,
        "bars_title": bars.figure.title,
        "titles": [plots.BARS_TITLES[mode] for mode in MODES],
        # the columns as plain strings: a dict would reach the script as a JavaScript Map
        "image_column": plots.IMAGE_COLUMN,
        "z_column": plots.Z_COLUMN,
        "color_column": plots.COLOR_COLUMN,
        "positive": plots.POSITIVE,
        "negative": plots.NEGATIVE,
        "values": names.VALUES,
        "fit": fit,  # JSON, or "" without a data sample
        "typicality": names.TYPICALITY,
        "off_manifold": names.OFF_MANIFOLD,
    }
    update = CustomJS(args=args, code=script() + f"vaeUpdate({{{', '.join(args)}}});")
    for group in sliders.values():
        for slider in group:
            slider.js_on_change("value", update)
    mode_group.js_on_change("active", update)
    # As in the app, a switch to the prior draws a new ε: at the same seed, the prior's z is
    # the default sample's (μ = 0, σ = 1), and the switch would look as if it did nothing.
    drawing = {"seed": seed, "low": DRAWN_SEED_BOUNDS.low, "count": noise.drawn_seed_count()}
    prior = CustomJS(
        args={**drawing, "prior": MODES.index("prior")},
        code=script("noise.js") + f"if (cb_obj.active === prior) {{ {RESAMPLE} }}",
    )
    mode_group.js_on_change("active", prior)
    seed.js_on_change("value", update)
    next_seed = CustomJS(args=drawing, code=script("noise.js") + RESAMPLE)
    resample.js_on_event("button_click", next_seed)
    layout = column(
        row(mode_group, seed, resample, styles=shell.WRAP),
        row(
            image.figure,
            column(bars.figure, sizing_mode="stretch_width", styles=shell.BESIDE),
            sizing_mode="stretch_width",
            styles=shell.WRAP,
        ),
        z_grid,
        sample_grid,
        sizing_mode="stretch_width",
    )
    document = Document()
    document.add_root(layout)
    document.js_on_event("document_ready", update)  # the page draws its own first image
    return document


def _about_html(model: LatentModel, net: list[dict]) -> str:
    kinds = " → ".join(layer["type"] for layer in net)
    facts = {
        "decoder": kinds,
        "parameters": f"{layers.parameter_count(net):,} (float32, BatchNorm folded)",
        "ε": "mulberry32 + Box–Muller from the seed, as the app draws it",
    }
    return fragments.facts_table("In this page", facts, names.ABOUT)
