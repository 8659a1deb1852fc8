"""The files of ``train.py --save-plots``: the original app's three PNGs and the curves as a
web page. (The curves PNG itself is drawn by explorer.training.curves.)"""

from __future__ import annotations

from pathlib import Path

import torch

from explorer.model import VAE
from explorer.training import curves
from explorer.training.loop import History

# The original app's file names.
CURVE_PNG_NAMES = ("vae_training_curves.png", "vae_reconstructions.png", "vae_samples.png")


@torch.no_grad()
def save_plots(model: VAE, history: History, images: torch.Tensor, plot_dir: Path) -> list[Path]:
    """The original app's three plots, under its file names, and the curves as a web page;
    returns the paths written.

    ``vae_training_curves.png``: loss, reconstruction and KL per epoch (curves.draw).
    ``vae_reconstructions.png``: 16 images (top row) over their reconstructions from z = μ.
    ``vae_samples.png``: 64 decodings of z ~ N(0, I) (``VAE.sample``), seeded.
    ``training_curves.html``: the same curves drawn with HoloViews, rendered to a standalone Bokeh
    page with its JavaScript inline (it opens offline; ``hv.save`` goes through Panel, whose page
    fetches CSS from a CDN).
    """
    import holoviews as hv  # imported here: plotting is optional and slow to import
    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    from torchvision.utils import save_image

    plot_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = images[:16]
    raw, _, _ = model(x)
    paths = [plot_dir / name for name in CURVE_PNG_NAMES]
    panels = [
        ("Loss (recon + beta*KL)", history.train_loss, history.val_loss),
        ("Reconstruction", history.train_recon, history.val_recon),
        ("KL", history.train_kl, history.val_kl),
    ]
    curves.draw(panels, history.epochs).save(paths[0], format="PNG")
    save_image(torch.cat([x, model.to_image(raw)]).cpu(), paths[1], nrow=len(x), pad_value=1.0)
    samples = model.sample(64, generator=torch.Generator().manual_seed(0))
    save_image(samples.cpu(), paths[2], nrow=8, pad_value=1.0)

    hv.renderer("bokeh")  # loads the backend, so that .opts() below applies to it
    layout = []
    for title, train, val in panels:
        drawn = []
        for label, values in (("train", train), ("validation", val)):
            points = (curves.epochs_of(values, history.epochs), values)
            drawn += [
                hv.Curve(points, "epoch", "per image", label=label),
                hv.Scatter(points, "epoch", "per image", label=label).opts(size=5),
            ]
        layout.append(hv.Overlay(drawn).opts(title=title, width=420, height=320))
    html = file_html(
        hv.render(hv.Layout(layout).cols(3).opts(shared_axes=False), backend="bokeh"),
        INLINE,
        "VAE training curves",
    )
    paths.append(plot_dir / "training_curves.html")
    paths[-1].write_text(html, encoding="utf-8")
    return paths
