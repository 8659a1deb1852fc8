"""Helpers for the tests that drive a session's exploration views in process."""

from __future__ import annotations

import numpy as np

from explorer import plots


def shown(views, css):
    """Show the view of class ``css`` among ``views`` (an ExplorationViews) and return it."""
    index = next(k for k, v in enumerate(views.views) if v.css == css)
    views.show(index)
    return views.views[index]


def pixels(plot) -> np.ndarray:
    """A plot's image as the user sees it, top row first: H×W as written (8-bit grey, or
    floats), or RGB H×W×3 from packed RGBA."""
    data = np.asarray(plot.source.data[plots.IMAGE_COLUMN][0])[::-1]
    if data.dtype == np.uint32:  # RGBA packed, as Bokeh's image_rgba takes it
        return data.view(np.uint8).reshape(*data.shape, 4)[..., :3]
    return data
