"""Class shares of the synthetic world: ``python -m panosis_models.cli.class_share``.

Renders ``--num`` panoramas and prints, per Cityscapes class, its share of the pixels, of the
panoramas that show it and of the instances (the README's table); writes it as JSON with --json.
"""
import argparse
import json

from panosis_models import command
from panosis_models.atomic import atomic_file
from panosis_models.data.class_share import class_shares, share_table


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-class-share", __doc__)
    p.add_argument("--num", type=command.count(1), default=500, help="panoramas")
    p.add_argument("--size", type=command.size, default="256x512", help="HxW of each panorama")
    p.add_argument("--seed", type=int, default=0, help="which worlds (those of the synthetic data set's seed)")
    p.add_argument("--json", default=None, help="also write the shares to this file")
    command.add_progress(p)
    return p


def job(args) -> None:
    shares = class_shares(args.num, *args.size, seed=args.seed, progress=args.progress)
    if args.json:
        with atomic_file(args.json) as tmp:
            tmp.write_text(json.dumps(shares, indent=1) + "\n")
    print(share_table(shares))


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
