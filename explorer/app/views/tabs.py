"""The exploration views of one session and the tabs that hold them, after the "Explore" tab.
Only the shown view computes; the others catch up when their tab is opened."""

from __future__ import annotations

import panel as pn

from explorer import names
from explorer.app.views.compare import CompareView
from explorer.app.views.encode import EncodeView
from explorer.app.views.interpolation import InterpolationView
from explorer.app.views.kl import KLView
from explorer.app.views.map import MapView
from explorer.app.views.samples import SamplesView
from explorer.app.views.session import SessionData
from explorer.app.views.traversal import TraversalView
from explorer.latent.space import LatentModel

VIEWS = (TraversalView, SamplesView, EncodeView, InterpolationView, MapView, CompareView, KLView)


class ExplorationViews:
    """All views of one session and the tabs that hold them (hidden tabs compute nothing)."""

    def __init__(self, model: LatentModel, data_dir: str | None = None):
        self.data = SessionData(model, data_dir)
        self.views = [cls(model, self.data) for cls in VIEWS]
        # One watcher for all views, not one each: param spends ~12 µs on each watcher it calls,
        # and a slider step would call seven.
        followed = {"info", *(name for view in self.views for name in view.follows)}
        model.param.watch(self._changed, sorted(followed))

    def _changed(self, *events) -> None:
        for view in self.views:
            mine = [event for event in events if event.name in ("info", *view.follows)]
            if mine:
                view.changed(mine)

    def follow_order(self, sliders) -> None:
        """Order the views' dimensions as ``sliders`` (their ``by_kl``, "Order by KL") do, now
        and whenever it changes: one checkbox that every view follows."""

        def order(*_):
            for view in self.views:
                if "by_kl" in view.param:  # the views that list dimensions
                    view.by_kl = sliders.by_kl

        sliders.param.watch(order, "by_kl")
        order()

    def tabs(self, explore_tab) -> pn.Tabs:
        """Tabs: "Explore" (``explore_tab``) first, then one per view."""
        tabs = pn.Tabs(
            ("Explore", explore_tab),
            *[(view.title, view) for view in self.views],
            dynamic=True,
            css_classes=[names.TABS],
            sizing_mode="stretch_width",
        )
        tabs.param.watch(lambda event: self.show(event.new - 1), "active")
        return tabs

    def show(self, index: int) -> None:
        """Show view ``index`` (-1: none), hide the others."""
        for k, view in enumerate(self.views):
            if k != index:
                view.shown = False
        if 0 <= index < len(self.views):
            self.views[index].shown = True
