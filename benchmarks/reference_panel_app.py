"""Panel's floor for a page open: reference_app_sliders.py's sliders and image inside the
Bootstrap template our app uses, and nothing else.

panel serve benchmarks/reference_panel_app.py --args [--checkpoint CKPT]

The same Bokeh models as the bare-Bokeh reference (one μ slider per dimension, one image, the
same decode), each part in one ``pn.pane.Bokeh`` in the template's main area: what a page open
costs before any of our own components. benchmarks/page_open.py serves it as ``panel_template``.
"""

import sys

import numpy as np
import panel as pn
import torch
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Slider
from bokeh.plotting import figure

from explorer import checkpoint, names
from explorer.compute import noise
from explorer.compute.decoding import decode_image

torch.set_num_threads(1)
source_name = sys.argv[sys.argv.index("--checkpoint") + 1] if "--checkpoint" in sys.argv else None
model = checkpoint.load_shared(source_name or "mnist-beta1").model
eps = noise.standard_normal(0, model.latent_dim)  # the app's seed-0 ε
height, width = model.image_shape[1:]
mu = np.zeros(model.latent_dim, dtype=np.float32)  # this session's μ


def image() -> np.ndarray:
    picture = decode_image(model, mu + eps)[::-1]
    return picture if picture.ndim == 2 else picture.mean(axis=-1)  # a colour model, in grey


source = ColumnDataSource({"image": [image()]}, name=names.IMAGE_SOURCE)
plot = figure(width=336, height=336, x_range=(0, width), y_range=(0, height), toolbar_location=None)
plot.image("image", source=source, x=0, y=0, dw=width, dh=height, palette="Greys256")


def slider(index: int) -> Slider:
    widget = Slider(start=-3, end=3, value=0, step=0.01, title=f"μ{index}",
                    css_classes=[names.mu_slider(index)])  # fmt: skip

    def moved(_attr, _old, new):
        mu[index] = new
        source.data.update(image=[image()])

    widget.on_change("value", moved)
    return widget


sliders = column(*[slider(i) for i in range(model.latent_dim)], sizing_mode="stretch_width")
pn.template.BootstrapTemplate(
    title="reference",
    main=[pn.Column(pn.pane.Bokeh(plot), pn.pane.Bokeh(sliders, sizing_mode="stretch_width"))],
).servable()
