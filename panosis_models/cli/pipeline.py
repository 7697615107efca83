"""PanOSIS end to end: ``panosis-pipeline``.

One image-mask pair (default: a rendered synthetic street panorama) -> OSMIS -> a generated
data set -> U-Nets trained on it with standard and with equirectangular convolutions ->
evaluation on held-out synthetic panoramas (or ``--test DIR``, a CVRG-Pano folder), beside the
same U-Nets trained on the one pair. ``--quick`` finishes on two CPU cores in minutes; the
default setting is for a GPU. Writes table.md, results.json and iou.png under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.experiments.panosis import PipelineConfig, run
from panosis_models.models.convs import CONV_KINDS
from panosis_models.osmis.label_check import describe
from panosis_models.osmis.config import OsmisConfig


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
    p.add_argument("--test", default=None, help="a CVRG-Pano folder to test on (default: held-out synthetic)")
    p.add_argument("--colour-masks", action="store_true", help="the --test folder's masks are palette colours")
    p.add_argument("--out", default=d.out, help="results folder (and the runs' folders)")
    p.add_argument("--seed", type=command.seed, default=d.seed,
                   help="seeds the training runs and the held-out test worlds (the synthetic pair is world "
                        f"{OsmisConfig.pair_seed})")
    command.add_device(p)
    command.add_resume(p, "continue interrupted stages")
    command.add_progress(p)
    return p


def job(args) -> None:
    summary = run(PipelineConfig(**command.config_fields(args)))
    print(f"\nTest: {summary['test']}")
    print(summary["table"])
    if summary["generated"]["top_labels"]:
        print("The training mask's largest labels:\n" + describe(summary["generated"]["top_labels"]))
    seconds = summary["seconds"]
    print(f"written: {args.out} ({round(sum(seconds.values()) / 60, 1)} min: {seconds})")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
