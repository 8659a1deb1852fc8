"""The CSS classes and Bokeh data-source names by which the page's parts are found.

Tests, benchmarks and users' scripts find widgets and plots by these names whatever the layout
(the browser-testing contract in DESIGN.md): a CSS class on a widget or on the container around
a plot, a name on a plot's data source. The app, the pages, the benchmarks and the tests' page
helpers take them from here; the browser tests spell some out on purpose, as the contract's
users would. Imports nothing. Grouped a line per part of the page.
"""

# -- the per-dimension sliders: ``latent-mu-3`` is μ of dimension 3 (0-based) ----------------
MU, SIGMA, Z = "latent-mu", "latent-sigma", "latent-z"
PAGER, ORDER_KL = "latent-pager", "latent-order-kl"  # which dimensions the sliders show


def slider_class(prefix: str, index: int) -> str:
    """The class of dimension ``index``'s slider of kind ``prefix`` (MU, SIGMA or Z)."""
    return f"{prefix}-{index}"


def mu_slider(index: int) -> str:
    return slider_class(MU, index)


def sigma_slider(index: int) -> str:
    return slider_class(SIGMA, index)


def z_slider(index: int) -> str:
    return slider_class(Z, index)


# -- controls ---------------------------------------------------------------------------------
MODE, MODE_HELP = "latent-mode", "latent-mode-help"
RESAMPLE, RESET, RANDOMIZE = "latent-resample", "latent-reset", "latent-randomize"
SEED = "latent-seed"


def download(kind: str) -> str:
    """The class of a download button: ``latent-download-png``, ``…-traversal-gif``."""
    return f"latent-download-{kind}"


PNG_SCALE = "latent-png-scale"  # the PNG download's size


# -- the checkpoint and the model (CHECKPOINT: the column of the rest but INFO) ------------------
CHECKPOINT, ZOO, PATH, LOAD = "latent-checkpoint", "latent-zoo", "latent-path", "latent-load"
LOADING, UPLOAD = "latent-loading", "latent-upload"
DEVICE, DEVICE_USED = "latent-device", "latent-device-used"
INFO = "latent-info"  # the model's facts (the app's sidebar, the pages' table)
# the visible error message, and what a URL's state needed fixed
ERROR, NOTICE = "latent-error", "latent-notice"
DISCONNECTED = "latent-disconnected"  # the page's notice once its server connection is lost

# -- the explore tab and the text around it (VALUES: z's values and statistics; on the living
# page, an element's id) --------------------------------------------------------------------
IMAGE, BARS = "latent-image", "latent-bars"
VALUES, Z_VALUES, STATS = "latent-values", "latent-z-values", "latent-stats"
SUBTITLE, TIPS, HOW = "latent-subtitle", "latent-tips", "latent-how"
TABS = "latent-tabs"

# -- the exploration views: a class on each view's container (and VIEW on all), on its controls -
VIEW = "latent-view"
TRAVERSAL, TRAVERSAL_ROWS = "latent-traversal", "latent-traversal-rows"
SAMPLES, SAMPLES_COUNT = "latent-samples", "latent-samples-count"
ENCODE, ENCODE_CANVAS, ENCODE_CLEAR = "latent-encode", "latent-encode-canvas", "latent-encode-clear"
ENCODE_GALLERY = "latent-encode-gallery"
INTERP, INTERP_T = "latent-interp", "latent-interp-t"
INTERP_FOLLOW, INTERP_METHOD = "latent-interp-follow", "latent-interp-method"
MAP, MAP_X, MAP_Y, MAP_GRID = "latent-map", "latent-map-x", "latent-map-y", "latent-map-grid"
COMPARE, COMPARE_MODELS = "latent-compare", "latent-compare-models"
COMPARE_PATH = "latent-compare-path"
KL, KL_SUMMARY = "latent-kl", "latent-kl-summary"
# the Factors view: the MI heat map's container, the MIG line, the table of each factor's best z
FACTORS, FACTORS_MAP, FACTORS_MIG = "latent-factors", "latent-factors-map", "latent-factors-mig"
FACTORS_TABLE = "latent-factors-table"
MAP_AXES = "latent-map-axes"  # two dimensions, or the data's first two principal components
# the Arithmetic view: class A → class B (selects, t slider), "send z to the sliders", a − b + c
ARITHMETIC, ARITHMETIC_T = "latent-arithmetic", "latent-arithmetic-t"
ARITHMETIC_FROM, ARITHMETIC_TO = "latent-arithmetic-from", "latent-arithmetic-to"
ARITHMETIC_SEND, ARITHMETIC_TERMS = "latent-arithmetic-send", "latent-arithmetic-terms"


def interp_point(end: str, source: str) -> str:
    """The button that sets end ``end`` ("A" or "B") from ``source``: ``latent-interp-a-z``."""
    return f"{INTERP}-{end.lower()}-{source}"


# -- the pages' own text: the static page's settings table and state (JSON), the living page's
# facts about its decoder ----------------------------------------------------------------------
SETTINGS, STATE, ABOUT = "latent-settings", "latent-state", "latent-about"


# -- Bokeh data sources, by name (``doc.get_model_by_name``) ------------------------------------
def source(css_class: str) -> str:
    """The data source of the plot in the container of class ``css_class``."""
    return f"{css_class}-source"


IMAGE_SOURCE, BARS_SOURCE = source(IMAGE), source(BARS)
TRAVERSAL_SOURCE, SAMPLES_SOURCE = source(TRAVERSAL), source(SAMPLES)
ENCODE_SOURCE, ENCODE_GALLERY_SOURCE = source(ENCODE), source(ENCODE_GALLERY)
ENCODE_STROKES = f"{ENCODE}-strokes"  # the drawing's strokes
INTERP_SOURCE, INTERP_T_SOURCE = source(INTERP), source(INTERP_T)  # the strip, and z(t)
MAP_SOURCE, MAP_CURRENT_SOURCE = source(MAP), source(f"{MAP}-current")  # the cross at z
COMPARE_SOURCE = source(COMPARE)
KL_SOURCE, KL_CURRENT_SOURCE = source(KL), source(f"{KL}-current")  # ◆: the sliders' KL
FACTORS_SOURCE = source(FACTORS_MAP)  # the heat map's cells: dimension, factor, MI
MAP_NEAREST_SOURCE = source(f"{MAP}-nearest")  # rings: the data nearest z
# Arithmetic: z moved by t·(B − A) (follows μ), the image at t, the path A → B, a − b + c
ARITHMETIC_SOURCE, ARITHMETIC_T_SOURCE = source(ARITHMETIC), source(ARITHMETIC_T)
ARITHMETIC_PATH_SOURCE = source(f"{ARITHMETIC}-path")
ARITHMETIC_ANALOGY_SOURCE = source(f"{ARITHMETIC}-analogy")

# -- each exploration tab: its title, the view's class, the source a μ move rewrites, and the
# column that changes there (the KL view's ◆ marks are its "now" column) ----------------------
VIEW_TABS = {
    "Traversal": (TRAVERSAL, TRAVERSAL_SOURCE, "image"),
    "Samples": (SAMPLES, SAMPLES_SOURCE, "image"),
    "Encode": (ENCODE, ENCODE_SOURCE, "image"),
    "Interpolation": (INTERP, INTERP_SOURCE, "image"),
    "2-D map": (MAP, MAP_SOURCE, "image"),
    "Compare models": (COMPARE, COMPARE_SOURCE, "image"),
    "KL / active units": (KL, KL_CURRENT_SOURCE, "now"),
    "Arithmetic": (ARITHMETIC, ARITHMETIC_SOURCE, "image"),
}

# -- the tabs whose plots follow the model alone, not μ: title → (view's class, its source) ----
MODEL_TABS = {"Factors": (FACTORS, FACTORS_SOURCE)}

# -- the page's layout: the tabs while they stick to the top of the main area (the Explore tab) -
STICKY = "latent-sticky"

# -- the KL view's Var[μ] plot (the rule behind the active units): its container, its source ---
KL_VARIANCE = "latent-kl-variance"
KL_VARIANCE_SOURCE = source(KL_VARIANCE)

# -- the Compare view's prior draws and its note; the box on the Encode gallery's chosen image --
COMPARE_DRAWS, COMPARE_UNALIGNED = "latent-compare-draws", "latent-compare-unaligned"
ENCODE_GALLERY_BOX_SOURCE = source(f"{ENCODE_GALLERY}-box")
ENCODE_RESULT = "latent-encode-result"  # the input, its reconstruction and z's image

# -- where z stands (the Explore tab): the nearest data images (a strip, its source), how typical
# z is under the data and the prior, and the warning when no data image maps near it -----------
NEAREST, TYPICALITY, OFF_MANIFOLD = "latent-nearest", "latent-typicality", "latent-off-manifold"
NEAREST_SOURCE = source(NEAREST)
