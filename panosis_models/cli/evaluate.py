"""Evaluate a trained U-Net or PSPNet: ``panosis-evaluate --checkpoint RUN/best.pt``.

Per-class IoU, mIoU over labels 1-7, pixel accuracy and the confusion matrix, as metrics.json
and PNGs. By default on the held-out test split of the run's own data; ``--split all`` scores all
of it (``val``, ``train``: those parts). ``--data`` (``--layout``), ``--view``, ``--num``,
``--data-seed`` or ``--size`` describe other data, split as the run split its own (a value equal to
the run's changes nothing): with another ``--data-seed``, say, ``--split all`` scores every held-out
world. The output says which split was scored and how many items. ``--conv equi`` evaluates the
same weights with every 3x3 convolution made spherical (``equiconv.convert``): how a network
trained on perspective images carries over to panoramas.
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.models.convs import CONV_KINDS
from panosis_models.data.source import LAYOUTS, SPLIT_NAMES, VIEWS, evaluation_data
from panosis_models.segmentation.evaluate import evaluate, load_model, summary_line

DATA_FLAGS = ("data", "layout", "view", "num", "data_seed", "size", "colour_masks")


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-evaluate", __doc__)
    p.add_argument("--checkpoint", required=True, type=Path, help="a run's best.pt or last.pt (U-Net or PSPNet)")
    p.add_argument("--split", choices=SPLIT_NAMES, default="test",
                   help="the part of the data scored: the run's held-out test split, val, train, or all of it")
    p.add_argument("--data", default=None, help="a folder (see --layout), or 'synthetic' (default: the run's data)")
    p.add_argument("--layout", choices=LAYOUTS, default=None,
                   help="the folder's layout: CVRG-Pano (rgb/, mask/) or cityscapes-image-pairs (train/, val/)")
    p.add_argument("--colour-masks", action="store_true", default=None, help="the folder's masks are palette colours")
    p.add_argument("--view", choices=VIEWS, default=None, help="synthetic data: view")
    p.add_argument("--num", type=command.count(0), default=None, help="synthetic data: items")
    p.add_argument("--data-seed", type=command.seed, default=None, help="synthetic data: worlds (another seed = held out)")
    p.add_argument("--size", type=command.size, default=None, help="HxW the data are resized to")
    p.add_argument("--conv", choices=CONV_KINDS, default=None, help="evaluate with these 3x3 convolutions")
    p.add_argument("--batch-size", type=command.count(1), default=4, help="items per forward pass")
    command.add_device(p)
    p.add_argument("--out", type=command.folder_path, default=None, help="results folder (default: RUN/eval-CONV)")
    command.add_progress(p)
    return p


def job(args) -> None:
    model, cfg = load_model(args.checkpoint, args.conv, args.device)
    overrides = {name: getattr(args, name) for name in DATA_FLAGS if getattr(args, name) is not None}
    dataset = evaluation_data(cfg, args.split, **overrides)
    out = args.out or args.checkpoint.parent / f"eval-{cfg.conv}"
    result = evaluate(model, dataset, out, args.batch_size, args.device, title=f"{cfg.conv} conv",
                      progress=args.progress, level=cfg.label_level, split=args.split)
    print(summary_line(result))
    print(f"written: {out}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
