"""The Compare view: the same z decoded by several checkpoints of the same latent size, side by
side; the zoo's siblings of the model are offered and chosen first."""

from __future__ import annotations

import functools
import html

import panel as pn
import param

from explorer import checkpoint as ckpt
from explorer import names, zoo
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import grid_element, ticks
from explorer.compute import grids
from explorer.compute.device import resolve_device
from explorer.plots import InPlacePlot, render, write_image


def comparable(source: str, access, device: str, latent_dim: int) -> tuple[object, str]:
    """(network, "") of checkpoint ``source`` when it has ``latent_dim`` latent dimensions, else
    (None, why not, as HTML); reads the file, in any thread."""
    try:
        loaded = ckpt.load_shared(access.check(source), device=device)
    except ckpt.CheckpointError as exc:
        return None, html.escape(str(exc))
    if loaded.info.latent_dim != latent_dim:
        return None, (
            f"{html.escape(source)} has {loaded.info.latent_dim} latent dimensions; "
            f"this model has {latent_dim}"
        )
    return loaded.model, ""


class CompareView(View):
    """The same z decoded by several checkpoints of the same latent size, side by side."""

    title = "Compare models"
    css = names.COMPARE

    models = param.ListSelector(
        default=[], objects=[], label="Models to compare", doc="Checkpoints beside this model"
    )
    path = param.String(
        default="", label="Add a checkpoint", doc="A path or zoo name to offer and choose"
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        choice = pn.widgets.MultiChoice.from_param(
            self.param.models, css_classes=[names.COMPARE_MODELS], width=480
        )
        path = pn.widgets.TextInput.from_param(
            self.param.path, placeholder="path or zoo name", width=300,
            css_classes=[names.COMPARE_PATH], visible=model.access.paths_allowed,
        )  # fmt: skip
        self._note = markdown(self.param.note)
        self._header = pn.Row(choice, path)
        self._nets: dict[str, object] = {}  # source → VAE, for this session (weights are shared)
        self._offered_for = None  # the network the offered models were found for
        self._drawn_for: list[str] | None = None  # the models the plot shows, or is drawn for
        self.param.watch(self._chosen, "models")
        self.param.watch(lambda event: self.add(event.new), "path")

    def _chosen(self, event) -> None:
        if event.new != self._drawn_for:
            self.rebuild()

    def add(self, source: str) -> None:
        """Offer another checkpoint (same latent size) and choose it; read off the event loop."""
        source = (source or "").strip()
        if not source:
            return
        m = self.model
        read = functools.partial(
            comparable, source, m.access, resolve_device(m.device), m.latent_dim
        )
        self.data.background.run(read, functools.partial(self._added, source), key="compare-add")

    def _added(self, source: str, found: tuple) -> None:
        net, note = found
        if net is None or net.latent_dim != self.model.latent_dim:
            self.note = note or f"{html.escape(source)} no longer fits this model"
            return
        self._nets[source] = net
        self.param.models.objects = list(dict.fromkeys([*self.param.models.objects, source]))
        if source not in self.models:
            self.models = [*self.models, source]

    def skeleton(self) -> list:
        return [self._header, self._note]

    def prepare(self):
        m = self.model
        offer = self._offered_for is not m.vae  # a new model: offer the zoo's of its size
        self._drawn_for = None if offer else list(self.models)
        nets = {} if offer else dict(self._nets)
        where = m.access, resolve_device(m.device)
        return m.vae, m.info, self.z(), where, self._drawn_for, nets

    def draw(self, inputs):
        vae, info, z, (access, device), wanted, nets = inputs
        options = None
        if wanted is None:
            options = [
                name
                for name in zoo.available()
                if name != info.source and ckpt.load_shared(name).info.latent_dim == info.latent_dim
            ]
            wanted = [name for name in zoo.siblings(info.source) if name in options]
        chosen, notes = [], []
        for source in wanted:
            if source not in nets:
                net, note = comparable(source, access, device, info.latent_dim)
                if net is None:
                    notes.append(note)
                    continue
                nets[source] = net
            chosen.append(source)
        labels = [f"this ({info.name})", *chosen]
        element = grid_element(
            grids.side_by_side([vae, *map(nets.get, chosen)], z), 5.0, xticks=ticks(labels),
            title="The same z, decoded by each model",
        )  # fmt: skip
        figure = render(element, names.COMPARE_SOURCE)
        return figure, vae, options, wanted, nets, chosen, notes

    def install(self, drawn) -> None:
        figure, vae, options, wanted, nets, chosen, notes = drawn
        if options is not None:  # the offer for a new model, and its siblings chosen
            self._drawn_for = wanted
            self.param.models.objects = options
            self.models = wanted
            self._offered_for = vae
        self._nets, self._chosen_nets = nets, [nets[source] for source in chosen]
        if notes:
            self.note = notes[-1]
        self.plot = InPlacePlot.of(figure)
        self._body.objects = [
            self._header,
            self._note,
            pn.Column(pn.pane.Bokeh(self.plot.figure), scroll=True, sizing_mode="stretch_width"),
        ]

    def update(self) -> None:
        write_image(self.plot, grids.side_by_side([self.model.vae, *self._chosen_nets], self.z()))
