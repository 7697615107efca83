"""What EquiConv is for: ``panosis-experiment``.

U-Nets trained on perspective views and on panoramas of synthetic streets, tested on level and on
tilted panoramas of held-out worlds, with standard and with spherical 3x3 convolutions (the
perspective network also converted by ``equiconv.convert``); with ``--seeds 0,1,2`` every row is
mean +- standard deviation over the seeds. ``--preset demo`` is sized for two CPU cores (what
``make demo`` runs), ``--preset full`` for a GPU. Prints a table and writes results.json,
table.md and PNGs under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.metrics import LEVELS
from panosis_models.experiments.projection import PRESETS, ExperimentConfig, run


def parser() -> argparse.ArgumentParser:
    d = ExperimentConfig()
    p = command.make_parser("panosis-experiment", __doc__)
    p.add_argument("--preset", choices=sorted(PRESETS), default=d.preset, help="sizes, items and epochs")
    p.add_argument("--out", default=d.out, help="results folder (and the runs' folders)")
    p.add_argument("--seeds", type=command.seeds, default=",".join(map(str, d.seeds)),
                   help="one run per seed (training worlds, initialisation, test worlds), e.g. 0,1,2")
    p.add_argument("--labels", choices=tuple(LEVELS), default=d.labels,
                   help="what the networks learn (results are compared at the category level)")
    p.add_argument("--epochs", type=command.count(1), default=None, help="epochs (default: the preset's)")
    p.add_argument("--num", dest="num_train", type=command.count(1), default=None,
                   help="synthetic training items per network (default: the preset's)")
    command.add_device(p)
    p.add_argument("--cache-dir", default=None, help="synthetic data cache (default ~/.cache/equiconv/synthetic)")
    p.add_argument("--resume", action="store_true", help="continue interrupted trainings")
    command.add_progress(p)
    return p


def job(args) -> None:
    summary = run(ExperimentConfig(**command.config_fields(args)))
    print(f"\nTest: panoramas of held-out worlds per seed {summary['test_panoramas']}, "
          f"{summary['settings']['size'][0]}x{summary['settings']['size'][1]}")
    print(summary["table"])
    print(f"written: {args.out} ({summary['minutes']} min)")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
