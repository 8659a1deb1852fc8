"""The exploration views of one session and the tabs that hold them, after the "Explore" tab.
Only the shown view computes; the others catch up when their tab is opened. A view is made when
its tab is first opened: making all of them cost 50–100 ms of each page open's server CPU
(#19), for tabs most visitors never open."""

from __future__ import annotations

import panel as pn

from explorer import names
from explorer.app.views.arithmetic import ArithmeticView
from explorer.app.views.compare import CompareView
from explorer.app.views.encode import EncodeView
from explorer.app.views.factors import FactorsView
from explorer.app.views.interpolation import InterpolationView
from explorer.app.views.kl import KLView
from explorer.app.views.map import MapView
from explorer.app.views.samples import SamplesView
from explorer.app.views.session import SessionData
from explorer.app.views.traversal import TraversalView
from explorer.latent.space import LatentModel

VIEWS = (
    TraversalView,
    SamplesView,
    EncodeView,
    InterpolationView,
    MapView,
    CompareView,
    KLView,
    ArithmeticView,
    FactorsView,
)


class ExplorationViews:
    """All views of one session and the tabs that hold them (hidden tabs compute nothing)."""

    def __init__(self, model: LatentModel, data_dir: str | None = None):
        self.model = model
        self.data = SessionData(model, data_dir)
        self._made: dict[int, pn.viewable.Viewer] = {}  # index in VIEWS → the view, once made
        self._boxes: list[pn.Column] = []  # each view's tab, empty until the view is made
        self._by_kl = False
        # One watcher for all views, not one each: param spends ~12 µs on each watcher it calls,
        # and a slider step would call seven.
        followed = {"info", *(name for cls in VIEWS for name in cls.follows)}
        model.param.watch(self._changed, sorted(followed))

    @property
    def views(self) -> list:
        """Every view, in VIEWS' order (made now, those not made yet)."""
        return [self.view(k) for k in range(len(VIEWS))]

    def view(self, index: int):
        """View ``index``, made on first use: a view made late starts stale and unbuilt, so it
        catches up with the model when shown, as a hidden one does."""
        if index not in self._made:
            view = self._made[index] = VIEWS[index](self.model, self.data)
            if "by_kl" in view.param:
                view.by_kl = self._by_kl
            if index < len(self._boxes):
                self._boxes[index].objects = [view]
        return self._made[index]

    def _changed(self, *events) -> None:
        for view in list(self._made.values()):
            mine = [event for event in events if event.name in ("info", *view.follows)]
            if mine:
                view.changed(mine)

    def follow_order(self, sliders) -> None:
        """Order the views' dimensions as ``sliders`` (their ``by_kl``, "Order by KL") do, now
        and whenever it changes: one checkbox that every view follows."""

        def order(*_):
            self._by_kl = sliders.by_kl
            for view in list(self._made.values()):
                if "by_kl" in view.param:  # the views that list dimensions
                    view.by_kl = sliders.by_kl

        sliders.param.watch(order, "by_kl")
        order()

    def tabs(self, explore_tab) -> pn.Tabs:
        """Tabs: "Explore" (``explore_tab``) first, then one per view."""
        self._boxes = [
            pn.Column(*([self._made[k]] if k in self._made else []), sizing_mode="stretch_width")
            for k in range(len(VIEWS))
        ]
        tabs = pn.Tabs(
            ("Explore", explore_tab),
            *[(cls.title, box) for cls, box in zip(VIEWS, self._boxes, strict=True)],
            dynamic=True,
            css_classes=[names.TABS],
            sizing_mode="stretch_width",
        )
        tabs.param.watch(lambda event: self.show(event.new - 1), "active")
        return tabs

    def show(self, index: int) -> None:
        """Show view ``index`` (-1: none), hide the others."""
        for k, view in list(self._made.items()):
            if k != index:
                view.shown = False
        if 0 <= index < len(VIEWS):
            self.view(index).shown = True
