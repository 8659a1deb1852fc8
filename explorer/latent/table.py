"""The latent controls in one table: each vector's bounds, step, symbol, words, CSS class and
its keys in a link and on the command line; the seed's bounds; the modes.

LatentModel, the JSON and URL state, the app's sliders, the living page and the command line
read these facts here, so that a bound or a name changes in one place. Imports nothing heavy
(no param, no torch), so that the command line can read it before anything else loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer import names
from explorer.latent.vector import Bounds


@dataclass(frozen=True)
class LatentSlider:
    """One of LatentModel's per-dimension vectors and the sliders that set it."""

    name: str  # the LatentModel parameter, and its key in a JSON state
    key: str  # its key in a link's query, and its command-line option (``--z``)
    bounds: Bounds
    symbol: str  # one dimension is named symbol + its number counted from 1 (``μ1``)
    words: str  # what it is, capitalised (tooltips, docs)
    css: str  # the class prefix: dimension i's slider has class ``{css}-{i}`` (explorer.names)
    step: float = 0.01

    @property
    def option(self) -> str:
        return f"--{self.key}"

    def title(self, index: int) -> str:
        """Dimension ``index``'s slider title (``μ1`` for index 0)."""
        return dim_label(self.symbol, index)

    def css_class(self, index: int) -> str:
        return names.slider_class(self.css, index)

    def help(self, index: int) -> str:
        """Dimension ``index``'s tooltip, as the original app's (counting from 1)."""
        return f"{self.words} for latent dimension {index + 1}"


MU = LatentSlider("mu", "mu", Bounds(-3.0, 3.0), "μ", "Mean", names.MU)
SIGMA = LatentSlider("sigma", "sigma", Bounds(0.0, 2.0), "σ", "Standard deviation", names.SIGMA)
Z_SET = LatentSlider("z_set", "z", Bounds(-4.0, 4.0), "z", "Value", names.Z)
SLIDERS = {slider.name: slider for slider in (MU, SIGMA, Z_SET)}  # in the order pages show them

SEED_BOUNDS = Bounds(0, 2**31 - 1)  # the seed of ε: a whole number
# The seeds the explorer draws itself (Resample): short enough to read aloud; any seed in
# SEED_BOUNDS still works when typed or given in a link or a JSON state.
DRAWN_SEED_BOUNDS = Bounds(0, 99_999)
MODES = ("sample", "prior", "deterministic")
MODE_LABELS = {
    "sample": "Sample z ~ N(μ, σ²)",
    "prior": "Prior z ~ N(0, I)",
    "deterministic": "Set z exactly",
}
MODE_HELP = "Control how to sample from the latent space"


def dim_label(symbol: str, index: int) -> str:
    """A dimension's name as people read it, counting from 1 as the original app did (μ1, z1).
    Indices, CSS classes (``latent-mu-0``) and URLs count from 0."""
    return f"{symbol}{index + 1}"
