"""A quick tour of equiconv on one panorama: ``panosis-showcase --out demo_out/showcase``.

Edges on the flat image and on the sphere, the +-180 degree seam, where a kernel's taps land at
several latitudes, and EquiConv2d's time against nn.Conv2d's; CPU only, well under two minutes
on two cores (what ``make demo`` runs first).
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.showcase import SAMPLE, tour


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-showcase", __doc__)
    p.add_argument("--out", type=command.folder_path, default=Path("demo_out"), help="folder of the figures and timing.json")
    p.add_argument("--image", type=Path, default=None,
                   help="an equirectangular image (default: the CVRG-Pano sample of a checkout, else a test pattern)")
    return p


def job(args) -> None:
    if args.image is not None and not args.image.is_file():
        raise InputError(f"--image {args.image}: no such file")
    written = tour(args.image or SAMPLE, writable_folder(args.out))
    print("files written:")
    for path in written:
        print(f"  {path}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
