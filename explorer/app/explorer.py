"""LatentExplorer: the Panel view of a LatentModel. The only module that builds Panel objects.

Speed is the point of its shape. The image and the bar chart are HoloViews elements rendered once
per session (``hv.render``); a change writes only their Bokeh data sources. The per-dimension
sliders are Bokeh ``Slider`` models whose ``on_change`` callbacks Bokeh runs as soon as the
browser's message arrives (Panel widgets would add a 50 ms server-side debounce), and they write
LatentModel parameters: they never call torch. Everything is built per instance, so browser
sessions share nothing but the read-only model weights.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import re
import time
from pathlib import Path

import numpy as np
import panel as pn
import param
from bokeh.models import Slider
from panel.models import HTML

from explorer import zoo
from explorer.access import UPLOAD_PREFIX
from explorer.app import untrusted
from explorer.app.background import Background, download_callback
from explorer.app.upload_guard import guard_uploads
from explorer.app.views import ExplorationViews
from explorer.checkpoint import CheckpointError
from explorer.compute import divergence
from explorer.compute.device import resolve_device
from explorer.figures.png import to_png_bytes
from explorer.latent import state, urlstate
from explorer.latent.space import (
    MODE_HELP,
    MODE_LABELS,
    SLIDER_HELP,
    SLIDERS,
    LatentModel,
    dim_label,
)
from explorer.pages import layers, living, static
from explorer.plots import (
    IMAGE_PX,
    NEGATIVE,
    POSITIVE,
    InPlacePlot,
    bars_data,
    bars_element,
    image_element,
)

log = logging.getLogger(__name__)
PAGE_SIZE = 16  # dimensions shown at once; larger models page through them
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
3. The VAE's decoder turns z into the 28×28 image; the bars show z.

*Prior* decodes z = ε ~ N(0, I), the prior that training pulls every encoding towards; *Set z
exactly* decodes the z you choose. Dimensions the model does not use (low KL, see *KL / active
units*) change the image little.
"""


class Debounced:
    """Calls ``action`` once, ``delay_ms`` after the last call, on this session's document.

    Keeps work that need not follow every slider step (the URL) off the repaint's path. A call
    only moves the deadline; one timer at a time checks it (re-arming a Bokeh timeout on every
    step cost more than the write it delays). Runs at once where there is no server session (a
    notebook, a test).
    """

    def __init__(self, action, delay_ms: int):
        self._action = action
        self._delay_s = delay_ms / 1000
        self._due = 0.0
        self._doc = None
        # Bokeh runs timers the way it runs callbacks: nothing may escape (explorer.untrusted).
        self._guarded_run = untrusted.guarded("URL update", self._run)

    def __call__(self, *_events) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._action()
            return
        self._due = time.monotonic() + self._delay_s
        if self._doc is None:
            self._doc = doc
            doc.add_timeout_callback(self._guarded_run, round(self._delay_s * 1000))

    def _run(self) -> None:
        left = self._due - time.monotonic()
        if left > 0.001:
            self._doc.add_timeout_callback(self._guarded_run, round(left * 1000))
            return
        self._doc = None
        self._action()


class BoundedIntInput(pn.widgets.IntInput):
    """An IntInput that refuses what its box never sends (NaN, 1e308, 2.5, an empty box, a number
    outside start–end): one log line, and the box shows its value again.

    A plain IntInput hands such a value to param, whose error Panel logs with a traceback, and
    the box keeps showing it.
    """

    def _process_property_change(self, msg):
        params = super()._process_property_change(msg)
        if "value" in params:
            value = self._checked(params["value"])
            if value is None:
                why = f"not an integer in [{self.start}, {self.end}]"
                untrusted.refused(f"{self.name} input", params["value"], why)
                del params["value"]
                self.param.trigger("value")  # show the value it has
            else:
                params["value"] = value  # 7.0 as 7
        return params

    def _checked(self, value) -> int | None:
        """``value`` as an int within start–end, or None."""
        number = untrusted.number(value)
        if number is None or not number.is_integer():
            return None
        low = self.start if self.start is not None else -math.inf
        high = self.end if self.end is not None else math.inf
        return int(number) if low <= number <= high else None


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
        self._order: list[int] = []
        self._inactive: set[int] = set()
        self._sliders: dict[tuple[str, int], Slider] = {}
        self._syncing = False  # moving sliders to the model's values: not a user's move
        self._moving = False  # a slider's own move is being written to the model
        self._pager = pn.widgets.Select(
            name="Dimensions", width=160, visible=False, css_classes=["latent-pager"]
        )
        self._pager.param.watch(lambda e: setattr(self, "page", e.new), "value")
        self._body = pn.Column(sizing_mode="stretch_width")
        self._prior_note = pn.pane.Markdown(
            "z is drawn from the prior N(0, I): μ and σ do not apply. Press **Resample**.",
            visible=False,
        )
        toggle = pn.widgets.Checkbox.from_param(
            self.param.by_kl, css_classes=["latent-order-kl"], visible=usage is not None
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
            bounds, symbol, css = SLIDERS[name]
            title = dim_label(symbol, index) + (" (inactive)" if index in self._inactive else "")
            slider = Slider(
                start=bounds[0],
                end=bounds[1],
                step=0.01,
                value=getattr(self.model, name)[index],
                title=title,
                format="0[.]00",
                css_classes=[f"{css}-{index}"],
                html_attributes={"title": SLIDER_HELP[name].format(index + 1)},  # a tooltip
                sizing_mode="stretch_width",
                margin=(2, 8, 2, 8),
            )
            untrusted.on_change(
                slider,
                "value",
                f"slider {css}-{index}",
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
        bounds, _, css = SLIDERS[name]
        clamped = untrusted.clamp(value, bounds)
        if clamped != value:
            why = "not a number" if clamped is None else f"clamped to {clamped:g}"
            untrusted.refused(f"slider {css}-{index}", value, why)
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
        order = divergence.by_kl(usage[0]) if usage is not None else list(range(n))
        inactive = {d for d in range(n) if not usage[1][d]} if usage is not None else set()
        pages = max(1, -(-n // PAGE_SIZE))
        label = "by KL {}–{}" if usage is not None else "{}–{}"
        options = {
            label.format(p * PAGE_SIZE + 1, min(n, (p + 1) * PAGE_SIZE)): p for p in range(pages)
        }
        if self._sliders and (order, inactive, options) == (
            self._order,
            self._inactive,
            self._pager.options,
        ):
            return
        self._sliders.clear()
        self._order, self._inactive = order, inactive
        self._pager.options = options
        self._pager.visible = pages > 1
        if self.page != 0:
            self.page = 0  # triggers _show_page
        else:
            self._show_page()

    @param.depends("page", watch=True)
    def _show_page(self):
        self._pager.value = self.page
        n = self.model.latent_dim
        dims = self._order[self.page * PAGE_SIZE : min(n, (self.page + 1) * PAGE_SIZE)]
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


class LatentExplorer(pn.viewable.Viewer):
    """The explorer for one session: controls, sliders, the decoded image and the z bars."""

    model = param.ClassSelector(class_=LatentModel)

    def __init__(self, model: LatentModel | None = None, data_dir: str | None = None, **params):
        super().__init__(model=model if model is not None else LatentModel(), **params)
        m = self.model
        self._image = InPlacePlot(image_element(self._image_or_blank()), "latent-image-source")
        self._bars_limit = 4.0
        self._bars = InPlacePlot(
            bars_element(self._z_or_blank(), self._bars_limit),
            "latent-bars-source",
        )
        self._image_box = pn.Column(
            pn.pane.Bokeh(self._image.figure), css_classes=["latent-image"], width=IMAGE_PX + 10
        )
        self._bars_box = pn.Column(
            pn.pane.Bokeh(self._bars.figure, sizing_mode="stretch_width"),
            css_classes=["latent-bars"],
            sizing_mode="stretch_width",
        )
        # z's values and statistics: one Panel HTML *model* written directly (the pane around
        # it cost ~2 ms of server time per change; a Bokeh Div cost the browser ~3 ms a change),
        # with a fixed height: a text change then repaints without re-laying out the page.
        self._numbers = HTML(
            css_classes=["latent-values"],
            sizing_mode="stretch_width",
            height=70,
            run_scripts=False,
            disable_math=True,
        )
        self._error = pn.pane.Alert(
            alert_type="danger",
            css_classes=["latent-error"],
            visible=False,
            sizing_mode="stretch_width",
        )
        self._notice = pn.pane.Alert(
            alert_type="warning",
            css_classes=["latent-notice"],
            visible=False,
            sizing_mode="stretch_width",
        )
        self._info = pn.pane.Markdown(css_classes=["latent-info"], sizing_mode="stretch_width")
        self.sliders = DimensionSliders(m, usage=lambda: self.views.data.usage())
        self._controls = self._build_controls()
        self._checkpoint = self._build_checkpoint_picker()
        self._device_used = self._build_device_note()
        m.param.watch(self._redraw, ["image", "z"])
        m.param.watch(self._show_message, ["message"])
        m.param.watch(self._show_info, ["info"])
        self.views = ExplorationViews(m, data_dir)  # its watchers after _redraw's: image first
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
            css_classes=["latent-mode"],
        )
        resample = pn.widgets.Button.from_param(
            m.param.resample, css_classes=["latent-resample"], button_type="primary"
        )
        reset = pn.widgets.Button.from_param(m.param.reset, css_classes=["latent-reset"])
        randomize = pn.widgets.Button.from_param(
            m.param.randomize_mu, css_classes=["latent-randomize"]
        )
        seed = BoundedIntInput.from_param(m.param.seed, width=130, css_classes=["latent-seed"])
        downloads = [
            self._download("png", "Image (PNG)", lambda m: to_png_bytes(m.image)),
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
            css_classes=["latent-mode-help"],
            styles={"color": "#555", "font-size": "13px"},
            margin=(4, 10, 0, 10),
        )
        return pn.Column(
            mode_help,
            pn.Row(mode, resample, reset, randomize, seed, sizing_mode="stretch_width"),
            pn.Row(pn.pane.Markdown("Download:", margin=(8, 10)), *downloads),
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
            css_classes=[f"latent-download-{kind}"],
        )
        # Nothing to download until a model has loaded (a failed load keeps the one before).
        self.model.param.watch(lambda event: setattr(widget, "disabled", event.new is None), "info")
        return widget

    def _build_checkpoint_picker(self) -> pn.Column:
        m = self.model
        self._background = Background()  # this session's loads, read off the event loop
        names = zoo.available()
        current = m.info.source if m.info is not None else None
        picker = pn.widgets.Select(
            name="Bundled model",
            options={"— a checkpoint path —": "", **{name: name for name in names}},
            value=current if current in names else "",
            css_classes=["latent-zoo"],
        )
        path = pn.widgets.TextInput(
            name="Checkpoint path",
            placeholder="path/to/model.pth",
            value="" if current in names else (m.checkpoint or ""),
            css_classes=["latent-path"],
        )
        load = pn.widgets.Button(name="Load", css_classes=["latent-load"], button_type="primary")
        self._load_button = load
        self._loading_note = pn.pane.HTML(
            "", css_classes=["latent-loading"], visible=False, sizing_mode="stretch_width"
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
            css_classes=["latent-device"],
        )  # not from_param: a new device reloads the checkpoint, off the event loop
        device.param.watch(
            lambda event: self._loads(lambda: setattr(m, "device", event.new)), "value"
        )
        m.param.watch(lambda event: setattr(device, "value", event.new), "device")
        upload = pn.widgets.FileInput(
            accept=".pth,.pt", multiple=False, css_classes=["latent-upload"], name="Upload"
        )

        def uploaded(event):
            if event.new is not None:
                self._loads(lambda: m.upload(event.new, upload.filename))

        upload.param.watch(uploaded, "value")
        # Files over the limit never leave the browser (one over the websocket's message limit
        # would drop the connection); the guard tells us what it refused.
        guard = guard_uploads("latent-upload", m.max_upload_bytes, self._refused_upload)
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
            css_classes=["latent-checkpoint"],
        )

    def _build_device_note(self) -> pn.pane.Markdown:
        """The line "Using device: cpu": where the model decodes (what *auto* resolved to)."""
        note = pn.pane.Markdown(css_classes=["latent-device-used"], margin=(0, 10))

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
        size = 0 if reason == "empty" else untrusted.number(size)
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

    def _z_or_blank(self) -> np.ndarray:
        m = self.model
        return m.z if m.z is not None else np.zeros(m.latent_dim, dtype=np.float32)

    def _redraw(self, *_):
        """Write the new image first (the hot path), then the bars and the numbers."""
        with pn.io.hold():
            self._image.write(image=[self._image_or_blank()[::-1]])
            z = self._z_or_blank()
            self._write_bars(z)
            text = _values_html(z) + _stats_html(self.model.statistics())
            self._numbers.text = html.escape(text)  # the model's text is escaped HTML

    def _write_bars(self, z: np.ndarray) -> None:
        """New heights in place; a new latent size or a taller bar also updates the axes."""
        data = bars_data(z)
        figure = self._bars.figure
        if len(z) != len(self._bars.source.data["dimension"]):
            figure.x_range.factors = data["dimension"]
            figure.xaxis.major_label_orientation = np.pi / 2 if len(z) > 16 else "horizontal"
            self._bars.source.data = data
        else:
            # the same dimension names; z as a list: an array would travel as a websocket frame of
            # its own, and for a few numbers the frame costs more than the JSON
            self._bars.write(z=data["z"].tolist(), color=data["color"])
        tallest = float(np.abs(z).max(initial=0))
        if tallest > self._bars_limit:
            self._bars_limit = float(np.ceil(tallest))
            figure.y_range.update(start=-self._bars_limit, end=self._bars_limit)

    def _show_message(self, *_):
        message = self.model.message
        self._error.object = literal(message)
        self._error.visible = bool(message)

    def show_notices(self, notices: list[str]) -> None:
        self._notice.object = literal("; ".join(notices))
        self._notice.visible = bool(notices)

    def _show_info(self, *_):
        info = self.model.info
        if info is None:
            self._info.object = "No model loaded."
            return

        def show(value, fmt="{}"):
            # File names and metadata come from the checkpoint: shown as text, never as markup.
            return literal(fmt.format(value)) if value is not None else "unknown"

        loss = info.final_val_loss
        self._info.object = "\n".join(
            [
                f"### Model {show(info.name)}",
                f"- latent size: **{info.latent_dim}**",
                f"- β: **{show(info.beta, '{:g}')}**",
                f"- epochs: **{show(info.epochs)}**",
                f"- data set: **{show(info.dataset)}**",
                f"- validation loss: **{show(loss, '{:.1f}')}**",
                f"- output: {info.output}; format: {info.format}",
            ]
        )
        if info.source in zoo.NAMES and self._picker.value != info.source:
            self._picker.value = info.source

    # -- layout ----------------------------------------------------------------------------
    def sidebar(self) -> list:
        return [
            pn.pane.Markdown("### Checkpoint"),
            self._checkpoint,
            self._device_used,
            self._info,
            pn.pane.Markdown(TIPS, css_classes=["latent-tips"]),
        ]

    def main(self) -> list:
        """Controls, then tabs (the image and bars, then one per exploration view), then the
        sliders, which stay in sight whichever tab is open."""
        if self._tabs is None:
            explore = pn.Row(
                self._image_box,
                pn.Column(
                    self._bars_box,
                    pn.pane.Bokeh(self._numbers, sizing_mode="stretch_width"),
                    sizing_mode="stretch_width",
                ),
                sizing_mode="stretch_width",
            )
            self._tabs = self.views.tabs(explore)
        subtitle = pn.pane.Markdown(SUBTITLE, css_classes=["latent-subtitle"], margin=(0, 10))
        footer = pn.pane.Markdown(HOW_IT_WORKS, css_classes=["latent-how"])
        return [
            subtitle, self._error, self._notice, self._controls, self._tabs, self.sliders, footer
        ]  # fmt: skip

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
        names = ["mode", "mu", "sigma", "z_set", "seed", "info"]

        def write():
            # Not Location.update_query: it re-reads the old query with Panel's parser first.
            location.search = urlstate.search_string(self.model)

        self.model.param.watch(Debounced(write, URL_DELAY_MS), names)
        write()

    def template(self) -> pn.template.BaseTemplate:
        """The served page: a template with the sidebar and the main area.

        Each area is one Column: the template adds every item as a root of the document, and
        Bokeh walks the whole document once per root added (nine roots cost ≈ 0.15 s of each
        page open; two, ≈ 0.03 s).
        """
        return pn.template.BootstrapTemplate(
            title="VAE latent explorer",
            sidebar=[pn.Column(*self.sidebar(), sizing_mode="stretch_width")],
            main=[pn.Column(*self.main(), sizing_mode="stretch_width")],
            sidebar_width=330,
            header_background="#1e3a8a",
        )


MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def literal(text: str) -> str:
    """``text`` for a Markdown pane, shown as written: HTML escaped, Markdown syntax escaped.

    For anything that comes from a file, a URL or a message built from them: a file name with a
    backtick and ``<img onerror=…>`` must read as a name, not run in every visitor's browser.
    """
    # Markdown first: HTML's escapes (``&lt;``) must reach Markdown whole, as entities.
    return html.escape(MARKDOWN_SPECIALS.sub(r"\\\1", text), quote=False)


def _source_name(source: str) -> str:
    """A checkpoint as the loading note names it: a path by its file name."""
    if source.startswith(UPLOAD_PREFIX):
        return source.removeprefix(UPLOAD_PREFIX)
    return source if source in zoo.NAMES else Path(source).name or source


def _values_html(z: np.ndarray) -> str:
    cells = "".join(
        f"<span style='color:{POSITIVE if v >= 0 else NEGATIVE}'>"
        f"{dim_label('z', i)}&nbsp;{v:+.3f}</span> "
        for i, v in enumerate(z)
    )
    style = "font-family:monospace;font-size:12px;line-height:1.6"
    return f"<div class='latent-z-values' style='{style}'>{cells}</div>"


def _stats_html(s: dict[str, float]) -> str:
    """The statistics LatentModel.statistics gives for the mode (μ and σ only in sample mode)."""
    parts = []
    if "mu_mean" in s:
        parts.append(f"μ: {s['mu_mean']:+.2f} ± {s['mu_std']:.2f}")
        parts.append(f"σ: {s['sigma_mean']:.2f} ± {s['sigma_std']:.2f}")
    if "z_mean" in s:
        parts.append(
            f"z: mean {s['z_mean']:+.3f}, std {s['z_std']:.3f}, "
            f"min {s['z_min']:+.3f}, max {s['z_max']:+.3f}"
        )
    style = "font-size:13px;color:#444;margin-top:4px"
    return f"<div class='latent-stats' style='{style}'>" + " &nbsp;|&nbsp; ".join(parts) + "</div>"
