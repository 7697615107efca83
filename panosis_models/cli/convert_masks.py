"""Convert a folder of PNG masks between label indices and palette colours:
``panosis-convert-masks --to labels|colour SRC DST``.

``--to labels`` reads colour masks (RGB) and writes single-channel index PNGs; ``--to colour``
does the reverse. File names are kept; DST is created if missing.
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.data.convert_masks import TARGETS, convert_folder, mask_files
from panosis_models.atomic import writable_folder


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-convert-masks", __doc__)
    p.add_argument("--to", choices=TARGETS, required=True, help="what the written masks hold")
    p.add_argument("src", type=Path, help="folder of PNG masks")
    p.add_argument("dst", type=command.folder_path, help="output folder")
    return p


def job(args) -> None:
    sources = mask_files(args.src)
    converted = convert_folder(sources, writable_folder(args.dst, "DST"), args.to)
    print(f"converted {converted} masks to {args.to} in {args.dst}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
