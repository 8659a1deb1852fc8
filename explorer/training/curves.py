"""Training curves as a PNG, drawn with PIL (no plotting library): ``vae_training_curves.png``.

One panel per loss term, training and validation per epoch, as the original app's plot of the
same name showed them. Labels are ASCII (the default font has no Greek letters).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

PANEL = (400, 300)  # width, height of one panel, in pixels
PLOT = (64, 34, 16, 44)  # the plotting area's inset in a panel: left, top, right, bottom
TRAIN, VALIDATION = (37, 99, 235), (234, 88, 12)
GRID, AXIS, TEXT = (229, 231, 235), (107, 114, 128), (17, 24, 39)

Series = Sequence[float]


def epochs_of(values: Series, epochs: int) -> list[int]:
    """The epochs (from 1) that ``values`` belong to: the last ``len(values)`` of ``epochs`` (a
    run resumed from a checkpoint that kept no such list has values for its later epochs only)."""
    return list(range(epochs - len(values) + 1, epochs + 1))


def draw(panels: Sequence[tuple[str, Series, Series]], epochs: int) -> Image.Image:
    """``panels``: (title, training values, validation values) each; one panel per entry,
    side by side, over ``epochs`` epochs."""
    width, height = PANEL
    image = Image.new("RGB", (width * len(panels), height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    for index, (title, train, validation) in enumerate(panels):
        _panel(draw, font, index * width, title, {TRAIN: train, VALIDATION: validation}, epochs)
    return image


def _panel(draw, font, left: int, title: str, series: dict, epochs: int) -> None:
    width, height = PANEL
    x0, y0 = left + PLOT[0], PLOT[1]
    x1, y1 = left + width - PLOT[2], height - PLOT[3]
    values = [v for vs in series.values() for v in vs if math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    margin = (high - low) * 0.05 or max(abs(high) * 0.05, 1.0)
    low, high = low - margin, high + margin
    first, last = 0.5 if epochs <= 1 else 1, epochs + 0.5 if epochs <= 1 else epochs

    def at(epoch: float, value: float) -> tuple[float, float]:
        x = x0 + (epoch - first) / (last - first) * (x1 - x0)
        return x, y1 - (value - low) / (high - low) * (y1 - y0)

    for value in nice_ticks(low, high):
        y = at(first, value)[1]
        draw.line([(x0, y), (x1, y)], fill=GRID)
        draw.text((x0 - 6, y), f"{value:g}", fill=TEXT, font=font, anchor="rm")
    step = max(1, math.ceil(epochs / 10))
    ticks = [*range(1, epochs, step), max(epochs, 1)]  # about 10, the last epoch last
    if len(ticks) > 1 and ticks[-1] - ticks[-2] < step / 2:
        del ticks[-2]  # too close to the last one: their labels would overlap
    for epoch in ticks:
        x = at(epoch, low)[0]
        draw.line([(x, y1), (x, y1 + 4)], fill=AXIS)
        draw.text((x, y1 + 6), str(epoch), fill=TEXT, font=font, anchor="mt")
    draw.rectangle([x0, y0, x1, y1], outline=AXIS)
    draw.text(((x0 + x1) / 2, height - 6), "epoch", fill=TEXT, font=font, anchor="mb")
    draw.text((x0, y0 / 2), title, fill=TEXT, font=font, anchor="lm")
    for color, vs in series.items():
        points = [at(e, v) for e, v in zip(epochs_of(vs, epochs), vs, strict=True)]
        points = [p for p, v in zip(points, vs, strict=True) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
    # The legend above the plot, right-aligned, so that it never hides a point.
    for color, label, end in [(TRAIN, "train", x1 - 120), (VALIDATION, "validation", x1 - 62)]:
        draw.line([(end - 24, y0 / 2), (end - 6, y0 / 2)], fill=color, width=2)
        draw.text((end, y0 / 2), label, fill=TEXT, font=font, anchor="lm")


def nice_ticks(low: float, high: float) -> list[float]:
    """About five round values (steps of 1, 2 or 5 times a power of ten) within [low, high]."""
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    digits = max(0, -math.floor(math.log10(step)))
    first = math.ceil(low / step)
    return [round(k * step, digits) for k in range(first, math.floor(high / step) + 1)]
