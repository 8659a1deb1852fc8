"""The plots as HoloViews elements rendered once to Bokeh, and the only code that writes their data.

Shared by the app (which renders each plot once per session, then writes only its data source)
and the pages (which render the same elements into a standalone file). It imports no Panel, so
the pages can use it: the app wraps a figure in its own ``pn.pane.Bokeh``.

What only this module knows of the rendered plots: the columns of their data sources (HoloViews
names them; the drawing canvas's, Bokeh), the row flip of an image, which renderer draws which
element of an overlay (its layer roles: ``MAP_POINTS``, ``MAP_CURRENT``, ``KL_MARKS``), how an
axis grows and when dimension labels turn upright. So the elements that name columns (the
image, the bars, the map and KL overlays, the drawing canvas) are made here, and the app writes
every plot through the functions here. The living page's JavaScript (``pages/js/page.js``) gets
the columns from here, as arguments.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh backend that .opts() targets
import numpy as np
from bokeh.document import Document
from bokeh.models import (
    ColumnDataSource,
    FreehandDrawTool,
    HoverTool,
    ImageRGBA,
    LinearColorMapper,
    Range1d,
)
from bokeh.plotting import figure as bokeh_figure
from bokeh.themes import Theme

from explorer.figures.png import to_uint8
from explorer.latent.table import dim_label

IMAGE_PX = 336  # the image's longest side on screen: 12 screen pixels per pixel of 28
POSITIVE, NEGATIVE = "#2563eb", "#dc2626"
CURRENT = "#dc2626"  # the current z, where a plot marks it
ACTIVE, INACTIVE = "#2563eb", "#cbd5e1"  # the KL bars of active and inactive units
# The data sources' columns, as HoloViews names them: an image's pixels (a list of one 2-D
# array, row 0 at the bottom: an hv.Image's values, an hv.RGB's RGBA packed into uint32), the
# bars' (one row per dimension), points' (x, y, then their values) and the KL view's bars and
# marks.
IMAGE_COLUMN = "image"
GREY_PALETTE = tuple("#" + f"{level:02x}" * 3 for level in range(256))  # black to white: "gray"
DIMENSION_COLUMN, Z_COLUMN, COLOR_COLUMN = "dimension", "z", "color"
X_COLUMN, Y_COLUMN, LABEL_COLUMN = "x", "y", "label"
XY = [X_COLUMN, Y_COLUMN]  # a points element's key dimensions
KL_COLUMN, NOW_COLUMN = "kl", "now"
SHOWN_COLUMN, VARIANCE_COLUMN = "shown", "variance"  # a bar's drawn height; Var[μ] per dimension
STROKES_X, STROKES_Y = "xs", "ys"  # the drawing canvas's: one list of points per stroke
# The layers of an overlay by role: HoloViews adds one renderer per element, in order.
MAP_POINTS, MAP_CURRENT = 1, -1  # map_element: the manifold, the data's points, the current z
MAP_NEAREST = 2  # map_element: rings round the data nearest z, under the cross
KL_MARKS = 1  # kl_element: the bars, then the marks of the current KL
BARS_LIMIT = 4.0  # the bars' z axis starts at ±4 and widens to the next integer past a taller bar
KL_HEADROOM = 1.1  # the KL axis reaches 10% past its tallest bar or mark
KL_STUB = 0.03  # the shortest KL bar, a fraction of the axis: a KL of ≈ 0 still shows
MARK_SIZE = 14  # the KL marks (◆), screen pixels across
VEIL_ALPHA = 0.6  # how much of an inactive dimension's traversal row a veil hides
VARIANCE_FLOOR = 1e-8  # the Var[μ] axis reaches no lower
VARIANCE_STUB = 2.0  # the shortest Var[μ] bar reaches this times the axis' floor (0.3 decade)
UPRIGHT_PAST = 16  # more dimensions than this along an axis: their labels stand upright
# The bar chart's title in each mode (explorer.latent.table.MODES): where its z comes from.
BARS_TITLES = {
    "sample": "z drawn from N(μ, σ²)",
    "prior": "z drawn from the prior N(0, I)",
    "deterministic": "z set exactly",
}


def image_element(image: np.ndarray) -> hv.Image | hv.RGB:
    """The decoded image as shown (H×W grey, H×W×3 RGB) as a HoloViews element with square
    pixels and hover, sized by :func:`image_px`: a grey Image of the floats, or an RGB of their
    8-bit levels (rounded as the PNGs are; HoloViews would truncate floats)."""
    height, width = image.shape[:2]
    px_w, px_h = image_px((height, width))
    options = {
        "width": px_w, "height": px_h, "border": 0, "xaxis": None, "yaxis": None,
        "toolbar": None, "tools": ["hover"], "default_tools": [],
    }  # fmt: skip
    bounds = (0, 0, width, height)
    if is_rgb(image):
        return hv.RGB(to_uint8(image), bounds=bounds).opts(**options)
    return hv.Image(image, bounds=bounds, vdims=["intensity"]).opts(
        cmap="gray", clim=(0.0, 1.0), **options
    )


def pixel_figure(shape: tuple[int, int], **sizing):
    """A bare plain-Bokeh figure for an image of ``shape`` (height, width) pixels, one data unit
    a pixel: no axes, tools or grid, a thin outline, drawn on a canvas; ``sizing`` gives its
    size on screen (width/height or frame_width/frame_height) and its min_border."""
    height, width = shape
    figure = bokeh_figure(
        x_range=Range1d(0, width),
        y_range=Range1d(0, height),
        x_axis_location=None,
        y_axis_location=None,
        toolbar_location=None,
        tools=[],
        outline_line_color="#e5e5e5",
        output_backend="canvas",
        **sizing,
    )
    figure.grid.visible = False
    return figure


def image_figure(image: np.ndarray, source_name: str):
    """:func:`image_element` drawn as :func:`render` draws it (same size, pixels, source columns
    and hover), but as a plain Bokeh figure: a third of the CPU of a HoloViews render, ≈ 30 ms
    of each page open (benchmarks/README.md, #19)."""
    height, width = image.shape[:2]
    px_w, px_h = image_px((height, width))
    figure = pixel_figure((height, width), width=px_w, height=px_h, min_border=0)
    rgb = is_rgb(image)
    pixels = rgba(image)[::-1] if rgb else image[::-1]
    columns = {IMAGE_COLUMN: [pixels], "x": [0], "y": [0], "dw": [width], "dh": [height]}
    source = ColumnDataSource(columns, name=source_name)
    draw_pixels(figure, source, rgb, 1.0, x="x", y="y", dw="dw", dh="dh")
    value = ("RGBA" if rgb else "intensity", f"@{IMAGE_COLUMN}")
    figure.add_tools(HoverTool(tooltips=[("x", "$x"), ("y", "$y"), value]))
    return figure


def draw_pixels(figure, source: ColumnDataSource, rgb: bool, white: float, **where) -> None:
    """Draw ``source``'s image column on ``figure``: packed RGBA as it is, or grey through
    GREY_PALETTE from 0 (black) to ``white``; ``where``: x, y, dw, dh (values or columns)."""
    if rgb:
        figure.image_rgba(image=IMAGE_COLUMN, source=source, **where)
    else:
        mapper = LinearColorMapper(palette=GREY_PALETTE, low=0.0, high=white)
        figure.image(image=IMAGE_COLUMN, source=source, color_mapper=mapper, **where)


def is_rgb(image: np.ndarray) -> bool:
    """Whether an image as shown (or a mosaic of them) is colour: H×W×3, channels last."""
    return np.ndim(image) == 3 and np.shape(image)[-1] == 3


def image_px(shape: tuple[int, int], longest: int = IMAGE_PX) -> tuple[int, int]:
    """Screen (width, height) of an image of ``shape`` (H, W): its longest side about
    ``longest`` pixels, each image pixel a whole number of screen pixels when that number is
    more than one (so that pixels stay crisp: 28 → 12 × 28 = 336, 64 → 5 × 64 = 320), scaled
    down to exactly ``longest`` when the image is larger."""
    height, width = shape
    scale = longest / max(height, width)
    if scale >= 1:
        scale = max(1, round(scale))
    return round(width * scale), round(height * scale)


def rgba(image: np.ndarray) -> np.ndarray:
    """An RGB image (H×W×3 in [0, 1], or its 8-bit levels) as Bokeh's ``image_rgba`` takes it:
    one uint32 per pixel, bytes R, G, B, A (opaque) in memory order; rows as given."""
    levels = image if image.dtype == np.uint8 else to_uint8(image)
    opaque = np.full(levels.shape[:2], 255, np.uint8)
    return np.ascontiguousarray(np.dstack([levels, opaque])).view(np.uint32)[..., 0]


def bars_element(z: np.ndarray, limit: float | None = None, mode: str = "sample") -> hv.Bars:
    """z as HoloViews Bars, one per dimension, blue for positive and red for negative, on an
    axis of ±``limit`` (by default :func:`bars_limit`), titled for ``mode`` (BARS_TITLES)."""
    limit = bars_limit(z) if limit is None else limit
    bars = hv.Bars(bars_data(z), kdims=[DIMENSION_COLUMN], vdims=[Z_COLUMN, COLOR_COLUMN])
    return bars.opts(
        color=COLOR_COLUMN,
        ylim=(-limit, limit),
        height=260,
        responsive=True,
        min_width=300,
        toolbar=None,
        tools=["hover"],
        default_tools=[],
        xlabel="",
        ylabel="z",
        xrotation=label_rotation(len(z)),
        title=BARS_TITLES[mode],
    )


def bars_data(z: np.ndarray) -> dict:
    """The columns of the bar chart's data source for z."""
    return {
        DIMENSION_COLUMN: [dim_label("z", i) for i in range(len(z))],
        Z_COLUMN: np.asarray(z, dtype=np.float64),
        COLOR_COLUMN: [color(v) for v in z],
    }


def bars_limit(z: np.ndarray, at_least: float = BARS_LIMIT) -> float:
    """The bars' axis limit (±) for z: ``at_least``, or past it the next integer above |z|."""
    return max(at_least, float(np.ceil(np.abs(z).max(initial=0))))


def color(value: float) -> str:
    """The colour of a z value: blue for positive (and zero), red for negative."""
    return POSITIVE if value >= 0 else NEGATIVE


def label_rotation(count: int) -> int:
    """How far (degrees) the labels of ``count`` dimensions along an axis turn: 90 past
    UPRIGHT_PAST, where side by side they would overlap."""
    return 90 if count > UPRIGHT_PAST else 0


def map_element(
    levels: np.ndarray,
    span: tuple[float, float],
    labels: tuple[str, str],
    current: tuple[float, float],
    points: tuple | None = None,
    nearest: tuple = ((), ()),
) -> hv.Overlay:
    """The 2-D map: a manifold's mosaic (8-bit levels, H×W grey or H×W×3 RGB) over ``span`` on
    both axes, named ``labels``; the data's ``points`` as (x, y, labels, colours), or none; rings
    at ``nearest`` (x, y), the data nearest z; a cross at ``current``. Its layers: the manifold,
    MAP_POINTS, MAP_NEAREST, MAP_CURRENT."""
    lo, hi = span
    if is_rgb(levels):
        image = hv.RGB(levels, bounds=(lo, lo, hi, hi), kdims=list(labels))
    else:
        image = hv.Image(levels, bounds=(lo, lo, hi, hi), kdims=list(labels)).opts(
            cmap="gray", clim=(0, 255)
        )
    if points is None:
        dots = hv.Points([]).opts(size=0)
    else:
        x, y, label, colour = points
        columns = {X_COLUMN: x, Y_COLUMN: y, LABEL_COLUMN: label, COLOR_COLUMN: colour}
        dots = hv.Points(
            columns, kdims=[X_COLUMN, Y_COLUMN], vdims=[LABEL_COLUMN, COLOR_COLUMN]
        ).opts(color=COLOR_COLUMN, size=5, alpha=0.8, line_color="white", line_width=0.5)
    rings = hv.Points({X_COLUMN: list(nearest[0]), Y_COLUMN: list(nearest[1])}, XY).opts(
        marker="circle", size=13, fill_alpha=0, line_color=CURRENT, line_width=2, color=CURRENT
    )
    cross = hv.Points([tuple(current)]).opts(color=CURRENT, marker="cross", size=22, line_width=3)
    return (image * dots * rings * cross).opts(
        frame_width=480, frame_height=480, toolbar=None, default_tools=[], tools=[],
        xlim=(lo, hi), ylim=(lo, hi), title="Click to move z there",
    )  # fmt: skip


def kl_element(kl: np.ndarray, active: np.ndarray, now: np.ndarray, order=None) -> hv.Overlay:
    """Per-dimension KL as bars (grey where the unit is inactive) and the current KL of each
    dimension as a mark (layer KL_MARKS), dimensions along the axis in ``order`` (by default by
    index), on an axis from just below 0 to KL_HEADROOM past the tallest bar (at least 1 nat).

    A bar is drawn at least KL_STUB of the axis tall (an inactive unit's KL is ≈ 0: a bar of no
    height cannot be seen); its hover says the true KL. The axis starts KL_STUB below 0 so that
    a mark at 0 shows whole."""
    kl = np.asarray(kl, dtype=np.float64)
    order = list(range(kl.size)) if order is None else list(order)
    dims = [dim_label("z", d) for d in order]
    ceiling = float(max(kl.max(initial=0.0), 1.0)) * KL_HEADROOM
    bars = hv.Bars(
        {
            DIMENSION_COLUMN: dims,
            SHOWN_COLUMN: np.maximum(kl[order], KL_STUB * ceiling),
            KL_COLUMN: kl[order],
            COLOR_COLUMN: [ACTIVE if active[d] else INACTIVE for d in order],
        },
        kdims=[DIMENSION_COLUMN],
        vdims=[SHOWN_COLUMN, KL_COLUMN, COLOR_COLUMN],
    ).opts(
        color=COLOR_COLUMN, line_color=None, tools=["hover"], default_tools=[],
        hover_tooltips=tooltips("KL over the data", KL_COLUMN, "{0.000} nats"),
    )  # fmt: skip
    marks = hv.Scatter(
        {DIMENSION_COLUMN: dims, NOW_COLUMN: np.asarray(now, dtype=np.float64)[order]},
        kdims=[DIMENSION_COLUMN],
        vdims=[NOW_COLUMN],
    ).opts(
        color=CURRENT, size=MARK_SIZE, marker="diamond", line_color="white", line_width=1.5,
        tools=["hover"], default_tools=[],
        hover_tooltips=tooltips("KL of your N(μ, σ²)", NOW_COLUMN, "{0.000} nats"),
    )  # fmt: skip
    return (bars * marks).opts(
        height=320, responsive=True, min_width=400, toolbar=None, default_tools=[],
        ylabel="KL (nats)", xlabel="", xrotation=label_rotation(len(order)),
        ylim=(-KL_STUB * ceiling, ceiling),
        title="Bars: mean KL(q(z_d|x) ‖ N(0,1)) over the data (grey: inactive); "
        "◆: KL of your N(μ_d, σ_d²)",
    )  # fmt: skip


def variance_element(variance: np.ndarray, threshold: float, order=None) -> hv.Overlay:
    """Var_x[μ_d] per dimension as bars on a log axis, blue above ``threshold`` (an active unit)
    and grey at or below it, with the threshold as a dashed line: the rule behind the active
    units. Dimensions in ``order`` (by default by index); a bar is at least VARIANCE_STUB times
    the axis' floor tall (a variance of 0 still shows), and the hover says the true value."""
    variance = np.asarray(variance, dtype=np.float64)
    order = list(range(variance.size)) if order is None else list(order)
    low, high = variance_axis(variance, threshold)
    shown = hv.Dimension(SHOWN_COLUMN, label="Var[μ]", range=(low, None))  # bars start at low
    bars = hv.Bars(
        {
            DIMENSION_COLUMN: [dim_label("z", d) for d in order],
            SHOWN_COLUMN: np.maximum(variance[order], low * VARIANCE_STUB),
            VARIANCE_COLUMN: variance[order],
            COLOR_COLUMN: [ACTIVE if variance[d] > threshold else INACTIVE for d in order],
        },
        kdims=[DIMENSION_COLUMN],
        vdims=[shown, VARIANCE_COLUMN, COLOR_COLUMN],
    ).opts(
        color=COLOR_COLUMN, line_color=None, tools=["hover"], default_tools=[],
        hover_tooltips=tooltips("Var[μ] over the data", VARIANCE_COLUMN, "{0.[000000]}"),
        logy=True,  # here too: only then do the bars start at the axis' floor, not at 0
    )  # fmt: skip
    line = hv.HLine(threshold).opts(
        color=CURRENT, line_dash="dashed", line_width=2, default_tools=[]
    )
    return (bars * line).opts(
        height=280, responsive=True, min_width=400, toolbar=None, default_tools=[],
        logy=True, ylim=(low, high), ylabel="Var[μ_d] over the data", xlabel="",
        xrotation=label_rotation(len(order)),
        title=f"Active units: variance of the posterior mean over the data > {threshold:g} "
        "(dashed line; log scale)",
    )  # fmt: skip


def tooltips(label: str, column: str, number: str) -> list[tuple[str, str]]:
    """A per-dimension hover: the dimension, then ``label``: ``column``'s value formatted as
    ``number`` (Bokeh's "{0.000}" syntax, units after it)."""
    return [("", f"@{DIMENSION_COLUMN}"), (label, f"@{column}{number}")]


def variance_axis(variance: np.ndarray, threshold: float) -> tuple[float, float]:
    """The log axis of :func:`variance_element`: whole decades from below the smallest variance
    (at most VARIANCE_FLOOR below) to above the largest, the threshold a decade in from either
    end."""
    positive = variance[variance > 0]
    smallest = max(float(positive.min()) if positive.size else VARIANCE_FLOOR, VARIANCE_FLOOR)
    largest = max(float(variance.max(initial=0.0)), threshold)
    low = 10.0 ** np.floor(np.log10(min(smallest, threshold / 10)))
    high = 10.0 ** np.ceil(np.log10(max(largest * 1.5, threshold * 10)))
    return float(low), float(high)


def veil(boxes) -> hv.Rectangles:
    """Translucent white boxes (x0, y0, x1, y1) to lay over a mosaic: what they cover looks
    greyed (the Traversal's rows of inactive dimensions)."""
    return hv.Rectangles(list(boxes)).opts(color="white", alpha=VEIL_ALPHA, line_alpha=0)


# A box outlining one cell of a grid (the Encode gallery's chosen image): the grid's layer, then
# the box's (MARKED_BOX), whose columns Bokeh's quad names.
MARKED_BOX = -1
BOX_COLUMNS = ("left", "bottom", "right", "top")


def marked_element(grid: hv.Image) -> hv.Overlay:
    """A grid element with a box over one of its cells, none until :func:`write_box`. Its layers:
    the grid, MARKED_BOX; no tools (a drag would pan the grid away)."""
    box = hv.Rectangles([], kdims=["x0", "y0", "x1", "y1"]).opts(
        fill_alpha=0, line_color=CURRENT, line_width=2, default_tools=[], tools=[]
    )
    return (grid * box).opts(toolbar=None, default_tools=[], tools=[])


def write_box(plot: InPlacePlot, box: tuple[float, float, float, float] | None) -> None:
    """Outline (left, bottom, right, top), in the grid's coordinates (y up), on the plot of a
    :func:`marked_element`; None: no box."""
    values = [[float(v)] for v in box] if box is not None else [[], [], [], []]
    plot.write(MARKED_BOX, **dict(zip(BOX_COLUMNS, values, strict=True)))


def drawing_canvas(
    side: int, px: int, max_strokes: int, source_name: str, *, shape: tuple[int, int] | None = None
):
    """A black square, ``side`` units across and ``px`` screen pixels, to draw white strokes in
    with Bokeh's freehand tool (the page drops the oldest past ``max_strokes``); returns the
    figure and the data source of its strokes, named ``source_name``. Given ``shape`` (H, W), a
    W × H rectangle instead, its longest side ``px`` screen pixels."""
    height, width = (side, side) if shape is None else shape
    scale = px / max(height, width)
    canvas = bokeh_figure(
        x_range=(0, width), y_range=(0, height), width=round(width * scale),
        height=round(height * scale), toolbar_location=None, tools=[],
        background_fill_color="black", min_border=0, outline_line_color="#64748b",
    )  # fmt: skip
    canvas.axis.visible = False
    canvas.grid.visible = False
    strokes = canvas.multi_line(
        xs=[], ys=[], line_color="white", line_width=20, line_cap="round", line_join="round"
    )
    tool = FreehandDrawTool(renderers=[strokes], num_objects=max_strokes)
    canvas.add_tools(tool)
    canvas.toolbar.active_drag = tool
    strokes.data_source.name = source_name
    return canvas, strokes.data_source


def render(element: hv.Element, source_name: str):
    """A HoloViews element as a Bokeh figure whose data source is named ``source_name`` (tests,
    benchmarks and the pages' scripts find it by name), drawn on a plain canvas.

    Rendered for a document of its own, never ``curdoc()``: a Document left patched in by a
    Bokeh callback that raised (Bokeh 3.9's ``patch_curdoc`` has no try/finally) would otherwise
    reach every later render in the process, in every session. The figure is no root of that
    document, so any document can take it. HoloViews would have set its theme (title text) on
    the document; it is written into the figure and its title instead, which look the same in
    any document (all of the figure's models would cost ~10 ms a render).

    Not HoloViews' default WebGL: for these small plots it gains nothing, a page that uses it
    carries Bokeh's WebGL bundle (190 kB), and where WebGL is emulated in software (no GPU, as in
    headless Chromium) copying its canvas cost ≈ 10 ms of each repaint.
    """
    renderer = hv.renderer("bokeh").instance(mode="server")  # "server": it takes our document
    figure = renderer.get_plot(element, doc=Document()).state
    if renderer.theme is not None:
        for model in (figure, figure.title):
            if model is not None:
                _take_theme(model, renderer.theme)
    figure.renderers[0].data_source.name = source_name
    figure.output_backend = "canvas"
    return figure


def _take_theme(model, theme: Theme) -> None:
    """Give ``model`` ``theme``'s values as its own, where it has none: a document's theme then
    leaves them alone."""
    theme.apply_to_model(model)
    themed = model.themed_values() or {}
    model.unapply_theme()
    own = model.query_properties_with_values(lambda p: p.name in themed, include_defaults=False)
    model.update(**{name: value for name, value in themed.items() if name not in own})


class InPlacePlot:
    """A HoloViews element rendered once to Bokeh; ``write`` rewrites only its data sources.

    Re-rendering a HoloViews plot costs tens of milliseconds and makes the browser rebuild it;
    writing the columns of its ColumnDataSources sends only the new numbers. An overlay
    (``image * points * cross``) has one source per element, by layer: 0 the first, -1 the last.
    """

    def __init__(self, element: hv.Element, source_name: str):
        self._take(render(element, source_name))  # on a canvas, its source named

    @classmethod
    def of(cls, figure) -> InPlacePlot:
        """The plot of a figure :func:`render` made already (in a worker thread, say)."""
        plot = cls.__new__(cls)
        plot._take(figure)
        return plot

    def _take(self, figure) -> None:
        self.figure = figure
        self.source = self.layer(0)
        pixels = self.source.data.get(IMAGE_COLUMN)
        # The pixel type the element was rendered with (floats, 8-bit levels, or packed RGBA
        # from an hv.RGB): writes keep it.
        self._levels = bool(pixels) and getattr(pixels[0], "dtype", None) == np.uint8
        self._rgb = isinstance(figure.renderers[0].glyph, ImageRGBA)

    def layer(self, index: int, name: str | None = None) -> ColumnDataSource:
        """The data source of the overlay's element ``index`` (HoloViews adds one renderer per
        element, in order), named ``name`` when given (tests and benchmarks find it by name)."""
        source = self.figure.renderers[index].data_source
        if name is not None:
            source.name = name
        return source

    def write(self, layer: int = 0, **columns) -> None:
        """New values for some columns of layer ``layer``'s source."""
        self.layer(layer).data.update(columns)


def write_image(plot: InPlacePlot, image: np.ndarray) -> None:
    """New pixels for the plot of an ``hv.Image`` or ``hv.RGB``: rows bottom-up, as HoloViews
    hands an image to Bokeh, and of the pixel type it was rendered with (a grid of 8-bit levels
    gets ``to_uint8(image)``; the decoded image, floats in [0, 1], ``image`` as it is; an RGB
    image, H×W×3, its :func:`rgba`). :func:`fits` says whether the plot can take ``image``."""
    if is_rgb(image):
        plot.write(**{IMAGE_COLUMN: [rgba(image)[::-1]]})
        return
    pixels = to_uint8(image) if plot._levels else image
    plot.write(**{IMAGE_COLUMN: [pixels[::-1]]})


def fits(plot: InPlacePlot, image: np.ndarray) -> bool:
    """Whether ``image`` can be written into ``plot`` in place: drawn the same way (grey or RGB)
    at the same size. Otherwise the plot must be rendered again (a model of another shape)."""
    pixels = plot.source.data.get(IMAGE_COLUMN)
    if not pixels or is_rgb(image) != plot._rgb:
        return False
    return tuple(np.shape(pixels[0])) == tuple(np.shape(image)[:2])


def write_bars(plot: InPlacePlot, z: np.ndarray) -> None:
    """New heights for the bars of :func:`bars_element`; a new latent size also updates the
    dimensions, and a taller bar widens the axis (:func:`bars_limit`)."""
    data = bars_data(z)
    figure = plot.figure
    if len(z) != len(plot.source.data[DIMENSION_COLUMN]):
        figure.x_range.factors = data[DIMENSION_COLUMN]
        rotation = label_rotation(len(z))  # as HoloViews sets it: radians, or left as it is
        figure.xaxis.major_label_orientation = np.radians(rotation) if rotation else "horizontal"
        plot.source.data = data
    else:
        # the same dimension names; z as a list: an array would travel as a websocket frame of
        # its own, and for a few numbers the frame costs more than the JSON
        plot.write(**{Z_COLUMN: data[Z_COLUMN].tolist(), COLOR_COLUMN: data[COLOR_COLUMN]})
    grow_axis(plot, bars_limit(z), mirrored=True)


def write_bars_title(plot: InPlacePlot, mode: str) -> None:
    """Retitle the bars of :func:`bars_element` for ``mode`` (BARS_TITLES), in place."""
    plot.figure.title.text = BARS_TITLES[mode]


def grow_axis(plot: InPlacePlot, end: float, mirrored: bool = False) -> None:
    """Widen the y axis to ``end`` (and ``-end`` when ``mirrored``) if that is past its end:
    it never shrinks while shown, so that bars and marks do not jump."""
    y_range = plot.figure.y_range
    if end > y_range.end:
        if mirrored:
            y_range.update(start=-end, end=end)
        else:
            y_range.end = end


def write_points(plot: InPlacePlot, x, y) -> None:
    """New positions for the data's points of :func:`map_element`."""
    plot.write(MAP_POINTS, **{X_COLUMN: x, Y_COLUMN: y})


def write_nearest(plot: InPlacePlot, x, y) -> None:
    """Move the rings of :func:`map_element` that mark the data nearest z."""
    plot.write(MAP_NEAREST, **{X_COLUMN: list(x), Y_COLUMN: list(y)})


def write_current(plot: InPlacePlot, x: float, y: float) -> None:
    """Move the cross of :func:`map_element` that marks the current z."""
    plot.write(MAP_CURRENT, **{X_COLUMN: [x], Y_COLUMN: [y]})


def write_axis_labels(plot: InPlacePlot, x: str, y: str) -> None:
    """New names for the x and y axes."""
    plot.figure.xaxis[0].axis_label = x
    plot.figure.yaxis[0].axis_label = y


def write_marks(plot: InPlacePlot, now: np.ndarray) -> None:
    """New heights for the marks of :func:`kl_element` (``now`` by dimension index, whatever
    the order along the axis); a taller mark widens the axis."""
    now = np.asarray(now, dtype=np.float64)
    index = {dim_label("z", d): d for d in range(now.size)}
    shown = plot.layer(KL_MARKS).data[DIMENSION_COLUMN]
    plot.write(KL_MARKS, **{NOW_COLUMN: now[[index[label] for label in shown]]})
    grow_axis(plot, float(np.max(now, initial=0.0)) * KL_HEADROOM)


def strokes(source: ColumnDataSource) -> tuple:
    """The strokes in a :func:`drawing_canvas` as the browser sent them, unchecked: (xs, ys),
    one list of points per stroke."""
    data = source.data
    return data.get(STROKES_X, []), data.get(STROKES_Y, [])


def clear_strokes(source: ColumnDataSource) -> None:
    """Empty a :func:`drawing_canvas`."""
    source.data = {STROKES_X: [], STROKES_Y: []}
