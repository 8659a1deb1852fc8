"""Animated GIFs of a traversal and of an interpolation, shared by ``vae-explorer figure`` and the
app's GIF downloads.

Each frame is a :class:`stills.Figure` drawn by :func:`stills.grid`, so a frame looks like the
PNG figures (and its ``cells`` say where each image lies). An animation runs there and back
(first → last → first, the two ends once each), so that its loop is seamless.
:func:`gif_bytes` writes the frames as one looping GIF with PIL: 8-bit grey, or in colour with
one palette for all frames.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from explorer.compute import decoding, grids
from explorer.figures import stills
from explorer.figures.stills import Figure, FigureError
from explorer.latent.table import dim_label
from explorer.model import VAE

STEPS = 21  # values of the sweep (or of t): 2 × 21 − 2 = 40 frames
FRAME_MS = 120  # how long each frame shows
SCALE = 2  # output pixels per image pixel: the PNG figures' 3 makes GIFs half as large again
# All frames together, in pixels (8-bit grey: bytes; RGB three): what an animation may hold.
# The defaults need about 6 million; stills.MAX_SIDE alone would allow 80 frames of up to
# 4096 × 4096.
MAX_PIXELS = 2**25


def there_and_back(steps: int) -> list[int]:
    """Frame k's index into ``steps`` values: 0, 1, …, steps − 1, steps − 2, …, 1 (then loops)."""
    return [*range(steps), *range(steps - 2, 0, -1)]


def _signed(value: float, digits: int = 2) -> str:
    text = f"{value:+.{digits}f}"
    return "+" + text[1:] if float(text) == 0 else text  # never "-0.00"


def _check_size(frames: int, shape: tuple[int, int, int, int], **labels) -> None:
    """FigureError when ``frames`` frames laid out as ``shape`` (see stills.layout) would hold
    more than MAX_PIXELS together; called before anything is decoded."""
    at = stills.layout(shape, **labels)
    if frames * at.width * at.height > MAX_PIXELS:
        raise FigureError(
            f"the animation would be {frames} frames of {at.width:,}x{at.height:,} pixels, more "
            f"than {MAX_PIXELS:,} pixels in all: ask for fewer --steps or --dims, or a smaller "
            "--scale"
        )


def _same_size(frames: list[Figure]) -> list[Figure]:
    """Frames widened to the widest (a title's width varies with its digits), white on the right
    and bottom; cells keep their places."""
    width = max(f.image.width for f in frames)
    height = max(f.image.height for f in frames)
    out = []
    for frame in frames:
        if frame.image.size != (width, height):
            canvas = Image.new(frame.image.mode, (width, height), "white")
            canvas.paste(frame.image, (0, 0))
            frame = Figure(canvas, frame.cells)
        out.append(frame)
    return out


def traversal(
    vae: VAE, z, *, dims=None, steps: int = STEPS, name: str = "", scale: int = SCALE
) -> list[Figure]:
    """The traversal as frames: frame k shows, for every dimension d of ``dims`` (default: all),
    z with z[d] set to the sweep's value v_k across [-3, 3], there and back.

    The cells lie in a near-square grid of dimensions (``ceil(sqrt(len(dims)))`` per row, in the
    order of ``dims``), each labelled ``z<d>`` above it; the title gives v_k. Frame k's image of
    ``dims[i]`` is ``frame.cell(i // cols, i % cols)``.
    """
    dims = list(range(vae.latent_dim)) if dims is None else list(dims)
    values = grids.sweep(steps)
    cols = math.ceil(math.sqrt(len(dims)))
    rows = -(-len(dims) // cols)
    labels = [dim_label("z", d) for d in dims] + [""] * (rows * cols - len(dims))
    labels = [labels[r * cols : (r + 1) * cols] for r in range(rows)]
    of = f" of {name}" if name else ""
    _check_size(
        len(there_and_back(steps)), (rows, cols, *stills.image_size(vae)),
        title=f"Traversal{of}: z_d = {_signed(float(values[0]))}", cell_labels=labels,
        scale=scale,
    )  # fmt: skip
    images = grids.traversal(vae, z, steps, dims)  # len(dims) × steps × H × W [× 3], one pass
    cells = np.ones((rows * cols, steps, *images.shape[2:]), np.float32)  # blank cells: white
    cells[: len(dims)] = images
    frames = [
        stills.grid(
            cells[:, k].reshape(rows, cols, *images.shape[2:]),
            title=f"Traversal{of}: z_d = {_signed(float(values[k]))}",
            cell_labels=labels,
            scale=scale,
        )
        for k in there_and_back(steps)
    ]
    return _same_size(frames)


def interpolation(
    vae: VAE, a, b, *, steps: int = STEPS, methods=("linear", "spherical"), name: str = "",
    scale: int = SCALE,
) -> list[Figure]:  # fmt: skip
    """The path from A to B as frames, there and back: frame k shows, in one row, A, the point
    at t_k on each path of ``methods`` and B; the title gives t_k. The path of ``methods[i]`` is
    ``frame.cell(0, i + 1)``."""
    t = np.linspace(0.0, 1.0, steps)
    of = f", {name}" if name else ""
    _check_size(
        len(there_and_back(steps)), (1, len(methods) + 2, *stills.image_size(vae)),
        title=f"A -> B{of}: t = {t[0]:.2f}", col_labels=["A", *methods, "B"], scale=scale,
    )  # fmt: skip
    points = [grids.interpolate(a, b, t, m) for m in methods]
    images = decoding.decode(vae, np.concatenate([np.stack([a, b]), *points]))
    ends, paths = images[:2], images[2:].reshape(len(methods), steps, *images.shape[1:])
    frames = [
        stills.grid(
            np.stack([ends[0], *paths[:, k], ends[1]])[None],
            title=f"A -> B{of}: t = {t[k]:.2f}",
            col_labels=["A", *methods, "B"],
            scale=scale,
        )
        for k in there_and_back(steps)
    ]
    return _same_size(frames)


def gif_bytes(frames: list[Figure], frame_ms: int = FRAME_MS) -> bytes:
    """Frames → one looping GIF (``frame_ms`` per frame): 8-bit grey, or RGB frames mapped onto
    one palette (:func:`palette`), without dithering."""
    images = [frame.image for frame in frames]
    if images[0].mode == "RGB":
        shared = palette(images)
        images = [indexed(im, shared) for im in images]
    buffer = io.BytesIO()
    # optimize=False: one global grey palette, every frame's levels exact (PIL would otherwise
    # give frames with fewer levels a local palette of their own)
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
        optimize=False,
    )  # fmt: skip
    return buffer.getvalue()


PALETTE_SAMPLE = 2**18  # pixels of all frames that choose a colour GIF's palette
LOOKUP_CHUNK = 4096  # colours matched to the palette at once (4096 × 256 distances)


def palette(images: list[Image.Image]) -> np.ndarray:
    """One palette for RGB frames (256×3 levels): 254 colours chosen by median cut from pixels
    across all frames (every k-th, PALETTE_SAMPLE at most), then black and white exactly, for
    the text and the margins. One palette keeps a colour the same from frame to frame; a
    palette per frame would make the image flicker."""
    total = sum(im.width * im.height for im in images)
    stride = max(1, -(-total // PALETTE_SAMPLE))
    pixels = np.concatenate([np.asarray(im).reshape(-1, 3)[::stride] for im in images])
    chosen = Image.fromarray(pixels[None]).quantize(254, method=Image.Quantize.MEDIANCUT)
    colours = (chosen.getpalette() or [0, 0, 0])[: 254 * 3]
    colours += colours[:3] * (254 - len(colours) // 3)  # fewer colours: repeat the first
    return np.array([*colours, 0, 0, 0, 255, 255, 255], np.int32).reshape(256, 3)


def indexed(image: Image.Image, colours: np.ndarray) -> Image.Image:
    """An RGB image as a "P" image of ``colours`` (palette's), each pixel the nearest colour.

    Matched here, not by PIL's quantize: its lookup works on 6 bits a channel, and drew the
    white margins as (253, 253, 253), here exact."""
    pixels = np.asarray(image).reshape(-1, 3).astype(np.int32)
    codes, inverse = np.unique(
        pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2], return_inverse=True
    )
    rgb = np.stack([codes >> 16, codes >> 8 & 255, codes & 255], axis=1)
    nearest = np.empty(len(codes), np.uint8)
    for at in range(0, len(codes), LOOKUP_CHUNK):
        distance = ((rgb[at : at + LOOKUP_CHUNK, None] - colours[None]) ** 2).sum(axis=-1)
        nearest[at : at + LOOKUP_CHUNK] = distance.argmin(axis=1)
    out = Image.frombytes("P", image.size, nearest[inverse.ravel()].tobytes())
    out.putpalette(colours.astype(np.uint8).ravel().tobytes())
    return out
