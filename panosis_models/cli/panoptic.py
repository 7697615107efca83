"""Panoptic segmentation of panoramas: ``panosis-panoptic train | evaluate | diagnose | experiment``.

``train``: a Panoptic-DeepLab-style network (semantic, instance-centre and offset heads on the
U-Net or PSPNet) on synthetic street panoramas with instance ids (the default) or a Cityscapes
style folder (rgb/, labels/, instances/), split into seeded, disjoint train/val/test parts, at
the fine level or the category one (``--level``: things person and vehicle); the
run folder gets ``last.pt`` every epoch (``--resume`` continues from it), ``best.pt`` by
validation PQ and ``summary.json``. Several processes: ``torchrun --nproc_per_node 2 -m
panosis_models.cli.panoptic train ... --items N``. ``evaluate --checkpoint RUN/best.pt``: PQ, SQ
and RQ (all, things, stuff; per pixel and area-weighted) and the seam figure as metrics.json, and
panoptic.png, on the run's held-out test split unless ``--split`` says otherwise (data flags equal
to the run's own change nothing), beside the connected-components baseline. ``diagnose
--checkpoint RUN/best.pt``: the post-processing fed ground truth or the network's output for each
of semantics, centres and offsets, and connected components: where PQ is lost. ``experiment``: std against equi over seeds (``--preset demo`` for two CPU cores,
``full`` for a GPU), results.json and table.md. ``--debug`` goes before the action.
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.experiments import panoptic as experiment
from panosis_models.models.convs import CONV_KINDS
from panosis_models.models.panoptic import BACKBONES
from panosis_models.models.pspnet import PRESETS
from panosis_models.panoptic.config import PanopticConfig
from panosis_models.panoptic.evaluate import evaluate, evaluation_data, load_model, summary_line, write_diagnosis
from panosis_models.panoptic.levels import LEVELS
from panosis_models.panoptic.postprocess import GROUPINGS, PostProcessing
from panosis_models.panoptic.train import train
from panosis_models.data.source import SPLIT_NAMES

DATA_FLAGS = ("data", "num", "data_seed", "size")


def _train_flags(p: argparse.ArgumentParser) -> None:
    d = PanopticConfig()
    p.add_argument("--out", default=d.out, help="run folder: checkpoints and summary.json")
    p.add_argument("--data", default=d.data, help="'synthetic' or a folder with rgb/, labels/ and instances/")
    p.add_argument("--num", "--items", dest="num", type=command.count(1), default=d.num,
                   help="synthetic items (split into train/val/test)")
    p.add_argument("--data-seed", type=command.seed, default=d.data_seed, help="synthetic data: which worlds")
    p.add_argument("--size", type=command.size, default=command.size_text(d.size), help="HxW of the network input")
    p.add_argument("--model", default=d.model, choices=BACKBONES, help="the backbone")
    p.add_argument("--preset", default=d.preset, choices=tuple(PRESETS), help="PSPNet's size")
    p.add_argument("--conv", default=d.conv, choices=CONV_KINDS, help="k x k convolutions and resizing")
    p.add_argument("--channels", type=command.channels, default=",".join(map(str, d.channels)),
                   help="widths of the U-Net's levels")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=d.batch_norm,
                   help="BatchNorm after each 3x3 convolution of the U-Net")
    p.add_argument("--level", default=d.level, choices=tuple(LEVELS),
                   help="what the network learns: the 19 fine classes or the 7 categories (things person, vehicle)")
    p.add_argument("--head-channels", type=command.count(1), default=d.head_channels, help="width of each head")
    p.add_argument("--hard-pixels", type=command.number(above=0, at_most=1), default=d.hard_pixels,
                   help="share of the pixels, the costliest, the semantic loss averages over (1: plain cross-entropy)")
    p.add_argument("--small-instance-weight", type=command.number(above=0), default=d.small_instance_weight,
                   help="weight in the semantic loss of the pixels of small instances (1: none)")
    p.add_argument("--thing-weight", type=command.number(above=0), default=d.thing_weight,
                   help="weight in the semantic loss of the pixels of thing classes (1: none)")
    p.add_argument("--center-weight", type=command.number(at_least=0), default=d.center_weight,
                   help="weight of the heatmap's MSE")
    p.add_argument("--offset-weight", type=command.number(at_least=0), default=d.offset_weight,
                   help="weight of the offsets' L1")
    command.add_training(p, d)
    command.add_resume(p)


def _evaluate_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, type=Path, help="a panoptic run's best.pt or last.pt")
    p.add_argument("--split", choices=SPLIT_NAMES, default="test",
                   help="the part of the data scored: the run's held-out test split, val, train, or all of it")
    p.add_argument("--data", default=None, help="a folder, or 'synthetic' (default: the run's data)")
    p.add_argument("--num", type=command.count(0), default=None, help="synthetic data: items")
    p.add_argument("--data-seed", type=command.seed, default=None, help="synthetic data: worlds (another seed = held out)")
    p.add_argument("--size", type=command.size, default=None, help="HxW the data are resized to")
    p.add_argument("--batch-size", type=command.count(1), default=4, help="items per forward pass")
    p.add_argument("--out", type=command.folder_path, default=None,
                   help="results folder (default: RUN/eval, or RUN/diagnose for diagnose)")
    d = PostProcessing()
    p.add_argument("--grouping", choices=tuple(GROUPINGS), default=d.grouping,
                   help="thing pixels into instances: Panoptic-DeepLab's nearest centre, or connected regions that "
                        "centres split (evaluate only; diagnose shows both)")
    p.add_argument("--threshold", type=command.number(at_least=0, below=1), default=d.threshold,
                   help="centres: heatmap peaks above this (evaluate only)")
    p.add_argument("--window", type=command.count(1), default=None,
                   help="centres: odd non-maximum suppression window in px (default: scaled with the width)")


def _experiment_flags(p: argparse.ArgumentParser) -> None:
    d = experiment.PanopticExperimentConfig()
    p.add_argument("--preset", choices=sorted(experiment.PRESETS), default=d.preset, help="sizes, items and epochs")
    p.add_argument("--out", default=d.out, help="results folder (and the runs' folders)")
    p.add_argument("--seeds", type=command.seeds, default=",".join(map(str, d.seeds)),
                   help="one run per seed (training data, initialisation, test data), e.g. 0,1,2")
    p.add_argument("--epochs", type=command.count(1), default=None, help="epochs (default: the preset's)")
    p.add_argument("--level", default=None, choices=tuple(LEVELS), help="fine classes or categories (default: the "
                   "preset's)")
    p.add_argument("--num", dest="num_train", type=command.count(1), default=None,
                   help="training items per network (default: the preset's)")
    command.add_resume(p, "continue interrupted trainings")


ACTIONS = {"train": (_train_flags, "train a panoptic network"),
           "evaluate": (_evaluate_flags, "evaluate a panoptic checkpoint"),
           "diagnose": (_evaluate_flags, "where a panoptic checkpoint loses its quality"),
           "experiment": (_experiment_flags, "std against equi over seeds")}


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-panoptic", __doc__)
    actions = p.add_subparsers(dest="action", required=True)
    for name, (flags, title) in ACTIONS.items():
        sub = actions.add_parser(name, help=title, description=title,
                                 formatter_class=command.HelpFormatter)
        flags(sub)
        command.add_device(sub)
        if name not in ("evaluate", "diagnose"):
            command.add_cache_dir(sub)
        command.add_progress(sub)
    return p


def job(args) -> None:
    fields = command.config_fields(args, exclude=("debug", "action"))
    if args.action == "train":
        train(PanopticConfig(**fields))
    elif args.action in ("evaluate", "diagnose"):
        model, cfg = load_model(args.checkpoint, args.device)
        overrides = {name: getattr(args, name) for name in DATA_FLAGS if getattr(args, name) is not None}
        out = args.out or args.checkpoint.parent / ("eval" if args.action == "evaluate" else "diagnose")
        data = evaluation_data(cfg, args.split, **overrides)
        if args.action == "evaluate":
            print(summary_line(evaluate(model, data, out, args.batch_size, args.device, progress=args.progress,
                                        level=cfg.panoptic_level, split=args.split,
                                        post=PostProcessing(args.grouping, args.threshold, args.window))))
        else:
            print(write_diagnosis(model, data, out, cfg.panoptic_level, args.device, args.batch_size, args.progress,
                                  args.split))
        print(f"written: {out}")
    else:
        summary = experiment.run(experiment.PanopticExperimentConfig(**fields))
        command.print_results(summary, args.out)


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
