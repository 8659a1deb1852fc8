"""The Compare view: several checkpoints of the same latent size and image shape, one row each by
β, decoding the same latents: the current z, then K draws of the prior from the current seed
(the figure `vae-explorer figure compare` draws, :func:`explorer.compute.grids.compare_image`).
The zoo's siblings of the model are offered and chosen first."""

from __future__ import annotations

import functools
import html

import numpy as np
import panel as pn
import param

from explorer import checkpoint as ckpt
from explorer import names, zoo
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import (
    cell_size,
    centres,
    fit_scale,
    grid_element,
    shrink,
    ticks,
)
from explorer.compute import decoding, grids
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
MOST = 64  # a cell's longest side on screen, in image pixels: larger images are shrunk


def comparable(source: str, access, device: str, info: ckpt.ModelInfo) -> tuple[object, str]:
    """(checkpoint, "") of ``source`` when it fits the model of ``info`` (the same latent size
    and image shape), else (None, why not, as HTML); reads the file, in any thread."""
    try:
        loaded = ckpt.load_shared(access.check(source), device=device)
    except ckpt.CheckpointError as exc:
        return None, html.escape(str(exc))
    return (loaded, "") if fits(loaded.info, info) else (None, unfit(source, loaded.info, info))


def fits(other: ckpt.ModelInfo, info: ckpt.ModelInfo) -> bool:
    """Whether model ``other`` can be compared with model ``info``: the same latent size and the
    same image shape, so that the same z means a z to both and their images tile one grid."""
    return other.latent_dim == info.latent_dim and other.image_shape == info.image_shape


def unfit(source: str, other: ckpt.ModelInfo, info: ckpt.ModelInfo) -> str:
    """Why model ``other`` (from ``source``) cannot be compared with ``info``'s, as HTML."""
    if other.latent_dim != info.latent_dim:
        return (
            f"{html.escape(source)} has {other.latent_dim} latent dimensions; "
            f"this model has {info.latent_dim}"
        )
    return (
        f"{html.escape(source)} draws {decoding.shape_text(other.image_shape)} images; "
        f"this model draws {decoding.shape_text(info.image_shape)}"
    )


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
    """Several checkpoints of the same latent size and image shape, one row each by β, decoding
    the same latents: the current z and K draws of the prior."""

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
        read = functools.partial(comparable, source, m.access, resolve_device(m.device), m.info)
        self.data.background.run(read, functools.partial(self._added, source), key="compare-add")

    def _added(self, source: str, found: tuple) -> None:
        loaded, note = found
        if loaded is None or not fits(loaded.info, self.model.info):
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
                name for name, other in infos.items() if name != info.source and fits(other, info)
            ]
            betas = {name: infos[name].beta for name in options}
            wanted = [name for name in zoo.siblings(info.source) if name in options]
        chosen, notes = [], []
        for source in wanted:
            if source not in loaded:
                found, note = comparable(source, access, device, info)
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
        image = compare_image(nets, z, grids.prior_draws(info.latent_dim, k, seed), info)
        h = image.shape[0]
        cell_h, cell_w = cell_size(info.image_shape, MOST)
        rows = zip(centres(len(labels), cell_h), labels, strict=True)
        element = grid_element(
            image, fit_scale(image, 460, 300, 4.0),
            xticks=ticks(["your z", *(f"prior {j + 1}" for j in range(k))], cell_w),
            yticks=[(h - y, label) for y, label in rows],
            title="The same latents, decoded by each model",
        )  # fmt: skip
        figure = render(element, names.COMPARE_SOURCE)
        return figure, vae, options, betas, wanted, loaded, chosen, nets, labels, notes

    def install(self, drawn) -> None:
        figure, vae, options, betas, wanted, loaded, chosen, nets, labels, notes = drawn
        self._betas.update(betas)
        self._betas.update({source: loaded[source].info.beta for source in chosen})
        if options is not None:  # the offer for a new model, and its siblings chosen
            if not options:
                self.note = (
                    "No bundled model has this model's latent size and image shape: add one "
                    "by path."
                    if self.model.access.paths_allowed
                    else "No bundled model has this model's latent size and image shape."
                )
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
        write_image(self.plot, compare_image(self._rows, self.z(), draws, m.info))


def compare_image(nets, z, draws, info: ckpt.ModelInfo):
    """One row per network: z, then each of the prior ``draws``, decoded by it (a mosaic as
    :func:`explorer.compute.grids.compare_image` tiles it), cells shrunk to MOST pixels."""
    latents = np.concatenate([np.asarray(z, dtype=np.float32)[None], np.atleast_2d(draws)])
    cells = shrink(grids.decoded_by_each(nets, latents), info.image_shape, MOST)
    return grids.mosaic(cells, pad=grids.PAD, rgb=info.image_shape[0] == 3)
