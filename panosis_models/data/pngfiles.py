"""Reading images and masks from disk with errors that name the file, shared by the data sets
and the mask converter. Images are always read as RGB (never BGR)."""
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from panosis_models.data.cityscapes import categories_from_fine, check_instances
from panosis_models.data.palette import NUM_CLASSES, colour_to_labels
from panosis_models.errors import InputError

INDEX_MODES = ("L", "P", "I", "I;16")  # single-channel PNG modes that hold label indices


def png_files(folder: Path) -> list:
    """The PNG files in ``folder``, sorted; the extension in any case (``.png``, ``.PNG``)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".png" and p.is_file())


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        raise InputError(f"{path}: unreadable or corrupt image ({err})") from err


def png_header(path) -> tuple:
    """((width, height), mode) of an image file whose every chunk was read and checksummed, but
    nothing decoded: a cheap check that the whole file is there."""
    try:
        with Image.open(path) as image:
            size, mode = image.size, image.mode
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        raise InputError(f"{path}: unreadable or corrupt image ({err})") from err
    return size, mode


def check_same_size(image_path: Path, image_size, mask_path: Path, mask_size) -> None:
    """Refuses a mask whose (width, height) differs from its image's."""
    if tuple(image_size) != tuple(mask_size):
        raise InputError(f"{mask_path}: mask is {mask_size[0]}x{mask_size[1]} but image "
                         f"{Path(image_path).name} is {image_size[0]}x{image_size[1]}")


def check_index_mode(path: Path, mode: str) -> None:
    """Refuses a mask that is not a single-channel index PNG, suggesting the colour switch."""
    if mode not in INDEX_MODES:
        raise InputError(f"{path}: expected a single-channel index mask, got mode {mode!r} "
                         "(palette-colour masks: --colour-masks, or colour_masks=True)")


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
            raise InputError(f"{path}: {err}") from err
    labels = _index_array(path, image)
    if labels.max(initial=0) >= NUM_CLASSES:
        raise InputError(f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, found "
                         f"{int(labels.max())}")
    return labels.astype(np.uint8)


def _index_array(path: Path, image: Image.Image) -> np.ndarray:
    check_index_mode(path, image.mode)
    return np.asarray(image)


def read_train_ids(path) -> np.ndarray:
    """(H, W) uint8 Cityscapes train ids (0-18, 255 void) from a single-channel index PNG."""
    path = Path(path)
    ids = _index_array(path, _open(path))
    try:
        categories_from_fine(torch.from_numpy(ids.astype(np.int64)))
    except ValueError as err:
        raise InputError(f"{path}: {err}") from err
    return ids.astype(np.uint8)


def read_instances(path) -> np.ndarray:
    """(H, W) int32 Cityscapes instance ids from a single-channel (16- or 32-bit) index PNG."""
    path = Path(path)
    ids = _index_array(path, _open(path)).astype(np.int32)
    try:
        check_instances(torch.from_numpy(ids))
    except ValueError as err:
        raise InputError(f"{path}: {err}") from err
    return ids
