"""The bare-Bokeh floor for a page open: a slider per latent dimension, one image, no Panel.

bokeh serve benchmarks/reference_app_sliders.py --args [--checkpoint CKPT] [--sigma]

One μ slider per dimension (12 for mnist-beta1), the number issue #19 compares a page open
against; with ``--sigma`` also a σ slider per dimension (24 in all, the sliders our sample mode
shows). Any slider decodes z = μ + σ·ε (the seed-0 ε, as the explorer's) and replaces the image
column of one source, as ``reference_app.py`` does; the image is grey or Bokeh's packed RGBA.
"""

import sys

import numpy as np
import torch
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Slider
from bokeh.plotting import figure

from explorer import checkpoint, names
from explorer.compute import noise
from explorer.compute.decoding import decode_image

torch.set_num_threads(1)
source_name = sys.argv[sys.argv.index("--checkpoint") + 1] if "--checkpoint" in sys.argv else None
with_sigma = "--sigma" in sys.argv
model = checkpoint.load_shared(source_name or "mnist-beta1").model
eps = noise.standard_normal(0, model.latent_dim)  # the app's seed-0 ε
channels, height, width = model.image_shape
mu = np.zeros(model.latent_dim, dtype=np.float32)  # this session's μ and σ
sigma = np.ones(model.latent_dim, dtype=np.float32)


def image() -> np.ndarray:
    picture = decode_image(model, mu + sigma * eps)[::-1]
    if channels == 1:
        return picture
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = np.round(picture * 255)
    rgba[..., 3] = 255
    return rgba.view(np.uint32)[..., 0]


source = ColumnDataSource({"image": [image()]}, name=names.IMAGE_SOURCE)
plot = figure(width=336, height=336, x_range=(0, width), y_range=(0, height), toolbar_location=None)
if channels == 1:
    plot.image("image", source=source, x=0, y=0, dw=width, dh=height, palette="Greys256")
else:
    plot.image_rgba("image", source=source, x=0, y=0, dw=width, dh=height)


def slider(vector: np.ndarray, index: int, start: float, end: float, title: str, css: str):
    widget = Slider(start=start, end=end, value=float(vector[index]), step=0.01, title=title,
                    css_classes=[css])  # fmt: skip

    def moved(_attr, _old, new):
        vector[index] = new
        source.data.update(image=[image()])

    widget.on_change("value", moved)
    return widget


rows = []
for i in range(model.latent_dim):
    pair = [slider(mu, i, -3, 3, f"μ{i}", names.mu_slider(i))]
    if with_sigma:
        pair.append(slider(sigma, i, 0, 3, f"σ{i}", names.sigma_slider(i)))
    rows.append(row(*pair))
curdoc().add_root(column(plot, *rows))
