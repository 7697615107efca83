"""What EquiConv is for: ``panosis-experiment``.

``--study projection`` (the default): U-Nets (``--model``: and/or PSPNets) trained on perspective
views and on panoramas of synthetic streets, tested on level and on tilted panoramas of held-out
worlds, with standard and with spherical convolutions (the perspective network also converted by
``equiconv.convert``); ``--pairs synthetic`` or ``--pairs DIR`` (a Kaggle cityscapes-image-pairs
download) trains the perspective arm on image pairs instead, std, converted and equi.
``--study latitude``: glyphs on the sphere classified by networks trained within 15 degrees of the
equator and tested in latitude bands up to 80 degrees (std, EquiConv2d, std converted). With
``--seeds 0,1,2`` every row is mean +- standard deviation over the seeds. ``--preset demo`` is
sized for two CPU cores (what ``make demo`` runs), ``--preset full`` for a GPU. Prints a table and
writes results.json, table.md and PNGs under ``--out``.
"""
import argparse

from panosis_models import command
from panosis_models.errors import InputError
from panosis_models.experiments import latitude, projection
from panosis_models.metrics import LEVELS
from panosis_models.models.segmentation import MODELS

STUDIES = ("projection", "latitude")
PROJECTION_ONLY = {"models": "--model", "pairs": "--pairs", "labels": "--labels", "cache_dir": "--cache-dir",
                   "resume": "--resume", "tilt_by": "--tilt-by"}  # field: flag


def parser() -> argparse.ArgumentParser:
    d = projection.ExperimentConfig()
    p = command.make_parser("panosis-experiment", __doc__)
    p.add_argument("--study", choices=STUDIES, default=STUDIES[0], help="which experiment")
    p.add_argument("--preset", choices=sorted(set(projection.PRESETS) | set(latitude.PRESETS)), default=d.preset,
                   help="sizes, items and epochs")
    p.add_argument("--out", default=None, help=f"results folder (and the runs' folders; default {d.out}, "
                                               f"latitude: {latitude.LatitudeConfig.out})")
    p.add_argument("--seeds", type=command.seeds, default=",".join(map(str, d.seeds)),
                   help="one run per seed (training data, initialisation, test data), e.g. 0,1,2")
    p.add_argument("--model", dest="models", type=command.names(MODELS), default=None,
                   help=f"projection: the networks, e.g. unet,pspnet (default {','.join(d.models)})")
    p.add_argument("--pairs", default=None,
                   help="projection: train the perspective arm on cityscapes-image-pairs: 'synthetic' "
                        "(written from the renderer) or the folder of a download (train/, val/)")
    p.add_argument("--labels", choices=tuple(LEVELS), default=None,
                   help=f"projection: what the networks learn, compared at the category level (default {d.labels})")
    p.add_argument("--tilt-by", choices=projection.TILT_BY, default=None,
                   help="projection: the tilted test panoramas rendered by a tilted camera, or the level ones "
                        f"turned by equiconv.rotate, as any real panorama can be (default {d.tilt_by})")
    p.add_argument("--epochs", type=command.count(1), default=None, help="epochs (default: the preset's)")
    p.add_argument("--num", dest="num_train", type=command.count(1), default=None,
                   help="training items per network (default: the preset's)")
    command.add_device(p)
    command.add_cache_dir(p, "projection: synthetic data cache")
    command.add_resume(p, "projection: continue interrupted trainings")
    command.add_progress(p)
    return p


def job(args) -> None:
    fields = command.config_fields(args, exclude=("debug", "study"))
    if args.study == "latitude":
        given = [flag for name, flag in PROJECTION_ONLY.items() if fields.pop(name)]
        if given:
            raise InputError(f"{', '.join(given)} apply to --study projection only")
        fields["out"] = latitude.LatitudeConfig.out if fields["out"] is None else fields["out"]
        summary = latitude.run(latitude.LatitudeConfig(**fields))
    else:
        fields["labels"] = fields["labels"] or projection.ExperimentConfig.labels
        fields["models"] = fields["models"] or projection.ExperimentConfig.models
        fields["tilt_by"] = fields["tilt_by"] or projection.ExperimentConfig.tilt_by
        fields["out"] = projection.ExperimentConfig.out if fields["out"] is None else fields["out"]
        summary = projection.run(projection.ExperimentConfig(**fields))
        print(f"\nTest: panoramas of held-out worlds per seed {summary['test_panoramas']}, "
              f"{summary['settings']['size'][0]}x{summary['settings']['size'][1]}")
    command.print_results(summary, fields["out"])


def main(argv=None) -> None:
    command.run(parser(), job, argv, resumable=lambda args: args.study == "projection")


if __name__ == "__main__":
    main()
