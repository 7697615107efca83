"""One-shot panoramic segmentation two ways: ``panosis-oneshot-compare --quick``.

On one fold's novel classes and the same fixed support pairs of held-out panoramas: the
prototype network and OSLSM (meta-trained on the fold's base classes), the trivial baselines, a
U-Net trained on the pair alone, and the PanOSIS
route (OSMIS on the pair, a generated set, a U-Net on it; expensive, so on the first
``--panosis-pairs`` pairs only), each with std and equi convolutions. ``--quick`` is the
two-core setting (the quick pipeline's OSMIS); the default is for a GPU. Writes table.md and
results.json under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.data.episodes import FOLDS
from panosis_models.experiments.oneshot import CompareConfig, run


def parser() -> argparse.ArgumentParser:
    d = CompareConfig()
    p = command.make_parser("panosis-oneshot-compare", __doc__)
    p.add_argument("--quick", action="store_true", help="the small CPU setting")
    p.add_argument("--fold", type=int, default=d.fold, choices=range(len(FOLDS)), help="the fold whose classes are novel")
    p.add_argument("--panosis-pairs", type=command.count(0), default=None,
                   help="support pairs the PanOSIS route runs on (default: the setting's)")
    p.add_argument("--out", default=d.out, help="results folder (and the runs' folders)")
    p.add_argument("--seed", type=command.seed, default=d.seed, help="training runs, held-out worlds and support pairs")
    command.add_device(p)
    command.add_resume(p, "continue interrupted trainings (a resumed stage's time counts only what ran again)")
    command.add_progress(p)
    return p


def job(args) -> None:
    summary = run(CompareConfig(**command.config_fields(args)))
    command.print_results(summary, args.out)


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
