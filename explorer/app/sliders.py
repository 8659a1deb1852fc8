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
        self._sliders: dict[tuple[str, int], Slider] = {}
        self._syncing = False  # moving sliders to the model's values: not a user's move
        self._moving = False  # a slider's own move is being written to the model
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

    # -- building --------------------------------------------------------------------------
    def _slider(self, name: str, index: int) -> Slider:
        key = (name, index)
        if key not in self._sliders:
            kind = SLIDERS[name]
            css = kind.css_class(index)
            inactive = " (inactive)" if index in self._inactive else ""
            slider = Slider(
                start=kind.bounds.low,
                end=kind.bounds.high,
                step=kind.step,
                value=getattr(self.model, name)[index],
                title=kind.title(index) + inactive,
                format="0[.]00",
                css_classes=[css],
                html_attributes={"title": kind.help(index)},  # a tooltip
                sizing_mode="stretch_width",
                margin=(2, 8, 2, 8),
            )
            untrusted.on_change(
                slider,
                "value",
                f"slider {css}",
                lambda _attr, _old, new: self._written(slider, name, index, new),
            )
            self._sliders[key] = slider
        return self._sliders[key]

    def _written(self, slider: Slider, name: str, index: int, value) -> None:
        """A slider moved: write its value to the model.

        Only a hostile client sends what the slider cannot show: a number out of its bounds is
        clamped, anything else (NaN, ±inf, a string) refused; either way the slider is set to
        the value the model holds, so that it never shows one the image does not.
        """
        if self._syncing:
            return
        kind = SLIDERS[name]
        clamped = kind.bounds.clamp(value)
        if clamped != value:
            why = "not a number" if clamped is None else f"clamped to {clamped:g}"
            untrusted.refused(f"slider {kind.css_class(index)}", value, why)
        if clamped is not None:
            self._moving = True
            try:
                self.model.set_value(name, index, clamped)
            finally:
                self._moving = False
        if clamped != value:
            self._syncing = True
            try:  # in Bokeh's own callback: the document lock is held, a direct write is fine
                slider.value = getattr(self.model, name)[index]
            finally:
                self._syncing = False

    def _rebuild(self, *_):
        """New model: forget the old sliders and lay out the first page. One of the same size
        and order keeps them (they follow the model's values): a rebuild costs ~0.2 s of the
        event loop, which every session waits for."""
        n = self.model.latent_dim
        usage = self._usage() if self.by_kl and self._usage is not None else None
        pages = divergence.dimension_pages(n, usage[0] if usage is not None else None) or [[]]
        inactive = {d for d in range(n) if not usage[1][d]} if usage is not None else set()
        label = "by KL {}–{}" if usage is not None else "{}–{}"
        size = divergence.PAGE_SIZE
        options = {
            label.format(p * size + 1, p * size + len(dims)): p for p, dims in enumerate(pages)
        }
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

    @param.depends("page", watch=True)
    def _show_page(self):
        self._pager.value = self.page
        dims = self._pages[self.page] if self.page < len(self._pages) else []
        sample = pn.GridBox(
            *[
                pn.pane.Bokeh(self._slider(name, i), sizing_mode="stretch_width")
                for i in dims
                for name in ("mu", "sigma")
            ],
            ncols=2,
            sizing_mode="stretch_width",
        )
        exact = pn.GridBox(
            *[pn.pane.Bokeh(self._slider("z_set", i), sizing_mode="stretch_width") for i in dims],
            ncols=2,
            sizing_mode="stretch_width",
        )
        self._groups = {"sample": sample, "deterministic": exact}
        self._body.objects = [sample, exact]
        self._show_mode()

    def _show_mode(self, *_):
        mode = self.model.mode
        for group_mode, group in self._groups.items():
            group.visible = group_mode == mode
        self._prior_note.visible = mode == "prior"

    def _sync_values(self, *events):
        """The model changed (reset, URL, ...): move the sliders that show it.

        Under ``pn.io.hold``: a button's event runs outside the document lock, where a direct
        write to a Bokeh model would fail. A slider's own move changes no other slider: skipped.
        """
        if self._moving:
            return
        moves = [
            (slider, value)
            for event in events
            for i, value in enumerate(event.new)
            if (slider := self._sliders.get((event.name, i))) is not None and slider.value != value
        ]
        if not moves:
            return
        self._syncing = True
        try:
            with pn.io.hold():
                for slider, value in moves:
                    slider.value = value
        finally:
            self._syncing = False
