"""PanOSIS end to end: ``panosis-pipeline``.

One image-mask pair (default: a rendered synthetic street panorama) -> OSMIS -> a generated
data set -> U-Nets trained on it and the pair with standard and with equirectangular
convolutions -> evaluation on held-out synthetic panoramas (or ``--test DIR``, a CVRG-Pano
folder), level and tilted, beside the same U-Nets trained on the pair alone for as many images
and the predictors that learn nothing from the pair. ``--quick`` finishes on two CPU cores in
minutes; the default setting is for a GPU. Writes table.md, results.json and iou.png under
``--out``.

With ``--pair-seeds`` and ``--seeds`` it runs once per synthetic pair and seed (each in
``OUT/pair<P>-seed<S>``, all tested on the held-out set ``--test-seed``) and summarises the
routes over the runs (``experiments.routes``): results.json and table.md under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.errors import InputError
from panosis_models.experiments import routes
from panosis_models.experiments.panosis import PipelineConfig, run
from panosis_models.models.convs import CONV_KINDS
from panosis_models.osmis.label_check import describe
from panosis_models.osmis.config import OsmisConfig
from panosis_models.segmentation.class_weight import CLASS_WEIGHTS


def parser() -> argparse.ArgumentParser:
    d = PipelineConfig()
    p = command.make_parser("panosis-pipeline", __doc__)
    p.add_argument("--image", default=None, help="the one image (PNG); default: a synthetic panorama")
    p.add_argument("--mask", default=None, help="its mask (index or palette-colour PNG)")
    p.add_argument("--quick", action="store_true", help="the small CPU setting")
    p.add_argument("--iterations", type=command.count(1), default=None, help="OSMIS steps (default: the setting's)")
    p.add_argument("--num", dest="generated", type=command.count(1), default=None,
                   help="pairs to generate (default: the setting's)")
    p.add_argument("--epochs", type=command.count(1), default=None, help="U-Net epochs (default: the setting's)")
    p.add_argument("--osmis-conv", choices=CONV_KINDS, default=d.osmis_conv, help="3x3 convolutions of OSMIS")
    p.add_argument("--tilt", type=command.number(at_least=0, at_most=90), default=d.tilt, metavar="DEG",
                   help="the U-Nets' augmentation: also tilt each panorama by a random pitch and roll up to DEG degrees")
    p.add_argument("--class-weight", default=d.class_weight, choices=CLASS_WEIGHTS,
                   help="the U-Nets' cross-entropy: 'balanced' gives every class the training masks show the same "
                        "total weight (default: every pixel weighs the same)")
    p.add_argument("--test", default=None, help="a CVRG-Pano folder to test on (default: held-out synthetic)")
    p.add_argument("--colour-masks", action="store_true", help="the --test folder's masks are palette colours")
    p.add_argument("--out", default=d.out, help="results folder (and the runs' folders)")
    p.add_argument("--seed", type=command.seed, default=None,
                   help=f"seeds the training runs and, unless --test-seed, the held-out test worlds (default {d.seed})")
    p.add_argument("--pair-seed", type=command.seed, default=None,
                   help=f"the synthetic pair's world (default {OsmisConfig.pair_seed})")
    p.add_argument("--test-seed", type=command.seed, default=None,
                   help="which held-out test worlds (or tilts of --test's panoramas); default: --seed "
                        f"(with --pair-seeds/--seeds: {routes.RoutesConfig.test_seed})")
    p.add_argument("--pair-seeds", type=command.seeds, default=None,
                   help="a sweep: one run per synthetic pair and seed, e.g. 0,1,2,3,4 (given --seeds alone: "
                        f"{','.join(map(str, routes.RoutesConfig.pair_seeds))})")
    p.add_argument("--seeds", type=command.seeds, default=None,
                   help="a sweep: the training seeds of each pair, e.g. 0,1 (given --pair-seeds alone: "
                        f"{','.join(map(str, routes.RoutesConfig.seeds))})")
    command.add_device(p)
    command.add_resume(p, "continue interrupted stages")
    command.add_progress(p)
    return p


SINGLE_RUN_ONLY = {"image": "--image", "mask": "--mask", "test": "--test", "colour_masks": "--colour-masks",
                   "seed": "--seed", "pair_seed": "--pair-seed"}  # field: flag a sweep refuses
SWEEP = ("pair_seeds", "seeds")


def job(args) -> None:
    fields = command.config_fields(args, exclude=("debug", *SWEEP))
    if args.pair_seeds is not None or args.seeds is not None:
        return sweep(args, fields)
    fields = {k: v for k, v in fields.items() if v is not None or k not in ("seed", "pair_seed")}
    summary = run(PipelineConfig(**fields))
    print(f"\nTest: {summary['test']}")
    print(summary["table"])
    if summary["generated"]["top_labels"]:
        print("The training mask's largest labels:\n" + describe(summary["generated"]["top_labels"]))
    seconds = summary["seconds"]
    print(f"written: {args.out} ({round(sum(seconds.values()) / 60, 1)} min: {seconds})")


def unset(value) -> bool:
    """A flag left at its default: None, or False for a switch (a seed of 0 is given)."""
    return value is None or value is False


def sweep(args, fields: dict) -> None:
    given = [flag for name, flag in SINGLE_RUN_ONLY.items() if not unset(fields.pop(name))]
    given += ["--osmis-conv"] if fields.pop("osmis_conv") != PipelineConfig.osmis_conv else []
    if given:
        raise InputError(f"one run's flags, not for a sweep of synthetic pairs (--pair-seeds/--seeds): "
                         f"{', '.join(given)}")
    d = routes.RoutesConfig
    fields["test_seed"] = d.test_seed if fields["test_seed"] is None else fields["test_seed"]
    summary = routes.run(routes.RoutesConfig(pair_seeds=args.pair_seeds or d.pair_seeds, seeds=args.seeds or d.seeds,
                                             **fields))
    summary["minutes"] = routes.minutes(summary)
    print(f"\nTest: {summary['test']}")
    command.print_results(summary, args.out)


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
