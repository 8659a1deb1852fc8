"""The Compare view: several checkpoints of the same latent size, one row each by β, decoding the
same latents: the current z, then K draws of the prior from the current seed (the figure
`vae-explorer figure compare` draws, :func:`explorer.compute.grids.compare_image`). The zoo's
siblings of the model are offered and chosen first."""

from __future__ import annotations

import functools
import html

import panel as pn
import param

from explorer import checkpoint as ckpt
from explorer import names, zoo
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import centres, fit_scale, grid_element, ticks
from explorer.compute import grids
from explorer.compute.device import resolve_device
from explorer.plots import InPlacePlot, render, write_image

DRAWS = (1, 4, 8)  # the choice of prior draws per model
# Said under the controls, always: what a row-by-row reading of the grid may and may not mean.
UNALIGNED = (
    "Separately trained models' latent dimensions do not line up: the same z means something "
    "different to each model; only the prior draws are comparable, in distribution."
)
LABEL_CHARS = 32  # longer row labels (a model's path) keep their end
THIS = " (this)"  # marks the model being explored among the rows


def comparable(source: str, access, device: str, latent_dim: int) -> tuple[object, str]:
    """(checkpoint, "") of ``source`` when it has ``latent_dim`` latent dimensions, else
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
    return loaded, ""


def row_label(info: ckpt.ModelInfo, this: bool = False) -> str:
    """A model's row: its name (a zoo name says its β; another says it after), "(this)" on the
    model being explored."""
    label = info.name
    if info.source not in zoo.NAMES and info.beta is not None:
        label += f" (β {info.beta:g})"
    label = label if len(label) <= LABEL_CHARS else "…" + label[1 - LABEL_CHARS :]
    return label + (THIS if this else "")


def caption(k: int, seed: int) -> str:
    """What the grid shows, in one line."""
    draws = "one draw" if k == 1 else f"{k} draws"
    return (
        f"Rows: the models by β, smallest first. Columns: your z, then {draws} of the prior "
        f"N(0, I) at seed {seed}, the same for every model."
    )


class CompareView(View):
    """Several checkpoints of the same latent size, one row each by β, decoding the same latents:
    the current z and K draws of the prior."""

    title = "Compare models"
    css = names.COMPARE
    follows = ("z", "seed")

    models = param.ListSelector(
        default=[], objects=[], label="Models to compare", doc="Checkpoints beside this model"
    )
    path = param.String(
        default="", label="Add a checkpoint", doc="A path or zoo name to offer and choose"
    )
    draws = param.Selector(
        default=4, objects=list(DRAWS), label="Prior draws",
        doc="How many draws of the prior N(0, I) each model decodes (from the seed)",
    )  # fmt: skip
    caption = param.String(default="", doc="What the grid shows (Markdown)")

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        choice = pn.widgets.MultiChoice.from_param(
            self.param.models, css_classes=[names.COMPARE_MODELS], width=290
        )
        path = pn.widgets.TextInput.from_param(
            self.param.path, placeholder="path or zoo name", width=180,
            css_classes=[names.COMPARE_PATH], visible=model.access.paths_allowed,
        )  # fmt: skip
        draws = pn.widgets.Select.from_param(
            self.param.draws, width=100, css_classes=[names.COMPARE_DRAWS]
        )
        # Beside the grid, which comes first: so the grid stays under the tabs, in view on a
        # small screen, and the controls wrap below it where there is no room beside it.
        self._controls = pn.Column(
            choice,
            pn.Row(draws, path),
            markdown(self.param.caption),
            markdown(UNALIGNED, css_classes=[names.COMPARE_UNALIGNED]),
            markdown(self.param.note),
            width=300,
        )
        self._grid = pn.Column(scroll=True)
        self._parts = pn.FlexBox(self._controls, sizing_mode="stretch_width")
        self._loaded: dict[str, ckpt.Checkpoint] = {}  # source → checkpoint (weights are shared)
        self._betas: dict[str, float | None] = {}  # source → β, of every model offered
        self._offered_for = None  # the network the offered models were found for
        self._drawn_for: list[str] | None = None  # the models the plot shows, or is drawn for
        self._rows: list = []  # the networks of the plot's rows, top first
        self.labels: list[str] = []  # their labels, top first
        self.param.watch(self._chosen, "models")
        self.param.watch(self.rebuild, "draws")
        self.param.watch(lambda event: self.add(event.new), "path")

    def by_beta(self, sources) -> list[str]:
        """``sources`` by β, smallest first (unknown last)."""
        return grids.by_beta({source: self._betas.get(source) for source in sources})

    def _chosen(self, event) -> None:
        ordered = self.by_beta(event.new)
        if ordered != list(event.new):
            self.models = ordered  # whose own event draws the plot
        elif event.new != self._drawn_for:
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
        loaded, note = found
        if loaded is None or loaded.info.latent_dim != self.model.latent_dim:
            self.note = note or f"{html.escape(source)} no longer fits this model"
            return
        self._loaded[source] = loaded
        self._betas[source] = loaded.info.beta
        self.param.models.objects = self.by_beta([*self.param.models.objects, source])
        if source not in self.models:
            self.models = self.by_beta([*self.models, source])

    def skeleton(self) -> list:
        return [self._parts]

    def prepare(self):
        m = self.model
        offer = self._offered_for is not m.vae  # a new model: offer the zoo's of its size
        self._drawn_for = None if offer else list(self.models)
        loaded = {} if offer else dict(self._loaded)
        where = m.access, resolve_device(m.device)
        self.caption = caption(self.draws, m.seed)
        return m.vae, m.info, self.z(), m.seed, self.draws, where, self._drawn_for, loaded

    def draw(self, inputs):
        vae, info, z, seed, k, (access, device), wanted, loaded = inputs
        options, betas = None, {}
        if wanted is None:
            infos = {name: ckpt.load_shared(name).info for name in zoo.available()}
            options = [
                name
                for name, other in infos.items()
                if name != info.source and other.latent_dim == info.latent_dim
            ]
            betas = {name: infos[name].beta for name in options}
            wanted = [name for name in zoo.siblings(info.source) if name in options]
        chosen, notes = [], []
        for source in wanted:
            if source not in loaded:
                found, note = comparable(source, access, device, info.latent_dim)
                if found is None:
                    notes.append(note)
                    continue
                loaded[source] = found
            chosen.append(source)
        # Row 0 is this model; the rest, the chosen ones: all by β.
        infos = [info, *(loaded[source].info for source in chosen)]
        order = grids.by_beta({row: one.beta for row, one in enumerate(infos)})
        nets = [vae if row == 0 else loaded[chosen[row - 1]].model for row in order]
        labels = [row_label(infos[row], this=row == 0) for row in order]
        image = grids.compare_image(nets, z, grids.prior_draws(info.latent_dim, k, seed))
        h = image.shape[0]
        element = grid_element(
            image, fit_scale(image, 460, 300, 4.0),
            xticks=ticks(["your z", *(f"prior {j + 1}" for j in range(k))]),
            yticks=[(h - y, label) for y, label in zip(centres(len(labels)), labels, strict=True)],
            title="The same latents, decoded by each model",
        )  # fmt: skip
        figure = render(element, names.COMPARE_SOURCE)
        return figure, vae, options, betas, wanted, loaded, chosen, nets, labels, notes

    def install(self, drawn) -> None:
        figure, vae, options, betas, wanted, loaded, chosen, nets, labels, notes = drawn
        self._betas.update(betas)
        self._betas.update({source: loaded[source].info.beta for source in chosen})
        if options is not None:  # the offer for a new model, and its siblings chosen
            wanted = self.by_beta(wanted)
            self._drawn_for = wanted
            self.param.models.objects = self.by_beta(options)
            self.models = wanted
            self._offered_for = vae
        self._loaded, self._rows, self.labels = loaded, nets, labels
        if notes:
            self.note = notes[-1]
        self.plot = InPlacePlot.of(figure)
        self._grid.objects = [pn.pane.Bokeh(self.plot.figure)]
        self._parts.objects = [self._grid, self._controls]
        self._body.objects = [self._parts]

    def update(self) -> None:
        m = self.model
        self.caption = caption(self.draws, m.seed)
        draws = grids.prior_draws(m.latent_dim, self.draws, m.seed)
        write_image(self.plot, grids.compare_image(self._rows, self.z(), draws))
