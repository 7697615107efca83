"""Look at the synthetic streets: ``panosis-render-preview --out DIR --seeds 0 1 2``.

Renders a panorama (HxW) and a perspective view (HxH) of each seed's world and writes each
beside its colour mask as a PNG. With ``--shares N`` it renders instead the N panoramas of the
synthetic data set of the first seed and prints each Cityscapes class's share of the pixels, of
the panoramas and of the instances (also written to DIR/class_shares.json).
"""
import argparse
import json

from panosis_models import command
from panosis_models.atomic import atomic_file
from panosis_models.data.class_share import class_shares, share_table
from panosis_models.data.preview import write_previews
from panosis_models.atomic import writable_folder


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-render-preview", __doc__)
    p.add_argument("--out", type=command.folder_path, required=True, help="folder of the PNGs (or of class_shares.json)")
    p.add_argument("--seeds", type=command.seed, nargs="+", default=[0], help="worlds (with --shares: the data set's seed)")
    p.add_argument("--size", type=command.size, default="256x512", help="HxW of the panoramas")
    p.add_argument("--yaw", type=command.number(), default=0.0, help="perspective view direction (deg)")
    p.add_argument("--shares", type=command.count(1), default=None, metavar="N",
                   help="class shares over N panoramas instead of pictures")
    command.add_progress(p)
    return p


def job(args) -> None:
    out = writable_folder(args.out)
    if args.shares is None:
        written = write_previews(out, args.seeds, args.size, args.yaw)
        print(f"wrote {len(written)} previews to {args.out}")
        return
    shares = class_shares(args.shares, *args.size, seed=args.seeds[0], progress=args.progress)
    with atomic_file(out / "class_shares.json") as tmp:
        tmp.write_text(json.dumps(shares, indent=1) + "\n")
    print(share_table(shares))


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
