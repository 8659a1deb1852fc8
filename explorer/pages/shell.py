"""What both pages are built in: the model a page is for, Bokeh's page template with only the
inline scripts and styles its models need, the page's header, and writing the file.

Panel's own save is not used: it still fetches CSS and icons from a CDN (panel #7073). Nor is
Bokeh's plain inline page: it also links the external JS and CSS files of every model class
imported in the process, used or not, and Panel's (imported by HoloViews) are relative URLs (an
ES-module shim; Tabulator's CSS once its widget is imported) that a page opened from a file cannot
load. So the template takes only the inline scripts and styles of the Bokeh bundle that the
page's own models need.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path

from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.embed.bundle import Bundle, bundle_for_objs_and_resources
from bokeh.resources import INLINE

from explorer.latent import state
from explorer.latent.space import LatentModel

# Bokeh's page template (a string extends it): resources inline only; a page adds its contents.
# A phone lays the page out at its own width (the meta tag), with narrower margins.
HEAD = """
{% block preamble %}<meta name="viewport" content="width=device-width, initial-scale=1">
{% endblock %}
{% block css_resources %}{{ inline_css }}
<style>body { font-family: sans-serif; margin: 8px 16px 16px; color: #111; }
pre { overflow-x: auto; }
@media (max-width: 600px) { body { margin: 8px; } }</style>
{% endblock %}
{% block js_resources %}{{ inline_js }}{% endblock %}
"""

# Bokeh styles: a row whose items wrap when the page is narrow, and an item in it that takes
# the width left, down to 300 px (Bokeh's own flex basis, 0, never wraps).
WRAP, BESIDE = {"flex-wrap": "wrap"}, {"flex": "1 1 300px"}


def model_for(source: LatentModel | Mapping) -> LatentModel:
    """The model of a page: a LatentModel as it is, a state dict (see explorer.latent.state)
    rebuilt. Raises ValueError when no model is loaded (the model's message says why)."""
    model = source if isinstance(source, LatentModel) else state.model_from_json(source)
    if model.image is None or model.info is None:
        raise ValueError(model.message or "no model loaded: nothing to export")
    return model


def page(root, title: str, contents: str, text: dict[str, str]) -> str:
    """The page of ``root`` (a layout or a Document): Bokeh's template with :data:`HEAD` and
    ``contents`` (its ``{% block contents %}``), whose variables ``text`` holds (HTML)."""
    return file_html(
        root,
        resources=INLINE,
        title=title,
        template=HEAD + contents,
        template_variables=inline_resources(root) | text,
    )


def inline_resources(root) -> dict[str, str]:
    """The <script> and <style> tags of the Bokeh bundle for ``root``, less any linked file."""
    roots = list(root.roots) if isinstance(root, Document) else [root]
    bundle = bundle_for_objs_and_resources(roots, INLINE)
    js, css = Bundle(js_raw=bundle.js_raw, css_raw=bundle.css_raw, hashes=bundle.hashes)
    return {"inline_js": js, "inline_css": css}


def header_html(model: LatentModel, subline: str) -> str:
    """The page's title, with the model's name, over ``subline`` (HTML)."""
    name = html.escape(model.info.name)
    return (
        f"<h2 style='margin:4px 0'>VAE latent explorer: {name}</h2>"
        f"<div style='color:#444;margin-bottom:8px'>{subline}</div>"
    )


def write(path: str | os.PathLike, text: str) -> Path:
    """Write a page to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
