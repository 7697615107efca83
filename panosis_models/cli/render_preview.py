"""Look at the synthetic streets: ``panosis-render-preview --out DIR --seeds 0 1 2``.

Renders a panorama (HxW) and a perspective view (HxH) of each seed's world and writes each
beside its colour mask as a PNG.
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.data.preview import write_previews
from panosis_models.engine.outputs import writable_folder


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-render-preview", __doc__)
    p.add_argument("--out", type=Path, required=True, help="folder of the PNGs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="worlds")
    p.add_argument("--size", type=command.size, default="256x512", help="HxW of the panoramas")
    p.add_argument("--yaw", type=float, default=0.0, help="perspective view direction (deg)")
    return p


def job(args) -> None:
    written = write_previews(writable_folder(args.out), args.seeds, args.size, args.yaw)
    print(f"wrote {len(written)} previews to {args.out}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
