"""Sample a data set from a trained OSMIS generator:
``panosis-osmis-generate --checkpoint RUN/last.pt --num N --out DIR``.

Writes N image-mask pairs in the CVRG-Pano layout (rgb/, mask/ label PNGs, colour/ for
viewing), an overview grid and generated.json (label shares against the training mask's).
The same seed gives the same set.
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.osmis.generate import generate


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-osmis-generate", __doc__)
    p.add_argument("--checkpoint", required=True, type=Path, help="an OSMIS run's last.pt")
    p.add_argument("--num", type=command.count(1), required=True, help="pairs to write")
    p.add_argument("--out", required=True, type=command.folder_path, help="the data set's folder")
    p.add_argument("--batch-size", type=command.count(1), default=16, help="pairs per forward pass")
    p.add_argument("--seed", type=command.seed, default=0, help="the noise")
    command.add_device(p)
    p.add_argument("--overwrite", action="store_true", help="write into a folder that already has pairs")
    command.add_progress(p)
    return p


def job(args) -> None:
    out = generate(args.checkpoint, args.num, args.out, args.batch_size, args.seed, args.device,
                   args.overwrite, args.progress)
    print(f"wrote {args.num} pairs to {out}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
