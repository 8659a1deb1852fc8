"""LatentExplorer: the Panel view of one session's LatentModel: the controls, the checkpoint
picker, the sliders (:mod:`explorer.app.sliders`), the decoded image, the z bars and the views.

Speed is the point of its shape. The image and the bar chart are HoloViews elements rendered once
per session (:class:`explorer.plots.InPlacePlot`); a change writes only their Bokeh data sources.
Everything is built per instance, so browser sessions share nothing but the read-only model
weights.
"""

from __future__ import annotations

import functools
import html
import logging
from pathlib import Path

import numpy as np
import panel as pn
import param
from bokeh.models import CustomJS

from explorer import names, zoo
from explorer.access import UPLOAD_PREFIX
from explorer.app import internals
from explorer.app.background import Background, download_callback
from explorer.app.debounce import Debounced
from explorer.app.options import TITLE
from explorer.app.sliders import DimensionSliders
from explorer.app.upload_guard import guard_uploads
from explorer.app.views.factors import SliderNames
from explorer.app.views.tabs import ExplorationViews
from explorer.app.whereami import WhereAmI
from explorer.checkpoint import CheckpointError
from explorer.compute.device import resolve_device
from explorer.figures.png import to_png_bytes
from explorer.latent import state, urlstate
from explorer.latent.space import LatentModel
from explorer.latent.table import MODE_HELP, MODE_LABELS
from explorer.latent.vector import finite
from explorer.pages import fragments, layers, living, static
from explorer.plots import (
    InPlacePlot,
    bars_element,
    fits,
    image_figure,
    image_px,
    write_bars,
    write_bars_title,
    write_image,
)

log = logging.getLogger(__name__)
# The z-values box: its lines (fragments.values_html at 12 px, about 90 px a value; the
# statistics at 13 px), so many values to a line (the width beside the image on a projector).
VALUES_PER_LINE, VALUES_MAX_LINES, VALUES_LINE_PX = 7, 6, 19.5
PNG_SCALES, PNG_SCALE = (1, 4, 8, 16), 8  # the PNG download's sizes, and the default (224 px)
PNG_MAX_PX = 4096  # the largest side of a PNG offered (a 512 px image: 8× at most)
UPLOAD_ACCEPT = ".pth,.pt,.onnx"  # what the upload's file chooser offers
URL_DELAY_MS = 1000  # the URL follows the sliders this long after the last change
SUBTITLE = "Explore the VAE latent space by sampling from multidimensional Gaussians"
TIPS = """
**Tips**

- Start with μ = 0 and σ = 1 (*Reset to N(0,1)*): that samples the prior the VAE was trained
  towards.
- Increase σ for more variety between resamples; σ = 0 makes z = μ exactly.
- Move μ to explore other regions of the latent space: with ε fixed, the image changes smoothly.
- *Set z exactly* (deterministic mode) gives precise control: the z you set is decoded as it is.
- *Resample* draws a new ε (a new seed); the seed is in the URL, so a copied link
  reproduces this very image.
- Compare β: low-β models draw sharp images but their prior samples are often odd;
  high-β models are blurry but every z gives something plausible.
- Arrow keys move a focused slider; hover a slider for its help, the image or bars for values.
"""
HOW_IT_WORKS = """
#### How it works

1. Each latent dimension has its own Gaussian N(μ, σ²), set by its μ and σ sliders.
2. z is sampled from them: z = μ + σ·ε, where ε ~ N(0, I) is drawn once per seed and kept until
   *Resample*, so that moving a slider moves z, and the image, smoothly.
3. The VAE's decoder turns z into the image; the bars show z.

*Prior* decodes z = ε ~ N(0, I), the prior that training pulls every encoding towards; *Set z
exactly* decodes the z you choose. Dimensions the model does not use (low KL, see *KL / active
units*) change the image little.
"""

# -- the page at every width: a projector (1024×768, 1280×720) and a phone (390 px) ------------
WRAP = {"flex_wrap": "wrap", "sizing_mode": "stretch_width"}  # a row that wraps when narrow
BARS_MIN_PX = 300  # the z bars beside the image down to this width, under it below
NARROW_PX = 1200  # below this page width the sidebar starts closed
# The template's own elements (outside every shadow root): on a phone, less padding around the
# main area, and the sidebar (when opened) over it rather than squeezing it to 60 px.
PAGE_CSS = """
@media (max-width: 600px) {
  #main { padding: 6px 4px 12px 4px; }
  #sidebar.show { position: absolute; z-index: 1000; height: calc(100% - 64px);
                  background: var(--bs-body-bg); max-width: 100% !important; }
}
"""
# In the tabs' shadow root: headers wrap rather than run off the page; the Explore tab (class
# STICKY) sticks to the top of the main area, so that the image stays in view while a slider
# below it moves. Not on a phone or a short screen, where it would cover most of the page.
TABS_CSS = f"""
.bk-headers-wrapper {{ flex-wrap: wrap; }}
@media (min-width: 700px) and (min-height: 600px) {{
  :host(.{names.STICKY}) {{ position: sticky; top: 0; z-index: 10; background: var(--bs-body-bg);
                           box-shadow: 0 -12px 0 var(--bs-body-bg); }}
}}
"""
# The mode buttons on a phone: their labels wrap, rather than the last button running off it.
MODE_CSS = """
@media (max-width: 600px) {
  :host { max-width: calc(100vw - 24px); }
  .bk-btn { white-space: normal; }
}
"""
# Run in the browser when the page's websocket closes (its server process stopped or restarted,
# the network dropped): the page can no longer follow its sliders, so it says so, above all else,
# and offers a reload. The URL holds the state (see sync_url), so a reload comes back to it,
# served by a process that is alive (deploy/README.md).
RELOAD_TEXT = (
    "The connection to the server was lost, so this page no longer follows its controls. "
    "Reload it to continue where you were."
)
RELOAD_NOTICE = f"""
if (!document.querySelector('.{names.DISCONNECTED}')) {{
  const notice = document.createElement('div');
  notice.className = '{names.DISCONNECTED}';
  notice.setAttribute('role', 'alert');
  notice.style.cssText = 'position: fixed; top: 0; left: 0; right: 0; z-index: 10000; ' +
    'padding: 10px 16px; background: #b91c1c; color: white; font: 15px sans-serif;';
  notice.textContent = {RELOAD_TEXT!r} + ' ';
  const reload = document.createElement('button');
  reload.textContent = 'Reload';
  reload.onclick = () => window.location.reload();
  notice.appendChild(reload);
  document.body.appendChild(notice);
}}
"""
# Run in the browser once the page is ready: below NARROW_PX close the sidebar (the template
# starts it open; its toggle opens it again).
CLOSE_SIDEBAR = f"""
if (window.innerWidth < {NARROW_PX}) {{
  const sidebar = document.getElementById('sidebar');
  const toggle = document.getElementById('sidebar-toggle');
  if (sidebar) sidebar.classList.remove('show');
  if (toggle) toggle.setAttribute('aria-expanded', 'false');
}}
"""


class LatentExplorer(pn.viewable.Viewer):
    """The explorer for one session: controls, sliders, the decoded image and the z bars."""

    model = param.ClassSelector(class_=LatentModel)

    def __init__(self, model: LatentModel | None = None, data_dir: str | None = None, **params):
        super().__init__(model=model if model is not None else LatentModel(), **params)
        m = self.model
        # the decoded image and the z bars, rendered once and written in place
        self.image_plot = InPlacePlot.of(image_figure(self._image_or_blank(), names.IMAGE_SOURCE))
        self.bars_plot = InPlacePlot(
            bars_element(self._z_or_blank(), mode=m.mode), names.BARS_SOURCE
        )
        m.param.watch(lambda event: write_bars_title(self.bars_plot, event.new), "mode")
        self._image_pane = pn.pane.Bokeh(self.image_plot.figure)
        self._image_box = pn.Column(
            self._image_pane, css_classes=[names.IMAGE], width=image_box_px(m.image)
        )
        self._bars_box = pn.Column(
            pn.pane.Bokeh(self.bars_plot.figure, sizing_mode="stretch_width"),
            css_classes=[names.BARS],
            sizing_mode="stretch_width",
        )
        # z's values and statistics, with a fixed height (set per model, see _fit_numbers): a
        # text change then repaints without re-laying out the page.
        self._numbers = internals.text_model(
            css_classes=[names.VALUES],
            sizing_mode="stretch_width",
            styles={"overflow-y": "auto"},  # on a narrow page, what does not fit scrolls
        )
        self._fit_numbers()
        m.param.watch(self._fit_numbers, "info")
        self._error = pn.pane.Alert(
            alert_type="danger",
            css_classes=[names.ERROR],
            visible=False,
            sizing_mode="stretch_width",
        )
        self._notice = pn.pane.Alert(
            alert_type="warning",
            css_classes=[names.NOTICE],
            visible=False,
            sizing_mode="stretch_width",
        )
        # The model's facts as a Bokeh model whose text alone changes: a Markdown pane, rewritten,
        # takes the design's stand-alone stylesheets (Bootstrap's whole sheet: a 28 px heading).
        self._info = internals.text_model(
            css_classes=[names.INFO], sizing_mode="stretch_width", margin=(5, 10)
        )
        self.sliders = DimensionSliders(m, usage=lambda: self.views.data.usage())
        self._controls = self._build_controls()
        self._checkpoint = self._build_checkpoint_picker()
        self._device_used = self._build_device_note()
        m.param.watch(self._redraw, ["image", "z"])
        m.param.watch(self._show_message, ["message"])
        m.param.watch(self._show_info, ["info"])
        self.views = ExplorationViews(m, data_dir)  # its watchers after _redraw's: image first
        self.views.follow_order(self.sliders)  # "Order by KL" orders every view's dimensions
        self.slider_names = SliderNames(m, self.views.data, self.sliders)  # "z3 ≈ x", after load
        self.where = WhereAmI(m, self.views.data)  # nearest data, typicality: after the image
        self._tabs = None
        self._redraw()
        self._show_message()
        self._show_info()

    # -- building --------------------------------------------------------------------------
    def _build_controls(self) -> pn.Column:
        m = self.model
        mode = pn.widgets.RadioButtonGroup.from_param(
            m.param.mode,
            options={label: value for value, label in MODE_LABELS.items()},
            button_type="primary",
            button_style="outline",
            description=None,  # a tooltip here would cover the buttons beside it
            css_classes=[names.MODE],
            stylesheets=[MODE_CSS],
        )
        resample = pn.widgets.Button.from_param(
            m.param.resample, css_classes=[names.RESAMPLE], button_type="primary"
        )
        reset = pn.widgets.Button.from_param(m.param.reset, css_classes=[names.RESET])
        randomize = pn.widgets.Button.from_param(
            m.param.randomize_mu, css_classes=[names.RANDOMIZE]
        )
        seed = internals.BoundedIntInput.from_param(
            m.param.seed, width=130, css_classes=[names.SEED]
        )
        # Disabled where they change nothing: ε (seed, Resample) is unused when z is set, μ in
        # the prior.
        unused_in = [
            (resample, ("deterministic",)),
            (seed, ("deterministic",)),
            (randomize, ("prior", "deterministic")),
        ]

        def follow_mode(*_):
            for widget, modes in unused_in:
                widget.disabled = m.mode in modes

        m.param.watch(follow_mode, "mode")
        follow_mode()
        # The PNG's size: 28 px is too small for a slide; pixels grow as blocks, never blurred.
        png_scale = pn.widgets.Select(
            options=png_scales(self._image_size()),
            value=PNG_SCALE,
            width=140,  # "16× (448 px)" whole, with the arrow
            description="Size of the downloaded PNG: each pixel drawn as an n×n block",
            css_classes=[names.PNG_SCALE],
        )

        def follow_size(*_):  # the sizes in the model's pixels; the same factor where offered
            options = png_scales(self._image_size())
            if options != png_scale.options:
                value = png_scale.value
                kept = value if value in options.values() else None
                fallback = max((n for n in options.values() if n <= PNG_SCALE), default=1)
                png_scale.param.update(options=options, value=kept or fallback)

        m.param.watch(follow_size, "info")
        downloads = [
            self._download(
                "png",
                "Image (PNG)",
                lambda m, scale: to_png_bytes(m.image, scale),
                ahead=lambda m: png_scale.value,  # read on the event loop, at the click
            ),
            png_scale,
            self._download("json", "z (JSON)", lambda m: state.dumps(m).encode()),
            self._download("html", "Page (HTML)", lambda m: static.page_html(m).encode()),
            self._download(
                "live",
                "Living page (HTML)",
                lambda m, net: living.page_html(m, net=net).encode(),
                "live.html",
                ahead=lambda m: layers.decoder_layers(m.vae),
            ),
        ]
        # The mode's help above the buttons: a tooltip on them would cover the buttons beside it.
        mode_help = pn.pane.HTML(
            html.escape(MODE_HELP),
            css_classes=[names.MODE_HELP],
            styles={"color": "#555", "font-size": "13px"},
            margin=(4, 10, 0, 10),
        )
        # Rows that wrap: on a projector or a phone a button would otherwise be cut off.
        return pn.Column(
            mode_help,
            pn.FlexBox(mode, resample, reset, randomize, seed, **WRAP),
            pn.FlexBox(pn.pane.Markdown("Download:", margin=(8, 10)), *downloads, **WRAP),
            sizing_mode="stretch_width",
        )

    def _download(
        self, kind: str, label: str, make, suffix: str | None = None, ahead=None
    ) -> pn.widgets.FileDownload:
        """A button that downloads ``make(model)`` (bytes) for the current z, made on click, as
        ``<model>-z.<suffix>`` (the suffix defaults to ``kind``). ``make`` runs in a worker
        thread on a snapshot of the model: a page takes half a second, which no session waits.

        ``ahead(model)``, when given, runs first on the event loop, and ``make`` gets its result
        too: for what must not run beside other threads' decodes (a torch.fx trace patches
        ``nn.Module.__call__`` for every thread while it runs: a slider's decode then failed)."""
        suffix = suffix or kind

        def prepare():
            model = self.model.snapshot()
            widget.filename = f"{model.info.stem}-z.{suffix}"
            if ahead is None:
                return functools.partial(make, model)
            return functools.partial(make, model, ahead(model))

        widget = pn.widgets.FileDownload(
            callback=download_callback(prepare),
            filename=f"z.{suffix}",
            label=label,
            button_style="outline",
            disabled=self.model.info is None,
            css_classes=[names.download(kind)],
        )
        # Nothing to download until a model has loaded (a failed load keeps the one before).
        self.model.param.watch(lambda event: setattr(widget, "disabled", event.new is None), "info")
        return widget

    def _build_checkpoint_picker(self) -> pn.Column:
        m = self.model
        self._background = Background()  # this session's loads, read off the event loop
        bundled = zoo.available()
        current = m.info.source if m.info is not None else None
        picker = pn.widgets.Select(
            label="Bundled model",
            options={"— a checkpoint path —": "", **{name: name for name in bundled}},
            value=current if current in bundled else "",
            css_classes=[names.ZOO],
        )
        path = pn.widgets.TextInput(
            label="Checkpoint path",
            placeholder="path/to/model.pth or .onnx",
            value="" if current in bundled else (m.checkpoint or ""),
            css_classes=[names.PATH],
        )
        load = pn.widgets.Button(label="Load", css_classes=[names.LOAD], button_type="primary")
        self._load_button = load
        self._loading_note = pn.pane.HTML(
            "", css_classes=[names.LOADING], visible=False, sizing_mode="stretch_width"
        )

        def choose(event):
            # Not when the picker only follows a load that is done (see _show_info).
            done = m.info is not None and m.info.source == event.new == m.checkpoint
            if event.new and not (done and not self._background.pending("load")):
                self._load(event.new)

        picker.param.watch(choose, "value")
        load.on_click(lambda _event: self._load(path.value_input or path.value))
        # Enter loads, as Load does, also the same path again (a retry); leaving the box does not.
        path.param.watch(lambda _event: self._load(path.value), "enter_pressed")
        device = pn.widgets.Select(
            label="Device",
            options=list(m.param.device.objects),
            value=m.device,
            css_classes=[names.DEVICE],
        )  # not from_param: a new device reloads the checkpoint, off the event loop
        device.param.watch(
            lambda event: self._loads(lambda: setattr(m, "device", event.new)), "value"
        )
        m.param.watch(lambda event: setattr(device, "value", event.new), "device")
        upload = pn.widgets.FileInput(
            accept=UPLOAD_ACCEPT, multiple=False, css_classes=[names.UPLOAD], name="Upload"
        )

        def uploaded(event):
            if event.new is not None:
                self._loads(lambda: m.upload(event.new, upload.filename))

        upload.param.watch(uploaded, "value")
        # Files over the limit never leave the browser (one over the websocket's message limit
        # would drop the connection); the guard tells us what it refused.
        guard = guard_uploads(names.UPLOAD, m.max_upload_bytes, self._refused_upload)
        limit = f"{m.max_upload_bytes / 2**20:g} MB"
        upload_label = pn.pane.Markdown(f"or upload a checkpoint (up to {limit}):", margin=(0, 10))
        self._picker = picker
        paths = [path, load] if m.access.paths_allowed else []
        return pn.Column(
            picker,
            *paths,
            self._loading_note,
            upload_label,
            upload,
            *([guard] if guard is not None else []),
            device,
            css_classes=[names.CHECKPOINT],
        )

    def _build_device_note(self) -> pn.pane.Markdown:
        """The line "Using device: cpu": where the model decodes (what *auto* resolved to)."""
        note = pn.pane.Markdown(css_classes=[names.DEVICE_USED], margin=(0, 10))

        def show(*_):
            m = self.model
            vae = m.vae
            used = next(vae.parameters()).device if vae is not None else None
            note.object = f"Using device: **{used.type if used else resolve_device(m.device)}**"

        self.model.param.watch(show, ["device", "info"])
        show()
        return note

    def _refused_upload(self, refused: list) -> None:
        """The browser refused a file (see UploadGuard): say why, in the model's words."""
        items = refused if isinstance(refused, list) else []
        reason, filename, size = [*items, None, None, None][:3]
        size = 0 if reason == "empty" else finite(size)
        refusal = None
        if reason in ("too large", "empty") and size is not None:
            refusal = self.model.upload_refusal(filename, size)
        self.model.message = refusal or "upload one checkpoint file at a time"

    def _load(self, source: str) -> None:
        """Load a checkpoint (zoo name or path); a retry of the same source reloads."""
        source = (source or "").strip()
        with self.model.loading_with(self._run_load):
            if source == self.model.checkpoint:
                self.model.param.trigger("checkpoint")
            else:
                self.model.checkpoint = source

    def _loads(self, change) -> None:
        """``change()`` of the model, any load it starts read off the event loop."""
        with self.model.loading_with(self._run_load):
            change()

    def _run_load(self, source: str, read, apply, failed) -> None:
        """The model's runner for the loads this page starts: ``read`` in a worker thread (a big
        checkpoint takes seconds, which no other session waits), "Loading …" meanwhile, then
        ``apply`` or ``failed`` here; the latest load wins."""
        self._show_loading(source)

        def done(loaded) -> None:
            try:
                apply(loaded)
            finally:
                self._show_loading(None)

        def fail(error: Exception) -> None:
            self._show_loading(None)
            if not isinstance(error, CheckpointError):  # a bug: in the log, and one line here
                log.error("loading %s failed", source, exc_info=error)
                error = CheckpointError(
                    f"{_source_name(source)} could not be loaded ({type(error).__name__})"
                )
            failed(error)

        self._background.run(read, done, fail, key="load")

    def _show_loading(self, source: str | None) -> None:
        if source is not None:
            self._loading_note.object = f"Loading {html.escape(_source_name(source))}…"
        self._loading_note.visible = source is not None
        self._load_button.loading = source is not None

    # -- updates ---------------------------------------------------------------------------
    def _image_or_blank(self) -> np.ndarray:
        m = self.model
        return m.image if m.image is not None else np.zeros((28, 28), dtype=np.float32)

    def _image_size(self) -> tuple[int, int]:
        """(H, W) of the model's images (28×28 before one has loaded)."""
        info = self.model.info
        return tuple(info.image_shape[1:]) if info is not None else (28, 28)

    def _fit_image(self, image: np.ndarray) -> None:
        """A model of another image shape (size, grey or RGB): render the image plot again for
        it, and size its box; a plot of the same shape is only written in place."""
        # The old source loses its name first: the page may hold the old figure a while, and
        # scripts (tests, benchmarks, pages) find the image by that name, which must be unique.
        self.image_plot.source.name = None
        self.image_plot = InPlacePlot.of(image_figure(image, names.IMAGE_SOURCE))
        self._image_pane.object = self.image_plot.figure
        self._image_box.width = image_box_px(image)

    def _z_or_blank(self) -> np.ndarray:
        m = self.model
        return m.z if m.z is not None else np.zeros(m.latent_dim, dtype=np.float32)

    def _redraw(self, *_):
        """Write the new image first (the hot path), then the bars and the numbers."""
        image = self._image_or_blank()
        with pn.io.hold():
            if not fits(self.image_plot, image):
                self._fit_image(image)
            write_image(self.image_plot, image)
            z = self._z_or_blank()
            write_bars(self.bars_plot, z)
            text = fragments.values_html(z) + fragments.stats_html(self.model.statistics())
            internals.write_text(self._numbers, text)

    def _fit_numbers(self, *_):
        """Size the values box for the model's latent size: a line per VALUES_PER_LINE
        dimensions (up to VALUES_MAX_LINES) and two for the statistics."""
        lines = min(-(-self.model.latent_dim // VALUES_PER_LINE), VALUES_MAX_LINES) + 2
        self._numbers.height = round(lines * VALUES_LINE_PX) + 6

    def _show_message(self, *_):
        message = self.model.message
        self._error.object = fragments.literal(message)
        self._error.visible = bool(message)

    def show_notices(self, notices: list[str]) -> None:
        self._notice.object = fragments.literal("; ".join(notices))
        self._notice.visible = bool(notices)

    def _show_info(self, *_):
        model = self.model
        if model.info is None:
            internals.write_text(self._info, "No model loaded.")
            return
        facts = fragments.model_facts(model)
        title = f"Model {facts.pop('model')}"
        del facts["checkpoint"]  # the picker above shows it
        # File names and metadata come from the checkpoint: fragments escapes them.
        with pn.io.hold():  # sent now, as Panel sends its panes' changes: before "Loading…" hides
            internals.write_text(self._info, fragments.facts_html(title, facts))
        # The picker names the bundled model loaded, or none ("— a checkpoint path —", which
        # loads nothing) for a path or an upload.
        source = model.info.source
        picked = source if source in zoo.NAMES else ""
        if self._picker.value != picked:
            self._picker.value = picked

    # -- layout ----------------------------------------------------------------------------
    def sidebar(self) -> list:
        return [
            pn.pane.Markdown("### Checkpoint"),
            self._checkpoint,
            self._device_used,
            pn.pane.Bokeh(self._info, sizing_mode="stretch_width"),
            pn.pane.Markdown(TIPS, css_classes=[names.TIPS]),
        ]

    def main(self) -> list:
        """Controls, then tabs (the image and bars, then one per exploration view), then the
        sliders, which stay in sight whichever tab is open."""
        if self._tabs is None:
            explore = pn.FlexBox(
                self._image_box,
                pn.Column(
                    self._bars_box,
                    pn.pane.Bokeh(self._numbers, sizing_mode="stretch_width"),
                    self.where,
                    sizing_mode="stretch_width",
                    min_width=BARS_MIN_PX,  # narrower, it wraps under the image
                    styles={"flex": "1 1 0"},
                ),
                **WRAP,
            )
            self._tabs = self.views.tabs(explore)
            self._tabs.stylesheets = [*self._tabs.stylesheets, TABS_CSS]
            self._tabs.param.watch(self._stick, "active")
            self._stick()
        subtitle = pn.pane.Markdown(SUBTITLE, css_classes=[names.SUBTITLE], margin=(0, 10))
        footer = pn.pane.Markdown(HOW_IT_WORKS, css_classes=[names.HOW])
        return [
            subtitle, self._error, self._notice, self._controls, self._tabs, self.sliders, footer
        ]  # fmt: skip

    def _stick(self, *_):
        """The Explore tab stays in view while the sliders below it scroll (see TABS_CSS); a
        view's tab does not: a tall one would hide its own bottom."""
        sticky = self._tabs.active == 0
        classes = [c for c in self._tabs.css_classes if c != names.STICKY]
        self._tabs.css_classes = [*classes, names.STICKY] if sticky else classes

    def __panel__(self):
        return pn.Row(
            pn.Column(*self.sidebar(), width=300),
            pn.Column(*self.main(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def sync_url(self, location) -> None:
        """Apply a page URL's state (with notices for what was fixed), then keep it current."""
        query, notices = urlstate.parse_search(location.search or "")
        self.show_notices(notices + urlstate.apply_query(self.model, query))
        followed = ["mode", "mu", "sigma", "z_set", "seed", "info"]

        def write():
            # Not Location.update_query: it re-reads the old query with Panel's parser first.
            location.search = urlstate.search_string(self.model)

        self.model.param.watch(Debounced(write, URL_DELAY_MS), followed)
        write()

    def template(self) -> pn.template.BaseTemplate:
        """The served page: a template with the sidebar and the main area.

        Each area is one Column: the template adds every item as a root of the document, and
        Bokeh walks the whole document once per root added (nine roots cost ≈ 0.15 s of each
        page open; two, ≈ 0.03 s). The page fits a projector and a phone: the rows wrap, the
        Explore tab sticks while the sliders scroll, the sidebar starts closed below NARROW_PX.
        """
        if pn.state.curdoc is not None:  # served: the sidebar closes on a narrow page
            pn.state.curdoc.js_on_event("document_ready", CustomJS(code=CLOSE_SIDEBAR))
            # Panel's own notice (pn.config.disconnect_notification) needs its notification
            # area in every page, a model tree of its own; this is one callback.
            pn.state.curdoc.js_on_event("connection_lost", CustomJS(code=RELOAD_NOTICE))
        return Page(
            title=TITLE,
            sidebar=[pn.Column(*self.sidebar(), sizing_mode="stretch_width")],
            main=[pn.Column(*self.main(), sizing_mode="stretch_width")],
            sidebar_width=330,
            header_background="#1e3a8a",
            meta_viewport="width=device-width, initial-scale=1",
            raw_css=[PAGE_CSS],
        )


class Page(pn.template.BootstrapTemplate):
    """The Bootstrap template, its document's model graph walked once per page open: the template
    adds each of its parts as a root, and Bokeh walks the whole document after each root added
    (≈ 0.05 s of a page open's server CPU for its seven roots; benchmarks/README.md, #19)."""

    def server_doc(self, doc=None, title=None, location=True):
        doc = doc if doc is not None else pn.state.curdoc
        if doc is None:
            return super().server_doc(doc, title, location)
        with doc.models.freeze():
            return super().server_doc(doc, title, location)


def image_box_px(image: np.ndarray | None) -> int:
    """The width of the image's box: the image as :func:`explorer.plots.image_px` shows it
    (336 px for 28×28), and a margin."""
    shape = image.shape[:2] if image is not None else (28, 28)
    return image_px(shape)[0] + 10


def png_scales(shape: tuple[int, int]) -> dict[str, int]:
    """The PNG download's choice of sizes for images of ``shape`` (H, W), labelled in the
    model's pixels: "8× (224 px)" for 28×28, "4× (256×128 px)" for 64×32; none past
    PNG_MAX_PX."""
    height, width = shape
    offered = [n for n in PNG_SCALES if n == 1 or max(height, width) * n <= PNG_MAX_PX]

    def size(n: int) -> str:
        return f"{width * n} px" if height == width else f"{width * n}×{height * n} px"

    return {f"{n}× ({size(n)})": n for n in offered}


def _source_name(source: str) -> str:
    """A checkpoint as the loading note names it: a path by its file name."""
    if source.startswith(UPLOAD_PREFIX):
        return source.removeprefix(UPLOAD_PREFIX)
    return source if source in zoo.NAMES else Path(source).name or source
