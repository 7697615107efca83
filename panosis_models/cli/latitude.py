"""Latitude generalisation: ``python -m panosis_models.cli.latitude``.

Glyphs on the sphere classified by networks trained with every glyph within 15 degrees of the
equator and tested in latitude bands up to 80 degrees: standard 3x3 convolutions, EquiConv2d,
and the standard network converted by ``equiconv.convert``. ``--preset demo`` is sized for two
CPU cores; ``--seeds 0,1,2`` reports mean +- standard deviation. Prints a table and writes
results.json, table.md and latitude.png under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.experiments.latitude import PRESETS, LatitudeConfig, run


def parser() -> argparse.ArgumentParser:
    d = LatitudeConfig()
    p = command.make_parser("panosis-latitude", __doc__)
    p.add_argument("--preset", choices=sorted(PRESETS), default=d.preset, help="sizes, items and epochs")
    p.add_argument("--out", default=d.out, help="results folder")
    p.add_argument("--seeds", type=command.seeds, default=",".join(map(str, d.seeds)),
                   help="one run per seed (glyphs, initialisation, shuffling), e.g. 0,1,2")
    p.add_argument("--epochs", type=command.count(1), default=None, help="epochs (default: the preset's)")
    p.add_argument("--num", dest="num_train", type=command.count(1), default=None,
                   help="training glyphs (default: the preset's)")
    command.add_device(p)
    command.add_progress(p)
    return p


def job(args) -> None:
    summary = run(LatitudeConfig(**command.config_fields(args)))
    print(summary["table"])
    print(f"written: {args.out} ({summary['minutes']} min)")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
