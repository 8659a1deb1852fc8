"""DimensionSliders: the μ/σ or z sliders of a LatentModel, a page of dimensions at a time.

The sliders are Bokeh ``Slider`` models whose ``on_change`` callbacks Bokeh runs as soon as the
browser's message arrives (Panel widgets would add a 50 ms server-side debounce); they write
LatentModel parameters and never call torch.
"""

from __future__ import annotations

import panel as pn
import param
from bokeh.models import Slider

from explorer import names
from explorer.app import untrusted
from explorer.compute import divergence
from explorer.latent.space import LatentModel
from explorer.latent.table import SLIDERS


class DimensionSliders(pn.viewable.Viewer):
    """μ/σ (sample mode) or z (deterministic mode) sliders, a page of dimensions at a time.

    ``usage()``, when given, returns (KL per dimension, active mask) over a data sample, or None;
    with it, "order by KL" pages the dimensions most used first and marks the inactive ones.
    """

    page = param.Integer(default=0, bounds=(0, None))
    by_kl = param.Boolean(default=False, label="Order by KL (most used first), mark inactive")

    def __init__(self, model: LatentModel, usage=None, **params):
        super().__init__(**params)
        self.model = model
        self._usage = usage
        self._pages: list[list[int]] = []
        self._inactive: set[int] = set()
        self._factors: dict[int, str] = {}  # dimension → the factors it carries (name_factors)
        self._sliders: dict[tuple[str, int], Slider] = {}
        self._shown: dict[str, list[Slider]] = {}  # vector name → its sliders on the page
        self._groups: dict[str, pn.GridBox] = {}  # mode → the grid of its sliders on the page
        self._pager = pn.widgets.Select(
            label="Dimensions", width=160, visible=False, css_classes=[names.PAGER]
        )
        self._pager.param.watch(lambda e: setattr(self, "page", e.new), "value")
        self._body = pn.Column(sizing_mode="stretch_width")
        self._prior_note = pn.pane.Markdown(
            "z is drawn from the prior N(0, I): μ and σ do not apply. Press **Resample**.",
            visible=False,
        )
        toggle = pn.widgets.Checkbox.from_param(
            self.param.by_kl, css_classes=[names.ORDER_KL], visible=usage is not None
        )
        self._layout = pn.Column(
            pn.Row(self._pager, toggle), self._prior_note, self._body, sizing_mode="stretch_width"
        )
        self.param.watch(self._rebuild, ["by_kl"])
        model.param.watch(self._rebuild, ["info"])
        model.param.watch(self._show_mode, ["mode"])
        model.param.watch(self._sync_values, ["mu", "sigma", "z_set"])
        self._rebuild()

    def __panel__(self):
        return self._layout

    def shown(self, name: str) -> list[Slider]:
        """The sliders of vector ``name`` (``mu``, ``sigma`` or ``z_set``) on the page laid out,
        in its order (whether their mode's grid is visible or not; built now if not yet)."""
        if name not in self._shown:
            self._shown[name] = [self._slider(name, i) for i in self._dims()]
        return list(self._shown[name])

    # -- building --------------------------------------------------------------------------
    def _slider(self, name: str, index: int) -> Slider:
        key = (name, index)
        if key not in self._sliders:
            kind = SLIDERS[name]
            css = kind.css_class(index)
            slider = Slider(
                start=kind.bounds.low,
                end=kind.bounds.high,
                step=kind.step,
                value=getattr(self.model, name)[index],
                title=self._title(name, index),
                format="0[.]00",
                css_classes=[css],
                html_attributes={"title": kind.help(index)},  # a tooltip
                sizing_mode="stretch_width",
                margin=(2, 8, 2, 8),
            )
            label = f"slider {css}"
            untrusted.on_change(
                slider,
                "value",
                label,
                lambda _attr, _old, new: self._written(slider, name, index, new, label),
            )
            self._sliders[key] = slider
        return self._sliders[key]

    def _title(self, name: str, index: int) -> str:
        """``μ3``, with the factor it carries on μ and z (``z3 ≈ x``) and `` (inactive)``."""
        factor = self._factors.get(index) if name != "sigma" else None
        named = f" ≈ {factor}" if factor else ""
        inactive = " (inactive)" if index in self._inactive else ""
        return SLIDERS[name].title(index) + named + inactive

    def name_factors(self, named: dict[int, str]) -> None:
        """Name on each dimension's μ and z sliders the factors it carries (dimension → names,
        from the Factors view's scores); {} names none."""
        if named == self._factors:
            return
        self._factors = dict(named)
        with pn.io.hold():  # run outside the document lock too (a load's apply)
            for (name, index), slider in self._sliders.items():
                slider.title = self._title(name, index)

    def _written(self, slider: Slider, name: str, index: int, value, label: str) -> None:
        """A slider moved: write its value to the model. A move to the value the model holds
        (the echo of :meth:`_sync_values` setting the slider) changes nothing.

        Only a hostile client sends what the slider cannot show: a number out of its bounds is
        clamped, anything else (NaN, ±inf, a string) refused; either way the slider is set to
        the value the model holds, so that it never shows one the image does not.
        """
        clamped = untrusted.clamped(label, value, SLIDERS[name].bounds)
        if clamped is not None:
            with pn.io.hold():  # all it changes (image, bars, where z stands) in one patch
                self.model.set_value(name, index, clamped)
        if clamped != value:  # in Bokeh's own callback: the document lock is held, write directly
            slider.value = getattr(self.model, name)[index]

    def _rebuild(self, *_):
        """New model: forget the old sliders and lay out the first page. One of the same size
        and order keeps them (they follow the model's values): a rebuild costs ~0.2 s of the
        event loop, which every session waits for."""
        usage = self._usage() if self.by_kl and self._usage is not None else None
        order = divergence.dimension_order(self.model.latent_dim, usage)  # as every view's
        pages = [list(page) for page in order.pages] or [[]]
        inactive = set(order.inactive)
        options = {label: p for p, label in enumerate(order.labels())}
        if self._sliders and (pages, inactive, options) == (
            self._pages,
            self._inactive,
            self._pager.options,
        ):
            return
        self._sliders.clear()
        self._pages, self._inactive = pages, inactive
        self._pager.options = options
        self._pager.visible = len(pages) > 1
        if self.page != 0:
            self.page = 0  # triggers _show_page
        else:
            self._show_page()

    def _dims(self) -> list[int]:
        return self._pages[self.page] if self.page < len(self._pages) else []

    @param.depends("page", watch=True)
    def _show_page(self):
        self._pager.value = self.page
        self._shown, self._groups = {}, {}
        self._body.objects = []
        self._show_mode()

    def _show_mode(self, *_):
        """Show the mode's grid; a mode's sliders are built when it is first shown (the z
        sliders of deterministic mode are a third of a page open's sliders, rarely used)."""
        mode = self.model.mode
        grid_mode = "deterministic" if mode == "deterministic" else "sample"
        if grid_mode not in self._groups:
            if grid_mode == "sample":
                pairs = zip(self.shown("mu"), self.shown("sigma"), strict=True)  # μ_d beside σ_d
                grid = _grid([slider for pair in pairs for slider in pair])
            else:
                grid = _grid(self.shown("z_set"))
            self._groups[grid_mode] = grid
            self._body.objects = [*self._body.objects, grid]
        for group_mode, group in self._groups.items():
            group.visible = group_mode == grid_mode and mode != "prior"
        self._prior_note.visible = mode == "prior"

    def _sync_values(self, *events):
        """The model changed (reset, URL, ...): move the sliders of the dimensions that changed
        and that do not show their new value. So a slider's own move (the one dimension that
        changed, shown already) moves none, at the cost of comparing two lists; a slider moved
        here calls :meth:`_written` with the model's own value, which changes nothing.

        Under ``pn.io.hold``: a button's event runs outside the document lock, where a direct
        write to a Bokeh model would fail.
        """
        moves = []
        for event in events:
            new, old = event.new, event.old
            if old is None or len(old) != len(new):
                changed = range(len(new))
            else:
                changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
            for i in changed:
                slider = self._sliders.get((event.name, i))
                if slider is not None and slider.value != new[i]:
                    moves.append((slider, new[i]))
        if moves:
            with pn.io.hold():
                for slider, value in moves:
                    slider.value = value


def _grid(sliders: list[Slider]) -> pn.GridBox:
    """Sliders two to a row, across the page.

    Built after the page is served, when the session's ``pn.config.design`` is the template's:
    a pane would take it as its own design, the template then leaves it alone, and a Bokeh pane
    never styles the model it wraps (round themed handles became bare squares). ``design=None``
    leaves them to the template, which styles them as it styled the first page's. (One pane
    around a Bokeh grid of all the sliders would cost less at a page open, but the template
    styles only the model a pane wraps: the sliders in the grid lost their theme.)
    """
    return pn.GridBox(
        *[pn.pane.Bokeh(slider, sizing_mode="stretch_width", design=None) for slider in sliders],
        ncols=2,
        sizing_mode="stretch_width",
        design=None,
    )
