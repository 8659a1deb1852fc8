"""The bare-Bokeh floor: one μ slider decodes z and replaces the image column of one source.

bokeh serve benchmarks/reference_app.py --args --checkpoint CKPT

Same decode as the explorer (z = μ + σ·ε with σ = 1 and the seed-0 ε), no Panel, no HoloViews;
a colour model's image is written as Bokeh's packed RGBA, as the explorer writes it.
"""

import sys

import numpy as np
import torch
from bokeh.io import curdoc
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


channels, height, width = model.image_shape


def image_for(mu0: float) -> np.ndarray:
    z = eps.copy()
    z[0] += mu0
    image = decode_image(model, z)[::-1]
    if channels == 1:
        return image
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = np.round(image * 255)
    rgba[..., 3] = 255
    return rgba.view(np.uint32)[..., 0]


source = ColumnDataSource({"image": [image_for(0.0)]}, name=names.IMAGE_SOURCE)
plot = figure(width=336, height=336, x_range=(0, width), y_range=(0, height), toolbar_location=None)
if channels == 1:
    plot.image("image", source=source, x=0, y=0, dw=width, dh=height, palette="Greys256")
else:
    plot.image_rgba("image", source=source, x=0, y=0, dw=width, dh=height)
slider = Slider(start=-3, end=3, value=0, step=0.01, title="μ0", css_classes=[names.mu_slider(0)])
slider.on_change("value", lambda _attr, _old, new: source.data.update(image=[image_for(new)]))
curdoc().add_root(column(slider, plot))
