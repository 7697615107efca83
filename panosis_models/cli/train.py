"""Train the PanOSIS U-Net on panoramas: ``panosis-train``.

The data are rendered synthetic street panoramas (the default) or a CVRG-Pano folder
(``--data DIR`` with rgb/ and mask/), split into seeded, disjoint train/val/test parts, or a
Kaggle "cityscapes-image-pairs" download (``--data DIR --layout cityscapes-pairs``, DIR holding
train/ and val/ of 256x512 JPEGs), which keeps its own train/val split. The run
folder gets ``last.pt`` every epoch (``--resume`` continues from it, refusing other settings of
the model, data, size or split), ``best.pt`` by validation mIoU and ``summary.json``. Several
processes: ``torchrun --nproc_per_node 2 -m panosis_models.cli.train ... --items N`` (torchrun
takes ``--num`` for its own ``--numa-binding``).
"""
import argparse

from panosis_models import command
from panosis_models.metrics import LEVELS
from panosis_models.models.convs import CONV_KINDS
from panosis_models.models.pspnet import PRESETS
from panosis_models.data.source import LAYOUTS, VIEWS
from panosis_models.models.segmentation import MODELS
from panosis_models.segmentation.class_weight import CLASS_WEIGHTS
from panosis_models.segmentation.config import TrainConfig
from panosis_models.segmentation.train import train


def parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = command.make_parser("panosis-train", __doc__)
    p.add_argument("--out", default=d.out, help="run folder: checkpoints and summary.json")
    p.add_argument("--data", default=d.data, help="'synthetic' or a folder (see --layout)")
    p.add_argument("--layout", default=d.layout, choices=LAYOUTS,
                   help="the folder's layout: CVRG-Pano (rgb/, mask/ or labels/) or cityscapes-image-pairs (train/, val/)")
    p.add_argument("--colour-masks", action="store_true", help="the folder's masks are palette colours")
    p.add_argument("--view", default=d.view, choices=VIEWS, help="synthetic images")
    p.add_argument("--labels", default=d.labels, choices=tuple(LEVELS),
                   help="label level: CVRG-Pano categories (folder mask/) or Cityscapes train ids (folder labels/)")
    p.add_argument("--num", "--items", dest="num", type=command.count(1), default=d.num,
                   help="synthetic items (split into train/val/test)")
    p.add_argument("--data-seed", type=command.seed, default=d.data_seed, help="synthetic data: which worlds")
    p.add_argument("--size", type=command.size, default=command.size_text(d.size), help="HxW of the network input")
    p.add_argument("--fov", type=command.between(0, 180), default=d.fov, help="perspective views: horizontal field of view (deg)")
    p.add_argument("--model", default=d.model, choices=MODELS, help="the network")
    p.add_argument("--preset", default=d.preset, choices=tuple(PRESETS), help="PSPNet's size")
    p.add_argument("--conv", default=d.conv, choices=CONV_KINDS, help="k x k convolutions (and, for PSPNet, "
                   "pooling and resizing)")
    p.add_argument("--channels", type=command.channels, default=",".join(map(str, d.channels)), help="widths of the U-Net's levels")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=d.batch_norm,
                   help="BatchNorm after each 3x3 convolution")
    command.add_training(p, d)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=d.augment,
                   help="turn and mirror panoramas, jitter colours")
    p.add_argument("--tilt", type=command.number(at_least=0, at_most=90), default=d.tilt, metavar="DEG",
                   help="while augmenting, also tilt each panorama by a random pitch and roll up to DEG degrees "
                        "(resampled on the sphere by equiconv.rotate)")
    p.add_argument("--class-weight", default=d.class_weight, choices=CLASS_WEIGHTS,
                   help="weigh the cross-entropy per class: 'balanced' gives every class seen in the training "
                        "masks the same total weight (default: every pixel weighs the same)")
    command.add_run(p)
    return p


def main(argv=None) -> None:
    command.run(parser(), lambda args: train(TrainConfig(**command.config_fields(args))), argv)


if __name__ == "__main__":
    main()
