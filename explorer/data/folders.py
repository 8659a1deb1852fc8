"""A folder of images as a data set: PNG and JPEG files directly in it, or in one sub-folder per
class (the sub-folders' names become the labels, sorted), read into memory as uint8 of one shape.

What does not fit is mended and counted rather than refused: an unreadable file is skipped;
every image is scaled to the size asked for (a square crop from its centre, then Lanczos), and
those of another size than most are counted; a grey image in a colour set (or the reverse) is
converted. A folder with nothing usable is one DataError line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from explorer.data.datasets import DataError, Dataset

SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FILES = 200_000  # images read at most (10,000 of 64×64×3 hold 123 MB)
MAX_PIXELS = 4096 * 4096  # a file that declares more is skipped (Pillow's bomb check: 89 M)
FLAT = "images"  # the one class of a folder without class sub-folders


@dataclass(frozen=True)
class FolderReport:
    """What reading a folder mended: files skipped, resized, converted, and how many were read."""

    read: int = 0
    skipped: int = 0
    resized: int = 0
    converted: int = 0

    def line(self) -> str:
        """One line for the command line: only what happened."""
        parts = [f"{self.read:,} images"]
        for count, what in (
            (self.skipped, "unreadable, skipped"),
            (self.resized, "resized"),
            (self.converted, "converted"),
        ):
            if count:
                parts.append(f"{count:,} {what}")
        return "; ".join(parts)


def image_files(folder: Path) -> list[tuple[Path, str]]:
    """(file, class name) for every image: those directly in ``folder`` are of the class FLAT;
    those in a sub-folder, of that sub-folder's name. Sorted, so labels are reproducible."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            found += [(f, path.name) for f in sorted(path.iterdir()) if _is_image(f)]
        elif _is_image(path):
            found.append((path, FLAT))
    return found


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES


def load_folder(
    folder: str | Path, size: int, channels: int, limit: int | None = None
) -> tuple[Dataset, FolderReport]:
    """The images of ``folder`` as a Dataset of ``size``×``size`` images with ``channels`` (1 or
    3), and what reading it mended; DataError when there is nothing to train on. With ``limit``,
    at most that many files, spread evenly over the sorted list (so every class has some)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataError(f"{root} is not a folder of images")
    files = image_files(root)
    if not files:
        raise DataError(
            f"{root} holds no PNG or JPEG image (directly, or in one sub-folder per class)"
        )
    if len(files) > MAX_FILES:
        raise DataError(f"{root} holds {len(files):,} images; at most {MAX_FILES:,} are read")
    classes = sorted({name for _, name in files})
    if limit is not None and len(files) > limit:
        files = [files[k] for k in np.linspace(0, len(files) - 1, limit).round().astype(int)]
    images, labels, sizes = [], [], []
    skipped = converted = 0
    for path, name in files:
        try:
            image, original, was_converted = _read(path, size, channels)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        images.append(image)
        labels.append(classes.index(name))
        sizes.append(original)
        converted += was_converted
    if not images:
        raise DataError(f"{root}: none of its {len(files):,} image files could be read")
    # Every image is scaled to size×size; "resized" counts those of another size than most.
    usual = Counter(sizes).most_common(1)[0][0]
    resized = sum(original != usual for original in sizes)
    report = FolderReport(len(images), skipped, resized, converted)
    stacked = torch.from_numpy(np.stack(images))
    return Dataset(root.name, stacked, torch.tensor(labels), tuple(classes)), report


def _read(path: Path, size: int, channels: int) -> tuple[np.ndarray, tuple[int, int], bool]:
    """One image as uint8 size×size (grey) or size×size×3, its own size, and whether it was
    converted (grey to colour or the reverse)."""
    with Image.open(path) as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("too many pixels")
        image.load()
        mode = "L" if channels == 1 else "RGB"
        native = "L" if image.mode in ("L", "LA", "I", "I;16", "1") else "RGB"
        converted = native != mode
        image = image.convert(mode)
        original = image.size
        if original != (size, size):
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            image = image.crop((left, top, left + side, top + side))
            image = image.resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8), original, converted
