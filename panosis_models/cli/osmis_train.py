"""Train OSMIS on one image-mask pair: ``panosis-osmis-train``.

Without ``--image``/``--mask`` the pair is a rendered synthetic street panorama. The run folder
gets ``last.pt`` (every ``--checkpoint-every`` steps and at the end; ``--resume`` continues from
it, refusing other networks or another pair), ``previews/``, ``losses.png`` and
``summary.json``. ``--conv equi`` builds every 3x3 convolution of both networks from
EquiConv2d; a full panorama (width twice the height, or ``--panorama``) is augmented by turning
the camera instead of translating.
"""
import argparse

from panosis_models import command
from panosis_models.models.convs import CONV_KINDS
from panosis_models.osmis.config import OsmisConfig
from panosis_models.osmis.train import train


def parser() -> argparse.ArgumentParser:
    d = OsmisConfig()
    p = command.make_parser("panosis-osmis-train", __doc__)
    p.add_argument("--out", default=d.out, help="run folder")
    p.add_argument("--image", default=None, help="the training image (PNG); default: a synthetic panorama")
    p.add_argument("--mask", default=None, help="its mask: index PNG (labels 0-7) or palette colours")
    p.add_argument("--pair-seed", type=command.seed, default=d.pair_seed, help="synthetic pair: which world")
    p.add_argument("--size", type=command.size, default=command.size_text(d.size), help="HxW trained and generated")
    p.add_argument("--conv", choices=CONV_KINDS, default=d.conv, help="3x3 convolutions of G and D")
    p.add_argument("--panorama", action=argparse.BooleanOptionalAction, default=None,
                   help="treat the pair as a full panorama (default: when W == 2H)")
    p.add_argument("--iterations", type=command.count(1), default=d.iterations, help="training steps")
    p.add_argument("--batch-size", type=command.count(1), default=d.batch_size, help="generated pairs per step")
    p.add_argument("--lr", type=command.number(above=0), default=d.lr, help="Adam's learning rate")
    p.add_argument("--channels-g", type=command.count(1), default=d.channels_g, help="generator base width")
    p.add_argument("--channels-d", type=command.count(1), default=d.channels_d, help="discriminator base width")
    p.add_argument("--diversity", type=command.number(at_least=0), default=d.diversity, help="diversity regulariser weight")
    p.add_argument("--reconstruction", type=command.number(at_least=0), default=d.reconstruction,
                   help="weight of the anchor noise's reconstruction of the pair (0: none)")
    p.add_argument("--augment", type=command.number(at_least=0, at_most=1), default=d.augment, help="differentiable augmentation probability")
    p.add_argument("--feature-augment", type=command.number(at_least=0, at_most=1), default=d.feature_augment,
                   help="content and layout feature augmentation probability")
    p.add_argument("--warmup", type=command.count(0), default=d.warmup, help="sampled hard masks before this step")
    p.add_argument("--ema", type=command.number(at_least=0, below=1), default=d.ema, help="decay of the generator's moving average")
    p.add_argument("--checkpoint-every", type=command.count(1), default=d.checkpoint_every, help="steps")
    p.add_argument("--preview-every", type=command.count(1), default=d.preview_every, help="steps")
    p.add_argument("--seed", type=command.seed, default=d.seed, help="initialisation and noise")
    command.add_device(p)
    command.add_resume(p)
    command.add_progress(p)
    return p


def main(argv=None) -> None:
    command.run(parser(), lambda args: train(OsmisConfig(**command.config_fields(args))), argv)


if __name__ == "__main__":
    main()
