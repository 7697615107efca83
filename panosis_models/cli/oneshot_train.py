"""Train OSLSM on one fold's base classes: ``panosis-oneshot-train --fold I``
(or ``python -m panosis_models.cli.oneshot_train --fold I``).

Episodes of rendered synthetic panoramas with fine labels: a base class, one support panorama
showing it with its binary mask and a query panorama showing it; the fold's novel classes are
never foreground. The run folder gets ``last.pt`` every epoch (``--resume`` continues from it,
refusing other settings of the fold, data, model or episodes) and ``summary.json``. Several
processes: ``torchrun --nproc_per_node 2 -m panosis_models.cli.oneshot_train ... --items N``.
"""
import argparse

from panosis_models import command
from panosis_models.data.episodes import FOLDS
from panosis_models.models.convs import CONV_KINDS
from panosis_models.oneshot.config import OneShotConfig
from panosis_models.oneshot.train import train


def parser() -> argparse.ArgumentParser:
    d = OneShotConfig()
    p = command.make_parser("panosis-oneshot-train", __doc__)
    p.add_argument("--fold", type=int, required=True, choices=range(len(FOLDS)), help="the fold whose classes are novel")
    p.add_argument("--out", default=d.out, help="run folder: checkpoints and summary.json")
    p.add_argument("--conv", default=d.conv, choices=CONV_KINDS, help="k x k convolutions of both branches")
    p.add_argument("--size", type=command.size, default=command.size_text(d.size), help="HxW of the panoramas")
    p.add_argument("--num", "--items", dest="num", type=command.count(2), default=d.num,
                   help="training panoramas (an episode takes a support and a query that show its class)")
    p.add_argument("--data-seed", type=command.seed, default=d.data_seed, help="which training worlds")
    p.add_argument("--channels", type=command.channels, default=",".join(map(str, d.channels)),
                   help="widths of the encoders' levels")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=d.batch_norm,
                   help="BatchNorm after each 3x3 convolution")
    p.add_argument("--episodes", type=command.count(1), default=d.episodes, help="training episodes per epoch")
    command.add_training(p, d)
    command.add_run(p)
    return p


def main(argv=None) -> None:
    command.run(parser(), lambda args: train(OneShotConfig(**command.config_fields(args))), argv)


if __name__ == "__main__":
    main()
