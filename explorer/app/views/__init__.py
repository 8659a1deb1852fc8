"""The exploration views: one tab each, all on the same LatentModel, built per session.

Each view is a ``pn.viewable.Viewer`` whose container carries its CSS class (``latent-traversal``,
...). Its plots are HoloViews elements rendered ONCE (``plots.InPlacePlot``); a change of μ, σ or z
writes only their Bokeh data sources, with the grid decoded in one forward pass and tiled into
one image (:func:`explorer.explore.mosaic`). A view computes only while its tab is shown: hidden,
it notes that it is stale and catches up when shown. A new model (or a new choice in the view's
own controls) re-renders its plots, since their shape changes; a slider move never does.

A view's first rendering (and one after a model change) is heavy: a HoloViews render costs
50–250 ms, a map's grid 225 decodes. It runs in a worker thread (:mod:`explorer.background`):
``prepare`` reads the state on the event loop, ``draw`` computes and renders in the worker,
``install`` puts the plots in the page back on the loop; so no other session waits for it.

Every write to a Bokeh model goes through ``pn.io.hold()``: a Bokeh slider callback runs under
the session document's lock, but Panel runs its widgets' events (a button, a select, the mode)
outside it, and a bare write there is refused (“_pending_writes should be non-None”).
"""

from __future__ import annotations

import functools
import html
import math

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.events import Tap
from bokeh.models import FreehandDrawTool, Slider
from bokeh.plotting import figure

from explorer import checkpoint as ckpt
from explorer import zoo
from explorer.app import untrusted
from explorer.app.background import Background, download_callback
from explorer.compute import decoding, divergence, drawing, grids
from explorer.compute.device import resolve_device
from explorer.data import samples
from explorer.figures import animation
from explorer.figures.png import to_uint8
from explorer.latent.space import MU_BOUNDS, Z_BOUNDS, LatentModel, clip, dim_label
from explorer.plots import InPlacePlot, render

TRAVERSAL_STEPS = 11
PAGE_ROWS = 16  # traversal rows shown at once
CELL = 28
PAD = 1
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
ACTIVE, INACTIVE, CURRENT = "#2563eb", "#cbd5e1", "#dc2626"
GALLERY_COLUMNS = 16


# -- elements -----------------------------------------------------------------------------------
def grid_element(image: np.ndarray, scale: float, xticks=None, yticks=None, **opts) -> hv.Image:
    """A mosaic (floats in [0, 1]) as one grey image of 8-bit levels (a quarter of the bytes to
    send), ``scale`` screen px per pixel; ticks as (position, label) pairs in pixels."""
    h, w = image.shape
    return hv.Image(to_uint8(image), bounds=(0, 0, w, h), vdims=["level"]).opts(
        cmap="gray",
        clim=(0, 255),
        frame_width=round(w * scale),
        frame_height=round(h * scale),
        xaxis="bottom" if xticks else None,
        yaxis="left" if yticks else None,
        xticks=xticks,
        yticks=yticks,
        xlabel="",
        ylabel="",
        toolbar=None,
        default_tools=[],
        tools=[],
        **opts,
    )


def fit_scale(image: np.ndarray, width: int = 640, height: int = 640, most: float = 3.0) -> float:
    """Screen pixels per image pixel so that the image fits width × height (at most ``most``)."""
    h, w = image.shape
    return min(most, width / w, height / h)


def centres(count: int, cell: int = CELL, pad: int = PAD) -> list[float]:
    """Centres of a mosaic's cells along one axis, in pixels from its first edge."""
    return [pad + k * (cell + pad) + cell / 2 for k in range(count)]


def write_image(plot: InPlacePlot, image: np.ndarray) -> None:
    """New pixels for a grid element: 8-bit grey, rows bottom-up as Bokeh draws them."""
    plot.write(image=[to_uint8(image)[::-1]])


def markdown(text: str, **kw) -> pn.pane.Markdown:
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(0, 10), **kw)


def gif_download(model: LatentModel, kind: str, frames) -> pn.widgets.FileDownload:
    """A button that downloads ``<model>-<kind>.gif``, made on click from the view's state then:
    ``frames()`` reads that state (on the event loop) and returns the function that draws the
    frames (a list of figures, see :mod:`explorer.animation`), which runs in a worker thread
    with the GIF's encoding."""

    def prepare():
        widget.filename = f"{model.info.stem}-{kind}.gif"
        draw = frames()
        return lambda: animation.gif_bytes(draw())

    widget = pn.widgets.FileDownload(
        callback=download_callback(prepare), filename=f"{kind}.gif", label="Download GIF",
        variant="outline", css_classes=[f"latent-download-{kind}-gif"],
    )  # fmt: skip
    return widget


def triptych(vae, z: np.ndarray, shown: np.ndarray | None, reconstruction: np.ndarray | None):
    """Encode's three cells in one mosaic: the input, its reconstruction (blank until an image
    is encoded) and the image of z."""
    blank = np.zeros((CELL, CELL), np.float32)
    cells = [
        shown if shown is not None else blank,
        reconstruction if reconstruction is not None else blank,
        decoding.decode(vae, z[None])[0],
    ]
    return grids.mosaic(np.stack(cells), pad=PAD)


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


# -- per-session data ---------------------------------------------------------------------------
class SessionData:
    """What the views of one session share: the model's data sample, its posterior (computed
    once per model), the posterior mean of the last image encoded, and their work off the event
    loop."""

    def __init__(self, model: LatentModel, data_dir: str | None = None):
        self.model = model
        self.data_dir = data_dir
        self.background = Background()
        self.encoded: np.ndarray | None = None
        self._sample_key = self._sample = None
        self._posterior_of = self._posterior = None

    def sample(self) -> samples.Sample | None:
        info = self.model.info
        key = (info.source, info.dataset) if info is not None else None
        if key != self._sample_key:
            self._sample_key = key
            self._sample = samples.load_sample(*key, self.data_dir) if key else None
        return self._sample

    def posterior(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(μ, log σ²) of each image of the sample under the current model."""
        vae, sample = self.model.vae, self.sample()
        if vae is None or sample is None:
            return None
        if self._posterior_of is not vae:
            self._posterior_of = vae
            self._posterior = decoding.posterior(vae, sample.images)
        return self._posterior

    def kl(self) -> np.ndarray | None:
        post = self.posterior()
        return divergence.kl_per_dimension(*post) if post is not None else None

    def usage(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(KL per dimension, active mask) over the data sample, or None without one."""
        post = self.posterior()
        if post is None:
            return None
        return divergence.kl_per_dimension(*post), divergence.active_units(post[0])

    def no_sample_note(self) -> str:
        return (
            "No data sample for this model: the bundled models ship one; for another "
            "checkpoint start the app with `--data-dir` holding its data set."
        )


# -- the views ----------------------------------------------------------------------------------
class View(pn.viewable.Viewer):
    """A tab that follows the LatentModel: ``build`` renders its plots (``prepare``, ``draw``,
    ``install``), ``update`` writes them."""

    title = ""
    css = ""
    follows: tuple[str, ...] = ("z",)  # LatentModel parameters whose change repaints the view

    def __init__(self, model: LatentModel, data: SessionData, **params):
        super().__init__(**params)
        self.model = model
        self.data = data
        self._shown = False
        self._built = False  # plots match the model (rendered since the last model change)
        self._stale = True  # plots behind the state
        self._drawing = False  # a build's drawing is under way in a worker thread
        self._syncing = False  # set while the view itself updates its widgets
        self._body = pn.Column(sizing_mode="stretch_width")
        self._layout = pn.Column(
            self._body, css_classes=[self.css, "latent-view"], sizing_mode="stretch_width"
        )

    def __panel__(self):
        return self._layout

    @property
    def shown(self) -> bool:
        return self._shown

    def show(self, shown: bool) -> None:
        """Its tab was shown or hidden; shown, it catches up with the state."""
        self._shown = shown
        if shown:
            self.refresh()

    def changed(self, events) -> None:
        """The model's ``info`` or a parameter this view follows changed."""
        if any(event.name == "info" for event in events):
            self._built = False
        self._stale = True
        if self._shown:
            self.refresh()

    def refresh(self) -> None:
        """Bring the view up to date: re-render after a model change, else write in place (not
        while a rendering is under way: that catches up once it is in)."""
        if self.model.vae is None:
            return
        if not self._built:
            self._built = True
            self._stale = False
            with pn.io.hold():
                self.build()
        elif self._stale and not self._drawing:
            self._stale = False
            with pn.io.hold():
                self.update()

    def rebuild(self, *_) -> None:
        """The view's own controls changed the plots' shape: render again (when shown)."""
        if self._syncing:
            return
        self._built = False
        self._stale = True
        if self._shown:
            self.refresh()

    def repaint(self, *_) -> None:
        """The view's own controls changed what it shows, not its shape: write in place."""
        self._stale = True
        if self._shown:
            self.refresh()

    def build(self) -> None:
        """Render the plots anew: ``prepare`` on the event loop, ``draw`` in a worker thread,
        ``install`` back on the loop. A newer build drops the result of one under way."""
        inputs = self.prepare()
        if inputs is None:  # it showed a note instead of plots
            self.data.background.cancel(self.css)
            self._drawing_done()
            return
        if not self._body.objects:
            self._body.objects = self.skeleton()
        self._drawing = True
        self._layout.loading = True
        self.data.background.run(
            functools.partial(self.draw, inputs), self._put, self._not_drawn, key=self.css
        )

    def _put(self, drawn) -> None:
        self._drawing_done()
        with pn.io.hold():
            self.install(drawn)
            if self._stale and self._shown:  # the state moved while it was drawn
                self._stale = False
                self.update()

    def _not_drawn(self, error: Exception) -> None:
        self._drawing_done()
        self._built = False  # the next refresh tries again
        raise error

    def _drawing_done(self) -> None:
        self._drawing = False
        self._layout.loading = False

    def skeleton(self) -> list:
        """What the tab holds while its first plots are drawn: its controls, made here and kept,
        so that ``install`` reuses their models (making them costs the event loop too)."""
        return []

    def prepare(self):
        """On the event loop: sync the view's widgets and return what ``draw`` needs (plain
        values, nothing that changes), or None after showing a note instead of plots."""
        raise NotImplementedError

    def draw(self, inputs):
        """In a worker thread: compute and render the plots from ``inputs`` alone."""
        raise NotImplementedError

    def install(self, drawn) -> None:
        """On the event loop: put what ``draw`` returned in the page."""
        raise NotImplementedError

    def update(self) -> None:
        raise NotImplementedError

    def z(self) -> np.ndarray:
        return self.model.current_z()


class TraversalView(View):
    """One row per dimension: the current z with that dimension swept across [-3, 3]."""

    title = "Traversal"
    css = "latent-traversal"

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._rows = pn.widgets.Select(
            label="Rows", width=220, css_classes=["latent-traversal-rows"]
        )
        self._rows.param.watch(self.rebuild, "value")
        self._row_map: dict[str, list[int]] = {}
        self._gif = gif_download(model, "traversal", self.frames)
        self._header = pn.Row(self._rows, self._gif)

    def frames(self):
        """What draws the animated traversal of the current z over the rows shown (every
        dimension swept at once, there and back; see :func:`explorer.animation.traversal`)."""
        m = self.model
        return functools.partial(
            animation.traversal, m.vae, self.z(), dims=self.dims, name=m.info.name
        )

    def _row_options(self) -> dict[str, list[int]]:
        """Pages of PAGE_ROWS dimensions; for larger models first the largest KL."""
        n = self.model.latent_dim
        options = {
            f"z{start + 1}–z{min(n, start + PAGE_ROWS)}": list(
                range(start, min(n, start + PAGE_ROWS))
            )
            for start in range(0, n, PAGE_ROWS)
        }
        kl = self.data.kl() if n > PAGE_ROWS else None
        if kl is not None:
            options = {f"{PAGE_ROWS} largest KL": divergence.by_kl(kl)[:PAGE_ROWS], **options}
        return options

    @property
    def dims(self) -> list[int]:
        return self._row_map.get(self._rows.value) or next(iter(self._row_map.values()))

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        options = self._row_options()
        if list(options) != list(self._rows.options):
            self._row_map = options
            self._syncing = True
            try:
                self._rows.options = list(options)
                self._rows.value = next(iter(options))
            finally:
                self._syncing = False
        self._rows.visible = len(options) > 1
        return self.model.vae, self.z(), self.dims

    def draw(self, inputs):
        vae, z, dims = inputs
        image = grids.mosaic(grids.traversal(vae, z, TRAVERSAL_STEPS, dims), pad=PAD)
        values = grids.sweep(TRAVERSAL_STEPS)
        h = image.shape[0]
        element = grid_element(
            image,
            fit_scale(image, 600, 700, 2.0),
            xticks=list(zip(centres(TRAVERSAL_STEPS), [f"{v:g}" for v in values], strict=True)),
            yticks=[
                (h - c, dim_label("z", d)) for c, d in zip(centres(len(dims)), dims, strict=True)
            ],
            title="Each row sweeps one dimension of the current z across [-3, 3]",
        )
        return render(element, "latent-traversal-source")

    def install(self, figure) -> None:
        self._plot = InPlacePlot.of(figure)
        self._body.objects = [self._header, pn.pane.Bokeh(self._plot.figure)]

    def _image(self, dims) -> np.ndarray:
        grid = grids.traversal(self.model.vae, self.z(), TRAVERSAL_STEPS, dims)
        return grids.mosaic(grid, pad=PAD)

    def update(self) -> None:
        write_image(self._plot, self._image(self.dims))


class SamplesView(View):
    """K draws of z ~ N(μ, σ²) side by side: σ's effect at a glance."""

    title = "Samples"
    css = "latent-samples"
    follows = ("mu", "sigma", "seed", "mode")

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._count = pn.widgets.Select(
            label="Samples", options=[16, 36, 64, 100], value=64, width=120,
            css_classes=["latent-samples-count"],
        )  # fmt: skip
        self._count.param.watch(self.rebuild, "value")
        self._caption = markdown("")
        self._header = pn.Row(self._count, self._caption)

    def _work(self):
        """Sets the caption; returns what draws the mosaic of the samples (in any thread)."""
        m, k = self.model, self._count.value
        if m.mode == "prior":
            mu, sigma = np.zeros(m.latent_dim), np.ones(m.latent_dim)
            self._caption.object = f"{k} draws of the prior N(0, I) (seed {m.seed})"
        else:
            mu, sigma = m.mu, m.sigma
            self._caption.object = f"{k} draws of z ~ N(μ, σ²) (seed {m.seed}; Resample for others)"
        vae, seed = m.vae, m.seed

        def image() -> np.ndarray:
            images = grids.samples(vae, mu, sigma, k, seed)
            return grids.mosaic(images, ncols=math.isqrt(k), pad=PAD)

        return image

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        return self._work()

    def draw(self, image):
        image = image()
        return render(grid_element(image, fit_scale(image, 600, 600, 2.0)), "latent-samples-source")

    def install(self, figure) -> None:
        self._plot = InPlacePlot.of(figure)
        self._body.objects = [self._header, pn.pane.Bokeh(self._plot.figure)]

    def update(self) -> None:
        write_image(self._plot, self._work()())


class EncodeView(View):
    """Pick a data image (click the gallery) or draw one: its posterior q(z|x) sets μ and σ."""

    title = "Encode"
    css = "latent-encode"

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._input: np.ndarray | None = None
        self._reconstruction: np.ndarray | None = None
        self._note = markdown("Click an image, or draw in the black square.")
        self.canvas, self._strokes = self._canvas()
        clear = pn.widgets.Button(label="Clear drawing", css_classes=["latent-encode-clear"])
        clear.on_click(lambda _event: self.clear())
        self._canvas_box = pn.Column(
            markdown("**Draw** (each stroke encodes)"),
            pn.pane.Bokeh(self.canvas),
            clear,
            css_classes=["latent-encode-canvas"],
        )
        self._top = pn.Row(self._canvas_box)  # the gallery joins it once drawn

    # -- the drawing surface --------------------------------------------------------------
    def _canvas(self):
        canvas = figure(
            x_range=(0, CELL), y_range=(0, CELL), width=224, height=224,
            toolbar_location=None, tools=[], background_fill_color="black",
            min_border=0, outline_line_color="#64748b",
        )  # fmt: skip
        canvas.axis.visible = False
        canvas.grid.visible = False
        strokes = canvas.multi_line(
            xs=[], ys=[], line_color="white", line_width=20, line_cap="round", line_join="round"
        )
        # past MAX_STROKES the page drops the oldest stroke itself
        tool = FreehandDrawTool(renderers=[strokes], num_objects=drawing.MAX_STROKES)
        canvas.add_tools(tool)
        canvas.toolbar.active_drag = tool
        strokes.data_source.name = "latent-encode-strokes"
        untrusted.on_change(
            strokes.data_source, "data", "Encode drawing", lambda _attr, _old, _new: self._drawn()
        )
        return canvas, strokes.data_source

    def _drawn(self) -> None:
        """A stroke was drawn: encode the drawing. What no draw tool sends (a string, NaN, more
        than MAX_POINTS points) clears the drawing, with a note."""
        data = self._strokes.data
        try:
            strokes = drawing.checked_strokes(data.get("xs", []), data.get("ys", []))
        except ValueError as exc:
            untrusted.refused("Encode drawing", data.get("xs"), str(exc))
            self._note.object = html.escape(f"Drawing cleared: {exc}. Draw again.")
            self._strokes.data = {"xs": [], "ys": []}  # in Bokeh's callback: the lock is held
            return
        if not strokes:
            return
        xs, ys = zip(*strokes, strict=True)
        image = drawing.center_like_mnist(drawing.strokes_to_image(xs, ys, width=2.5))
        self.encode_image(image, "your drawing")

    def clear(self) -> None:
        with pn.io.hold():
            self._strokes.data = {"xs": [], "ys": []}

    # -- encoding -------------------------------------------------------------------------
    def select(self, index: int) -> None:
        """Encode image ``index`` of the data sample."""
        sample = self.data.sample()
        label = sample.classes[int(sample.labels[index])]
        self.encode_image(decoding.as_images(sample.images[index])[0], f"image {index} ({label})")

    def encode_image(self, image: np.ndarray, what: str) -> None:
        """Set μ and σ to the image's posterior (clipped to the sliders' bounds), sample mode."""
        m = self.model
        mu, sigma = decoding.encode(m.vae, image[None])
        self._input = image
        self._reconstruction = decoding.decode(m.vae, mu)[0]
        self.data.encoded = mu[0]
        clipped = int((np.abs(mu[0]) > MU_BOUNDS[1]).sum() + (sigma[0] > 2.0).sum())
        self._note.object = f"q(z|x) of {html.escape(what)}: mean σ {sigma[0].mean():.2f}" + (
            f"; {clipped} values clipped to the sliders' range" if clipped else ""
        )
        m.param.update(
            mode="sample",
            mu=[clip(round(float(v), 4), MU_BOUNDS) for v in mu[0]],
            sigma=[clip(round(float(v), 4), (0.0, 2.0)) for v in sigma[0]],
        )

    # -- plots ----------------------------------------------------------------------------
    def _triptych(self) -> np.ndarray:
        return triptych(self.model.vae, self.z(), self._input, self._reconstruction)

    def skeleton(self) -> list:
        return [self._top, self._note]

    def prepare(self):
        self._input = self._reconstruction = None
        return self.model.vae, self.z(), self.data.sample()

    def draw(self, inputs):
        vae, z, sample = inputs
        labels = ["input x", "reconstruction", "current z"]
        element = grid_element(
            triptych(vae, z, None, None),
            4.0,
            xticks=list(zip(centres(3), labels, strict=True)),
            title="q(z|x)",
        )
        gallery = None
        if sample is not None:
            image = grids.mosaic(decoding.as_images(sample.images), ncols=GALLERY_COLUMNS, pad=PAD)
            title = f"Click to encode ({sample.source})"
            figure = render(grid_element(image, 1.0, title=title), "latent-encode-gallery-source")
            gallery = figure, sample, image.shape[0]
        return render(element, "latent-encode-source"), gallery

    def install(self, drawn) -> None:
        figure, gallery = drawn
        self._plot = InPlacePlot.of(figure)
        self._top.objects = [self._gallery(gallery), self._canvas_box]
        self._body.objects = [self._top, self._note, pn.pane.Bokeh(self._plot.figure)]

    def _gallery(self, drawn):
        """The gallery ``draw`` rendered, as (figure, sample, height), or a note without one."""
        if drawn is None:
            return markdown(self.data.no_sample_note(), width=480)
        figure, sample, h = drawn
        gallery = InPlacePlot.of(figure)
        cols = GALLERY_COLUMNS
        rows = -(-len(sample) // cols)

        def tapped(event):
            x, y = untrusted.number(event.x), untrusted.number(event.y)
            if x is None or y is None:
                untrusted.refused("Encode gallery tap", (event.x, event.y), "not a finite point")
                return
            row, col = grids.cell_at(x, h - y, (rows, cols), CELL, PAD)
            if row * cols + col < len(sample):
                self.select(row * cols + col)

        untrusted.on_event(gallery.figure, Tap, "Encode gallery tap", tapped)
        return pn.Column(pn.pane.Bokeh(gallery.figure), css_classes=["latent-encode-gallery"])

    def update(self) -> None:
        write_image(self._plot, self._triptych())


class InterpolationView(View):
    """Two latent points A and B, the linear or spherical path between them, and a t slider."""

    title = "Interpolation"
    css = "latent-interp"
    steps = 11

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._rng = np.random.default_rng(model.seed)
        self.a: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.follow = pn.widgets.Checkbox(
            label="B follows the current z", value=True, css_classes=["latent-interp-follow"]
        )
        self.method = pn.widgets.RadioButtonGroup(
            options={"linear": "linear", "spherical (slerp)": "spherical"},
            value="linear",
            css_classes=["latent-interp-method"],
        )
        self.t = Slider(
            start=0.0, end=1.0, step=0.01, value=0.5, title="t", css_classes=["latent-interp-t"],
            sizing_mode="stretch_width",
        )  # fmt: skip
        untrusted.on_change(self.t, "value", "interpolation t", self._t_moved)
        self.follow.param.watch(self.repaint, "value")
        self.method.param.watch(self.repaint, "value")
        self._note = markdown("")
        buttons = []
        sources = {"z": "current z", "encoded": "encoded image", "random": "random"}
        for end in "AB":
            for source, label in sources.items():
                button = pn.widgets.Button(
                    label=f"{end} ← {label}", css_classes=[f"latent-interp-{end.lower()}-{source}"]
                )
                button.on_click(lambda _e, end=end, source=source: self.set_point(end, source))
                buttons.append(button)
        self._gif = gif_download(model, "interpolation", self.frames)
        self._controls = pn.Column(
            pn.Row(*buttons[:3]),
            pn.Row(*buttons[3:]),
            pn.Row(self.method, self.follow, self._gif),
        )
        self._side = pn.Column(pn.pane.Bokeh(self.t, width=320), self._note)
        self._bottom = pn.Row(self._side)  # z(t) joins it once drawn

    def _t_moved(self, _attr, old, new) -> None:
        """t moved: repaint. A value outside [0, 1] is clamped, one that is no number (NaN, from
        a client, not from the slider) refused; either way the slider is set to what is used."""
        if self._syncing:
            return
        t = untrusted.clamp(new, (0.0, 1.0))
        if t != new:
            why = "not a number" if t is None else f"clamped to {t:g}"
            untrusted.refused("interpolation t", new, why)
            before = untrusted.clamp(old, (0.0, 1.0))
            self._syncing = True
            try:  # in Bokeh's callback: the lock is held, a direct write is fine
                self.t.value = t if t is not None else before if before is not None else 0.5
            finally:
                self._syncing = False
            if t is None:
                return
        self.repaint()

    def set_point(self, end: str, source: str) -> None:
        """Set A or B from the current z, the last encoded image, or a draw of N(0, I)."""
        n = self.model.latent_dim
        if source == "z":
            point = self.z()
        elif source == "encoded":
            if self.data.encoded is None or self.data.encoded.size != n:
                self._note.object = "Encode an image first (the Encode tab)."
                return
            point = self.data.encoded
        else:
            point = self._rng.standard_normal(n).astype(np.float32)
        if end == "A":
            self.a = np.array(point, dtype=np.float32)
        else:
            self.b = np.array(point, dtype=np.float32)
            self.follow.value = False  # B is now fixed (this also repaints)
        self.repaint()

    def _ends(self) -> None:
        """A: a draw of N(0, I) until set; B: the current z while it follows it."""
        n = self.model.latent_dim
        if self.a is None or self.a.size != n:
            self.a = self._rng.standard_normal(n).astype(np.float32)
        if self.follow.value or self.b is None or self.b.size != n:
            self.b = self.z()

    def frames(self):
        """What draws the animated path from A to B by the chosen method, there and back."""
        self._ends()
        m = self.model
        return functools.partial(
            animation.interpolation,
            m.vae,
            self.a,
            self.b,
            methods=(self.method.value,),
            name=m.info.name,
        )

    def _images(self) -> tuple[np.ndarray, np.ndarray]:
        self._ends()
        ts = np.append(np.linspace(0.0, 1.0, self.steps), self.t.value)
        path = grids.interpolate(self.a, self.b, ts, self.method.value)
        images = decoding.decode(self.model.vae, path)
        angle = np.degrees(
            np.arccos(
                np.clip(
                    self.a @ self.b / max(np.linalg.norm(self.a) * np.linalg.norm(self.b), 1e-12),
                    -1,
                    1,
                )
            )
        )
        self._note.object = (
            f"|A| = {np.linalg.norm(self.a):.2f}, |B| = {np.linalg.norm(self.b):.2f}, "
            f"angle {angle:.0f}°; t = {self.t.value:.2f}"
        )
        return grids.mosaic(images[: self.steps], pad=PAD), images[self.steps]

    def skeleton(self) -> list:
        return [self._controls, self._bottom]

    def prepare(self):
        return self._images()  # a dozen decodes: light enough here, and it moves A and B

    def draw(self, images):
        strip, at_t = images
        ticks = [f"{t:.1f}" for t in np.linspace(0, 1, self.steps)]
        strip_figure = render(
            grid_element(
                strip, 2.0, xticks=list(zip(centres(self.steps), ticks, strict=True)),
                title="A → B",
            ),
            "latent-interp-source",
        )  # fmt: skip
        return strip_figure, render(grid_element(at_t, 6.0, title="z(t)"), "latent-interp-t-source")

    def install(self, figures) -> None:
        strip, at_t = figures
        self._strip, self._at_t = InPlacePlot.of(strip), InPlacePlot.of(at_t)
        self._bottom.objects = [pn.pane.Bokeh(self._at_t.figure), self._side]
        self._body.objects = [self._controls, pn.pane.Bokeh(self._strip.figure), self._bottom]

    def update(self) -> None:
        strip, at_t = self._images()
        write_image(self._strip, strip)
        write_image(self._at_t, at_t)


class MapView(View):
    """Two dimensions: the decoded manifold over a grid of them, the data's posterior means on
    top (coloured by label), and a click that moves z there."""

    title = "2-D map"
    css = "latent-map"

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self.x_dim = pn.widgets.Select(label="x dimension", width=140, css_classes=["latent-map-x"])
        self.y_dim = pn.widgets.Select(label="y dimension", width=140, css_classes=["latent-map-y"])
        self.size = pn.widgets.Select(
            label="Grid", options=[9, 15, 21], value=15, width=100, css_classes=["latent-map-grid"]
        )
        self.size.param.watch(self.rebuild, "value")
        self.x_dim.param.watch(self._new_dims, "value")
        self.y_dim.param.watch(self._new_dims, "value")
        self._legend = pn.pane.HTML(sizing_mode="stretch_width")
        self._header = pn.Row(self.x_dim, self.y_dim, self.size)
        self._plot = None

    def _new_dims(self, *_) -> None:
        """Two other dimensions: new points, axis labels and pixels, in place."""
        if self._syncing:
            return
        if self._plot is None or self.x_dim.value == self.y_dim.value:
            self.rebuild()
            return
        i, j = self.dims
        post = self.data.posterior()
        with pn.io.hold():
            if post is not None:
                self._points_source.data.update(x=post[0][:, i], y=post[0][:, j])
            figure = self._plot.figure
            figure.xaxis[0].axis_label = dim_label("z", i)
            figure.yaxis[0].axis_label = dim_label("z", j)
        self.repaint()

    @property
    def dims(self) -> tuple[int, int]:
        return int(self.x_dim.value), int(self.y_dim.value)

    def click(self, x: float, y: float) -> None:
        """Set the two dimensions of z to (x, y): μ with σ = 0 there (so z lands exactly on the
        point) in sample mode, z itself when z is set exactly (also from the prior). A point that
        is not finite (only a hostile client sends one) is refused."""
        point = untrusted.number(x), untrusted.number(y)
        if None in point:
            untrusted.refused("2-D map tap", (x, y), "not a finite point")
            return
        x, y = point
        m = self.model
        i, j = self.dims
        if m.mode == "sample":
            mu, sigma = list(m.mu), list(m.sigma)
            mu[i], mu[j] = clip(round(x, 2), MU_BOUNDS), clip(round(y, 2), MU_BOUNDS)
            sigma[i] = sigma[j] = 0.0
            m.param.update(mu=mu, sigma=sigma)
        else:
            z = [float(v) for v in (m.z_set if m.mode == "deterministic" else self.z())]
            z[i], z[j] = clip(round(x, 2), Z_BOUNDS), clip(round(y, 2), Z_BOUNDS)
            m.param.update(mode="deterministic", z_set=z)

    def _choose_dims(self) -> None:
        n = self.model.latent_dim
        options = {dim_label("z", d): d for d in range(n)}
        if self.x_dim.options != options:
            kl = self.data.kl()
            x, y = divergence.by_kl(kl)[:2] if kl is not None else (0, 1)
            self._syncing = True
            try:
                self.x_dim.options = self.y_dim.options = options
                self.x_dim.value, self.y_dim.value = x, y
            finally:
                self._syncing = False

    def _manifold(self) -> np.ndarray:
        n = self.size.value
        grid = grids.manifold(self.model.vae, self.z(), self.dims, n)
        return grids.mosaic(grid, pad=0)

    def skeleton(self) -> list:
        return [self._header]

    def prepare(self):
        self._plot = None
        if self.model.latent_dim < 2:
            self._body.objects = [markdown("A map needs a model with two latent dimensions.")]
            return None
        self._choose_dims()
        if self.x_dim.value == self.y_dim.value:
            self._body.objects = [self._header, markdown("Choose two different dimensions.")]
            return None
        i, j = self.dims
        return self.model.vae, self.z(), (i, j), self.size.value, self._points(i, j)

    def draw(self, inputs):
        vae, z, (i, j), n, points = inputs
        half = (grids.SPAN[1] - grids.SPAN[0]) / (n - 1) / 2  # cell centres on the grid
        lo, hi = grids.SPAN[0] - half, grids.SPAN[1] + half
        manifold = grids.mosaic(grids.manifold(vae, z, (i, j), n), pad=0)
        image = hv.Image(
            to_uint8(manifold),
            bounds=(lo, lo, hi, hi),
            kdims=[dim_label("z", i), dim_label("z", j)],
        ).opts(cmap="gray", clim=(0, 255))
        if points is None:
            dots = hv.Points([]).opts(size=0)
        else:
            dots = hv.Points(points, kdims=["x", "y"], vdims=["label", "color"]).opts(
                color="color", size=5, alpha=0.8, line_color="white", line_width=0.5
            )
        overlay = (
            image
            * dots
            * hv.Points([tuple(z[[i, j]])]).opts(
                color=CURRENT, marker="cross", size=22, line_width=3
            )
        )
        overlay = overlay.opts(
            frame_width=480, frame_height=480, toolbar=None, default_tools=[], tools=[],
            xlim=(lo, hi), ylim=(lo, hi), title="Click to move z there",
        )  # fmt: skip
        return render(overlay, "latent-map-source")

    def install(self, figure) -> None:
        self._plot = InPlacePlot.of(figure)
        self._points_source = self._plot.figure.renderers[1].data_source
        self._current = self._plot.figure.renderers[-1].data_source
        self._current.name = "latent-map-current-source"
        untrusted.on_event(
            self._plot.figure, Tap, "2-D map tap", lambda event: self.click(event.x, event.y)
        )
        self._body.objects = [self._header, pn.pane.Bokeh(self._plot.figure), self._legend]

    def _points(self, i: int, j: int) -> dict | None:
        """The data sample's posterior means in dimensions i and j, labelled and coloured (the
        legend says which colour is which); None without a sample."""
        sample, post = self.data.sample(), self.data.posterior()
        if sample is None or post is None:
            self._legend.object = html.escape(self.data.no_sample_note())
            return None
        mu = post[0]
        names = [sample.classes[int(k)] for k in sample.labels]
        colors = [PALETTE[int(k) % len(PALETTE)] for k in sample.labels]
        self._legend.object = "Posterior means of the data sample: " + " ".join(
            f"<span style='color:{c}'>●&nbsp;{html.escape(name)}</span>"
            for c, name in zip(PALETTE, sample.classes, strict=False)
        )
        return {"x": mu[:, i], "y": mu[:, j], "label": names, "color": colors}

    def update(self) -> None:
        if self._plot is None:
            return
        write_image(self._plot, self._manifold())
        i, j = self.dims
        z = self.z()
        self._current.data.update(x=[float(z[i])], y=[float(z[j])])


class CompareView(View):
    """The same z decoded by several checkpoints of the same latent size, side by side."""

    title = "Compare models"
    css = "latent-compare"

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self.choice = pn.widgets.MultiChoice(
            label="Models to compare", css_classes=["latent-compare-models"], width=480
        )
        self.choice.param.watch(self.rebuild, "value")
        self._path = pn.widgets.TextInput(
            label="Add a checkpoint", placeholder="path or zoo name", width=300,
            css_classes=["latent-compare-path"], visible=model.access.paths_allowed,
        )  # fmt: skip
        self._path.param.watch(lambda event: self.add(event.new), "value")
        self._note = markdown("")
        self._header = pn.Row(self.choice, self._path)
        self._nets: dict[str, object] = {}  # source → VAE, for this session (weights are shared)
        self._offered_for = None  # the network the offered choices were made for

    def add(self, source: str) -> None:
        """Offer another checkpoint (same latent size) and select it; read off the event loop."""
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
            self._note.object = note or f"{html.escape(source)} no longer fits this model"
            return
        self._nets[source] = net
        self.choice.options = list(dict.fromkeys([*self.choice.options, source]))
        if source not in self.choice.value:
            self.choice.value = [*self.choice.value, source]

    def _images(self) -> np.ndarray:
        z = self.z()
        nets = [self.model.vae, *(self._nets[source] for source in self._sources[1:])]
        images = [decoding.decode(net, z[None])[0] for net in nets]
        return grids.mosaic(np.stack(images), pad=PAD)

    def skeleton(self) -> list:
        return [self._header, self._note]

    def prepare(self):
        m = self.model
        offer = self._offered_for is not m.vae  # a new model: offer the zoo's of its size
        wanted = None if offer else list(self.choice.value)
        nets = {} if offer else dict(self._nets)
        where = m.access, resolve_device(m.device)
        return m.vae, m.info, self.z(), where, wanted, nets

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
        images = [decoding.decode(net, z[None])[0] for net in [vae, *map(nets.get, chosen)]]
        labels = [f"this ({info.name})", *chosen]
        element = grid_element(
            grids.mosaic(np.stack(images), pad=PAD), 5.0,
            xticks=list(zip(centres(len(labels)), labels, strict=True)),
            title="The same z, decoded by each model",
        )  # fmt: skip
        figure = render(element, "latent-compare-source")
        return figure, vae, options, wanted, nets, [info.name, *chosen], notes

    def install(self, drawn) -> None:
        figure, vae, options, wanted, nets, sources, notes = drawn
        if options is not None:
            self._syncing = True
            try:
                self.choice.options = options
                self.choice.value = wanted
            finally:
                self._syncing = False
            self._offered_for = vae
        self._nets, self._sources = nets, sources
        if notes:
            self._note.object = notes[-1]
        self._plot = InPlacePlot.of(figure)
        self._body.objects = [
            self._header,
            self._note,
            pn.Column(pn.pane.Bokeh(self._plot.figure), scroll=True, sizing_mode="stretch_width"),
        ]

    def update(self) -> None:
        write_image(self._plot, self._images())


class KLView(View):
    """Per-dimension KL over the data sample (which units the model uses), and the KL of the
    sliders' N(μ, σ²) per dimension, live."""

    title = "KL / active units"
    css = "latent-kl"
    follows = ("mu", "sigma")

    def prepare(self):
        post = self.data.posterior()
        if post is None:
            self._plot = None
            self._body.objects = [markdown(self.data.no_sample_note())]
            return None
        sample = self.data.sample()
        now = divergence.gaussian_kl(self.model.mu, self.model.sigma)
        return post, now, len(sample), sample.source

    def draw(self, inputs):
        post, now, count, source = inputs
        kl = divergence.kl_per_dimension(*post)
        active = divergence.active_units(post[0])
        n = kl.size
        dims = [dim_label("z", d) for d in range(n)]
        bars = hv.Bars(
            {"dimension": dims, "kl": kl, "color": [ACTIVE if a else INACTIVE for a in active]},
            kdims=["dimension"],
            vdims=["kl", "color"],
        ).opts(color="color", line_color=None)
        marks = hv.Scatter({"dimension": dims, "now": now}, kdims=["dimension"], vdims=["now"])
        ceiling = float(max(kl.max(), 1.0)) * 1.1
        overlay = (bars * marks.opts(color=CURRENT, size=8, marker="diamond")).opts(
            height=320, responsive=True, min_width=400, toolbar=None, default_tools=[],
            tools=["hover"], ylabel="KL (nats)", xlabel="", xrotation=90 if n > 16 else 0,
            ylim=(0, ceiling),
            title="Bars: mean KL(q(z_d|x) ‖ N(0,1)) over the data; ◆: KL of your N(μ_d, σ_d²)",
        )  # fmt: skip
        order = ", ".join(dim_label("z", d) for d in divergence.by_kl(kl)[: min(n, 8)])
        summary = (
            f"**Active units: {int(active.sum())} of {n}** (variance of the posterior mean over "
            f"the data > {divergence.ACTIVE_THRESHOLD}; Burda et al. 2016; "
            "grey bars are inactive). "
            f"Total KL {kl.sum():.1f} nats over {count} images "
            f"({html.escape(source)}). Largest: {order}."
        )
        return render(overlay, "latent-kl-source"), ceiling, summary

    def install(self, drawn) -> None:
        figure, self._ceiling, summary = drawn
        self._plot = InPlacePlot.of(figure)
        self._marks = self._plot.figure.renderers[1].data_source
        self._marks.name = "latent-kl-current-source"
        self._body.objects = [
            markdown(summary, css_classes=["latent-kl-summary"]),
            pn.pane.Bokeh(self._plot.figure, sizing_mode="stretch_width"),
        ]

    def update(self) -> None:
        if self._plot is None:
            return
        now = divergence.gaussian_kl(self.model.mu, self.model.sigma)
        self._marks.data.update(now=now)
        top = float(now.max(initial=0.0)) * 1.1
        if top > self._ceiling:
            self._ceiling = top
            self._plot.figure.y_range.end = top


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

    def tabs(self, explore_tab) -> pn.Tabs:
        """Tabs: "Explore" (``explore_tab``) first, then one per view."""
        tabs = pn.Tabs(
            ("Explore", explore_tab),
            *[(view.title, view) for view in self.views],
            dynamic=True,
            css_classes=["latent-tabs"],
            sizing_mode="stretch_width",
        )
        tabs.param.watch(lambda event: self.show(event.new - 1), "active")
        return tabs

    def show(self, index: int) -> None:
        """Show view ``index`` (-1: none), hide the others."""
        for k, view in enumerate(self.views):
            if k != index:
                view.show(False)
        if 0 <= index < len(self.views):
            self.views[index].show(True)
