"""Masks converted between label indices and palette colours, file by file, names kept:
``to="labels"`` reads colour masks (RGB) and writes single-channel index PNGs; ``to="colour"``
does the reverse."""
from pathlib import Path

from PIL import Image

from panosis_models.data.palette import labels_to_colour
from panosis_models.data.pngfiles import png_files, read_mask
from panosis_models.errors import InputError

TARGETS = ("labels", "colour")


def convert_file(src: Path, dst: Path, to: str) -> None:
    labels = read_mask(src, colour=(to == "labels"))
    array = labels if to == "labels" else labels_to_colour(labels)
    Image.fromarray(array).save(dst)


def mask_files(src) -> list:
    """The PNG masks of the folder ``src``; an error if there are none."""
    src = Path(src)
    if not src.is_dir():
        raise InputError(f"{src} is not a folder")
    sources = png_files(src)
    if not sources:
        raise InputError(f"no PNG files in {src}")
    return sources


def convert_folder(sources: list, dst, to: str) -> int:
    """Converts every file of ``sources`` into the folder ``dst``; how many."""
    if to not in TARGETS:
        raise InputError(f"to must be one of {TARGETS}, got {to!r}")
    for src in sources:
        convert_file(src, Path(dst) / src.name, to)
    return len(sources)
