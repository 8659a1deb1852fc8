"""The HTML and Markdown the app and the pages both show: z's values and statistics, the model's
facts, tables, and text from files or URLs made safe to show.

Everything here returns text; nothing imports Panel or Bokeh. What came from a file, a URL or a
browser (a checkpoint's name, its metadata) is escaped here, never by the caller.
"""

from __future__ import annotations

import html
import re

import numpy as np

from explorer import names
from explorer.compute.decoding import shape_text
from explorer.latent.space import LatentModel
from explorer.latent.table import dim_label
from explorer.plots import color

CELL = "padding:2px 10px;border-bottom:1px solid #e5e7eb;text-align:right"
# The checkpoint's output and format, said as a reader needs them.
OUTPUT_WORDS = {
    "sigmoid": "0–1 through a sigmoid",
    "linear": "as decoded, clipped to 0–1",
}
FORMAT_WORDS = {
    "vae-explorer": "this project's train.py",
    "original": "the original Streamlit app",
    "state-dict": "a bare state dict (no metadata)",
    "onnx": "an ONNX file",
    "module": "a live module (Python)",
}
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def literal(text: str) -> str:
    """``text`` for a Markdown pane, shown as written: HTML escaped, Markdown syntax escaped.

    For anything that comes from a file, a URL or a message built from them: a file name with a
    backtick and ``<img onerror=…>`` must read as a name, not run in every visitor's browser.
    """
    # Markdown first: HTML's escapes (``&lt;``) must reach Markdown whole, as entities.
    return html.escape(MARKDOWN_SPECIALS.sub(r"\\\1", text), quote=False)


def values_html(z: np.ndarray, digits: int = 3, size: int = 12, style: str = "") -> str:
    """z's values in a line, ``z1 +0.123``, each coloured as its bar."""
    cells = "".join(
        f"<span style='color:{color(v)}'>{dim_label('z', i)}&nbsp;{v:+.{digits}f}</span> "
        for i, v in enumerate(z)
    )
    style = ";".join(
        filter(None, [f"font-family:monospace;font-size:{size}px;line-height:1.6", style])
    )
    return f"<div class='{names.Z_VALUES}' style='{style}'>{cells}</div>"


def stats_html(s: dict[str, float]) -> str:
    """The statistics LatentModel.statistics gives for the mode (μ and σ only in sample mode)."""
    parts = []
    if "mu_mean" in s:
        parts.append(f"μ: {s['mu_mean']:+.2f} ± {s['mu_std']:.2f}")
        parts.append(f"σ: {s['sigma_mean']:.2f} ± {s['sigma_std']:.2f}")
    if "z_mean" in s:
        parts.append(
            f"z: mean {s['z_mean']:+.3f}, std {s['z_std']:.3f}, "
            f"min {s['z_min']:+.3f}, max {s['z_max']:+.3f}"
        )
    style = "font-size:13px;color:#444;margin-top:4px"
    return f"<div class='{names.STATS}' style='{style}'>" + " &nbsp;|&nbsp; ".join(parts) + "</div>"


def model_facts(model: LatentModel) -> dict[str, str]:
    """The loaded model's facts as text (from the checkpoint: not yet escaped), by name."""
    info = model.info

    def show(value, fmt="{}"):
        return fmt.format(value) if value is not None else "unknown"

    return {
        "model": info.name,
        "checkpoint": model.public_checkpoint,
        "latent size": str(info.latent_dim),
        "image": shape_text(info.image_shape),
        "β": show(info.beta, "{:g}"),
        "epochs": show(info.epochs),
        "data set": show(info.dataset),
        "validation loss": show(info.final_val_loss, "{:.1f}"),
        "pixels": OUTPUT_WORDS.get(info.output, info.output),
        "saved by": FORMAT_WORDS.get(info.format, info.format),
    }


def info_html(model: LatentModel) -> str:
    """The model's facts (name, checkpoint, latent size, β, ...) as a table."""
    return facts_table("Model", model_facts(model), names.INFO)


def facts_html(title: str, facts: dict[str, str]) -> str:
    """A titled list, one fact a line, its value in bold (all escaped: shown as written)."""
    items = "".join(
        f"<li>{html.escape(key)}: <strong>{html.escape(value)}</strong></li>"
        for key, value in facts.items()
    )
    return f"<h3 style='margin:0.5em 0'>{html.escape(title)}</h3><ul>{items}</ul>"


def facts_table(title: str, facts: dict, css_class: str) -> str:
    """A titled two-column table: one row per fact, its name then its value (escaped)."""
    rows = [
        f"<tr><th style='{CELL};text-align:left'>{html.escape(key)}</th>"
        f"<td style='{CELL};text-align:left'>{html.escape(str(value))}</td></tr>"
        for key, value in facts.items()
    ]
    return table(title, "", rows, css_class)


def table(title: str, head: str, rows: list[str], css_class: str) -> str:
    """A titled table of ``rows`` (HTML ``<tr>`` rows) under the header cells ``head``."""
    head = f"<tr>{head}</tr>" if head else ""
    return (
        f"<div class='{css_class}'><h3 style='margin:8px 0 4px'>{title}</h3>"
        "<table style='border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums'>"
        f"{head}{''.join(rows)}</table></div>"
    )
