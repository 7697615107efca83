"""Train a one-shot segmenter on one fold's base classes: ``panosis-oneshot-train --fold I``
(or ``python -m panosis_models.cli.oneshot_train --fold I``).

``--method prototype`` (the default; PANet-style, with its prototype alignment loss,
``--align``) or ``--method oslsm`` (with ``--pretrained`` a prototype run of the same fold: both
its encoders start from that run's, the conditioning branch fine-tuned at ``--condition-lr`` of
the rate). Episodes of rendered synthetic panoramas with fine labels: a base class, one support
panorama showing it with its binary mask and a query panorama showing it; the fold's novel
classes are never foreground (their query pixels are ignored, or background with ``--novel
background``). After each epoch the decision threshold is chosen on base-class episodes of
``--validation`` panoramas of other worlds and saved with the model. The run folder gets
``last.pt`` every epoch, ``best.pt`` at the best validation score (``--resume`` continues from
``last.pt``, refusing other settings of the fold, data, model or episodes) and
``summary.json``. Several processes: ``torchrun --nproc_per_node 2 -m
panosis_models.cli.oneshot_train ... --items N``.
"""
import argparse

from panosis_models import command
from panosis_models.data.episodes import FOLDS
from panosis_models.models.convs import CONV_KINDS
from panosis_models.models.oslsm import GENERATORS
from panosis_models.oneshot.config import METHODS, NOVEL, OneShotConfig
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
    p.add_argument("--latitude", action=argparse.BooleanOptionalAction, default=d.latitude,
                   help="the encoders also read each row's latitude (a fourth input channel)")
    p.add_argument("--cues", action=argparse.BooleanOptionalAction, default=d.cues,
                   help="the colour and row cues of the support join the logit, by learned weights (oslsm "
                        "with --pretrained: starting from that run's)")
    p.add_argument("--align", type=command.number(at_least=0), default=None,
                   help="prototype: weight of PANet's prototype alignment loss (the support predicted back "
                        "from the query); 0: none (default: 1 for prototype)")
    p.add_argument("--episodes", type=command.count(1), default=d.episodes, help="training episodes per epoch")
    p.add_argument("--method", default=d.method, choices=METHODS, help="the one-shot network")
    p.add_argument("--novel", default=d.novel, choices=NOVEL,
                   help="novel-class pixels of training queries: ignored, or background (the ablation)")
    p.add_argument("--generator", default=d.generator, choices=GENERATORS,
                   help="oslsm: the classifier's weights by fixed weight hashing, or by learned layers")
    p.add_argument("--pretrained", default=d.pretrained,
                   help="oslsm: a prototype run's checkpoint of the same fold that both encoders start from")
    p.add_argument("--condition-lr", type=command.number(above=0), default=d.condition_lr,
                   help="oslsm with --pretrained: the conditioning branch's learning rate as a share of --lr")
    p.add_argument("--validation", type=command.count(0), default=d.validation,
                   help="validation panoramas (other worlds) whose base-class episodes choose the threshold; 0: none")
    p.add_argument("--val-episodes", type=command.count(1), default=d.val_episodes, help="validation episodes")
    command.add_training(p, d)
    command.add_run(p)
    return p


def main(argv=None) -> None:
    command.run(parser(), lambda args: train(OneShotConfig(**command.config_fields(args))), argv)


if __name__ == "__main__":
    main()
