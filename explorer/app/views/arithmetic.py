"""The Arithmetic view: moves through latent space that mean something, for a data sample with
labels. The class means (the posterior means of each label's images, averaged), the path from
class A's mean towards class B's with a slider t, the current z moved by t·(B − A), and an
analogy a − b + c of three data images (Latent Space Cartography's latent arithmetic)."""

from __future__ import annotations

import html

import numpy as np
import panel as pn
import param
from bokeh.models import Slider

from explorer import names
from explorer.app import untrusted
from explorer.app.views.base import View, markdown
from explorer.app.views.elements import cell_size, fit_scale, grid_element, shrink, ticks
from explorer.compute import arithmetic, decoding, grids
from explorer.latent.vector import Bounds
from explorer.plots import InPlacePlot, render, write_image

STEPS = 8  # images along the path from A to B, ends included
T_BOUNDS = Bounds(0.0, 1.0)
MOST, MOST_ONE = 64, 192  # the longest side on screen of a cell of a row, of a single image
TERMS = ("a", "b", "c")  # the analogy a − b + c
TERM_LABELS = {"a": "a", "b": "− b", "c": "+ c"}


class ArithmeticView(View):
    """Class means, the path from class A towards class B (a t slider), the current z moved by
    t·(B − A), and an analogy a − b + c of three data images."""

    title = "Arithmetic"
    css = names.ARITHMETIC

    from_class = param.Selector(
        default=None, objects=[], label="From class A", doc="The class whose mean is t = 0"
    )
    to_class = param.Selector(
        default=None, objects=[], label="Towards class B", doc="The class whose mean is t = 1"
    )
    t = param.Number(
        default=0.5, bounds=T_BOUNDS, step=0.01, label="t", doc="z = (1 − t)·mean(A) + t·mean(B)"
    )
    term_a = param.Selector(default=None, objects=[], label="a", doc="The analogy's a (an image)")
    term_b = param.Selector(default=None, objects=[], label="− b", doc="The analogy's b")
    term_c = param.Selector(default=None, objects=[], label="+ c", doc="The analogy's c")
    send = param.Event(
        label="Send z(t) to the sliders", doc="μ = z(t) and σ = 0: the Explore tab shows z(t)"
    )

    def __init__(self, model, data, **params):
        super().__init__(model, data, **params)
        self._means_of = None  # the posterior the class means were computed from
        self._means = self._counts = None
        self.plots: dict[str, InPlacePlot] = {}  # path, at_t, moved, analogy: once rendered
        self._written: dict[str, object] = {}  # each plot → what its pixels were written for
        # t's slider is a Bokeh model, as the μ sliders are: no 50 ms debounce (see Interpolation)
        self.t_slider = Slider(
            start=T_BOUNDS[0], end=T_BOUNDS[1], step=0.01, value=self.t, title="t",
            css_classes=[names.ARITHMETIC_T], width=300,
        )  # fmt: skip
        untrusted.on_change(self.t_slider, "value", "arithmetic t", self._t_moved)
        select = pn.widgets.Select.from_param
        send = pn.widgets.Button.from_param(self.param.send, css_classes=[names.ARITHMETIC_SEND])
        self._path_controls = pn.Row(
            select(self.param.from_class, width=150, css_classes=[names.ARITHMETIC_FROM]),
            select(self.param.to_class, width=150, css_classes=[names.ARITHMETIC_TO]),
            pn.pane.Bokeh(self.t_slider),
            send,
        )
        self._terms = pn.Row(
            *(select(self.param[f"term_{k}"], width=130) for k in TERMS),
            css_classes=[names.ARITHMETIC_TERMS],
        )
        self._note = markdown(self.param.note)
        self.param.watch(self._chosen, ["from_class", "to_class", "term_a", "term_b", "term_c"])
        self.param.watch(self._t_set, "t")

    # -- the controls ------------------------------------------------------------------------
    def _t_moved(self, _attr, _old, new) -> None:
        """t's slider moved: a value outside [0, 1] is clamped, one that is no number (from a
        client, never the slider) refused and the slider set back."""
        t = untrusted.clamped("arithmetic t", new, T_BOUNDS)
        if t is None:
            self.t_slider.value = self.t
        else:
            self.t = t

    def _t_set(self, *_) -> None:
        self.t_slider.value = self.t  # the same value (a move of its own) changes nothing
        self._chosen()

    def _chosen(self, *_) -> None:
        if self.built:  # not while ``prepare`` fits the controls to a new model
            self.repaint()

    @param.depends("send", watch=True)
    def _send(self) -> None:
        """z(t) to the sliders as μ with σ = 0, so that the Explore tab shows z(t) exactly."""
        if self._means is None or self.from_class is None or self.to_class is None:
            return
        z = self._at_t()
        clamped = self.model.set_posterior(z, np.zeros_like(z))
        self.note = f"z(t) at t = {self.t:.2f} sent to the sliders (μ = z(t), σ = 0)" + (
            f"; {clamped} values clamped to the sliders' range." if clamped else "."
        )

    def _fit_controls(self, sample) -> bool:
        """A new model or sample: offer its classes and images, with defaults (see
        :func:`arithmetic.default_terms`). False when fewer than two classes have images."""
        post = self.data.posterior()
        if self._means_of is not post:
            self._means_of = post
            self._means, self._counts = arithmetic.class_means(
                post[0], sample.labels, len(sample.classes)
            )
        present = {sample.classes[k]: k for k in np.flatnonzero(self._counts)}
        if len(present) < 2:
            return False
        images = {
            f"#{k} · {sample.classes[int(label)]}": k for k, label in enumerate(sample.labels)
        }
        if self.param.from_class.objects != list(present.values()) or (
            list(self.param.term_a.objects) != list(images.values())
        ):
            a, b, c = arithmetic.default_terms(sample.labels, sample.classes)
            towards, start = int(sample.labels[a]), int(sample.labels[b])
            if start == towards:  # one of them absent: any two classes that have images
                start, towards = list(present.values())[:2]
            self.param.from_class.objects = self.param.to_class.objects = present
            for term in TERMS:
                self.param[f"term_{term}"].objects = images
            self.param.update(from_class=start, to_class=towards, term_a=a, term_b=b, term_c=c)
        return True

    # -- the images --------------------------------------------------------------------------
    def _at_t(self) -> np.ndarray:
        a, b = self._means[self.from_class], self._means[self.to_class]
        return arithmetic.towards(a, b, self.t)[0]

    def _keys(self) -> dict[str, object]:
        """What each plot shows, as a key: a plot is written again only when its key changed."""
        ends = (self.from_class, self.to_class)
        return {
            "path": ends,
            "at_t": (*ends, self.t),
            "moved": (*ends, self.t, self.z().tobytes()),
            "analogy": (self.term_a, self.term_b, self.term_c),
        }

    def _images(self, only=None) -> dict[str, np.ndarray]:
        """The plots' images (those in ``only``, or all), decoded in one forward pass; the note
        says what A and B are."""
        only = set(only if only is not None else ("path", "at_t", "moved", "analogy"))
        vae, sample = self.model.vae, self.data.sample()
        shape = decoding.image_shape(vae)
        mean_a, mean_b = self._means[self.from_class], self._means[self.to_class]
        post_mu = self.data.posterior()[0]
        terms = [int(getattr(self, f"term_{k}")) for k in TERMS]
        parts = {
            "path": arithmetic.towards(mean_a, mean_b, np.linspace(0, 1, STEPS)),
            "at_t": arithmetic.towards(mean_a, mean_b, self.t),
            "moved": (self.z() + self.t * (mean_b - mean_a))[None],
            "analogy": arithmetic.analogy(*post_mu[terms])[None],
        }
        wanted = [name for name in parts if name in only]
        latents = np.concatenate([parts[name] for name in wanted])
        decoded = decoding.decode(vae, latents) if len(latents) else latents
        rgb = shape[0] == 3
        out, start = {}, 0
        for name in wanted:
            images = decoded[start : start + len(parts[name])]
            start += len(parts[name])
            if name == "path":
                out[name] = grids.mosaic(shrink(images, shape, MOST), pad=grids.PAD, rgb=rgb)
            elif name == "analogy":
                shown = decoding.as_images(sample.images[terms], shape)
                cells = np.concatenate([shown, images])
                out[name] = grids.mosaic(shrink(cells, shape, MOST), pad=grids.PAD, rgb=rgb)
            else:
                out[name] = shrink(images[0], shape, MOST_ONE)
        classes = sample.classes
        name_a, name_b = (html.escape(classes[k]) for k in (self.from_class, self.to_class))
        self.note = (
            f"A = the mean of {self._counts[self.from_class]} “{name_a}” images, "
            f"B = the mean of {self._counts[self.to_class]} “{name_b}”; "
            f"|B − A| = {np.linalg.norm(mean_b - mean_a):.2f}; t = {self.t:.2f}"
        )
        return out

    # -- the view's life ---------------------------------------------------------------------
    def skeleton(self) -> list:
        return [self._path_controls, self._terms, self._note]

    def prepare(self):
        missing = self.data.missing("Latent arithmetic")
        sample = self.data.sample()
        if missing is None and not self._fit_controls(sample):
            missing = "Latent arithmetic needs a data sample with images of two classes or more."
        if missing is not None:
            self._body.objects = [markdown(html.escape(missing))]
            return None
        self._written = self._keys()
        shape = decoding.image_shape(self.model.vae)
        return self._images(), cell_size(shape, MOST)[1]

    def draw(self, inputs):
        images, cell_w = inputs
        path, at_t, moved, row = (images[k] for k in ("path", "at_t", "moved", "analogy"))
        path_ticks = ticks(["A", *[""] * (STEPS - 2), "B"], cell_w)
        row_ticks = ticks(["a", "− b", "+ c", "= a − b + c"], cell_w)
        return (
            render(
                grid_element(path, fit_scale(path, 640, 200, 3.0), xticks=path_ticks,
                             title="From class A towards class B"),
                names.ARITHMETIC_PATH_SOURCE,
            ),
            render(
                grid_element(at_t, fit_scale(at_t, 200, 200, 6.0), title="z(t)"),
                names.ARITHMETIC_T_SOURCE,
            ),
            render(
                grid_element(moved, fit_scale(moved, 200, 200, 6.0), title="z + t·(B − A)"),
                names.ARITHMETIC_SOURCE,
            ),
            render(
                grid_element(row, fit_scale(row, 480, 200, 4.0), xticks=row_ticks,
                             title="Analogy: a − b + c (posterior means)"),
                names.ARITHMETIC_ANALOGY_SOURCE,
            ),
        )  # fmt: skip

    def install(self, figures) -> None:
        self.plots = dict(
            zip(("path", "at_t", "moved", "analogy"), map(InPlacePlot.of, figures), strict=True)
        )
        self.plot = self.plots["moved"]  # the plot that follows the sliders
        bokeh = {name: pn.pane.Bokeh(plot.figure) for name, plot in self.plots.items()}
        self._body.objects = [
            self._path_controls,
            bokeh["path"],
            pn.Row(bokeh["at_t"], bokeh["moved"]),
            self._terms,
            bokeh["analogy"],
            self._note,
        ]

    def update(self) -> None:
        keys = self._keys()
        changed = [name for name, key in keys.items() if self._written.get(name) != key]
        if not changed:
            return
        for name, image in self._images(changed).items():
            write_image(self.plots[name], image)
        self._written = keys
