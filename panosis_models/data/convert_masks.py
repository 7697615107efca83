"""Convert a folder of PNG masks between label indices and palette colours:

    python -m panosis_models.data.convert_masks --to labels|colour SRC_DIR DST_DIR

``--to labels`` reads colour masks (RGB) and writes single-channel index PNGs; ``--to colour``
does the reverse. File names are kept."""
import argparse
import sys
from pathlib import Path

from PIL import Image

from .palette import labels_to_colour
from .pngfiles import read_mask


def convert_file(src: Path, dst: Path, to: str) -> None:
    labels = read_mask(src, colour=(to == "labels"))
    array = labels if to == "labels" else labels_to_colour(labels)
    Image.fromarray(array).save(dst)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", choices=("labels", "colour"), required=True)
    parser.add_argument("src", type=Path, help="folder of PNG masks")
    parser.add_argument("dst", type=Path, help="output folder (created if missing)")
    args = parser.parse_args(argv)
    sources = sorted(args.src.glob("*.png"))
    if not sources:
        parser.error(f"no PNG files in {args.src}")
    args.dst.mkdir(parents=True, exist_ok=True)
    for src in sources:
        convert_file(src, args.dst / src.name, args.to)
    print(f"converted {len(sources)} masks to {args.to} in {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
