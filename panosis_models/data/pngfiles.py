"""Reading images and masks from disk with errors that name the file, shared by the data sets
and the mask converter. Images are always read as RGB (never BGR)."""
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .palette import NUM_CLASSES, colour_to_labels

INDEX_MODES = ("L", "P", "I", "I;16")  # single-channel PNG modes that hold label indices


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        raise ValueError(f"{path}: unreadable or corrupt image ({err})") from err


def read_rgb(path) -> np.ndarray:
    """(H, W, 3) uint8 RGB."""
    return np.asarray(_open(Path(path)).convert("RGB"))


def read_mask(path, colour=False) -> np.ndarray:
    """(H, W) uint8 labels 0-7, from a single-channel index PNG or (``colour=True``) a PNG in
    the palette colours; ``colour=None`` decides by the PNG's mode."""
    path = Path(path)
    image = _open(path)
    if colour is None:
        colour = image.mode not in INDEX_MODES
    if colour:
        try:
            return colour_to_labels(np.asarray(image.convert("RGB")))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from err
    if image.mode not in INDEX_MODES:
        raise ValueError(f"{path}: expected a single-channel index mask, got mode {image.mode!r} "
                         "(a colour mask needs colour=True)")
    labels = np.asarray(image)
    if labels.max(initial=0) >= NUM_CLASSES:
        raise ValueError(f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, found "
                         f"{int(labels.max())}")
    return labels.astype(np.uint8)
