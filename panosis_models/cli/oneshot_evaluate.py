"""Evaluate a one-shot run (prototype or OSLSM) on its fold's novel classes:
``panosis-oneshot-evaluate --checkpoint RUN/last.pt``.

Test episodes from panoramas of held-out worlds (a fixed ``--seed``), each with ``max(--shots)``
supports: per novel class the foreground IoU over all its episodes, their mean and FB-IoU, per
pixel and area-weighted, for 1-shot and each k-shot (k masks OR-ed, and k logits averaged),
beside the trivial baselines scored on the same episodes. Writes metrics.json. ``--validation``
draws the episodes from the run's validation worlds instead, to compare settings without a test
panorama. ``--support-check`` decides each episode by the network or by colour in the support's
rows, whichever redraws the supports' own masks better (``oneshot.support_check``); with
``--colour-gains 1,2,4,8`` (a network trained with cues) the network with its colour cue's
weight multiplied by each gain is a candidate too (written to ``RUN/eval-checked-gains``).
"""
import argparse
from pathlib import Path

from panosis_models import command
from panosis_models.engine.outputs import output_folder
from panosis_models.errors import InputError
from panosis_models.oneshot.evaluate import evaluate, load_model, summary_lines, test_episodes
from panosis_models.oneshot.support_check import check_gains


def shots(text: str) -> tuple:
    """``--shots 1,5``: distinct positive integers."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"shots must be distinct positive integers such as 1,5, got {text!r}")
    return values


def colour_gains(text: str) -> tuple:
    """``--colour-gains 1,2,4,8``: numbers from 1 upwards, rising."""
    try:
        return check_gains(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"colour gains must start at 1 and rise, such as 1,2,4,8, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = command.make_parser("panosis-oneshot-evaluate", __doc__)
    p.add_argument("--checkpoint", required=True, type=Path, help="a run's last.pt")
    p.add_argument("--episodes", type=command.count(1), default=1000, help="test episodes")
    p.add_argument("--panoramas", type=command.count(2), default=200, help="panoramas they are drawn from")
    p.add_argument("--shots", type=shots, default="1,5", help="k of the k-shot predictions, e.g. 1,5")
    p.add_argument("--base", action="store_true", help="score the fold's base classes instead (what training reached)")
    p.add_argument("--validation", action="store_true",
                   help="draw the episodes from the run's validation worlds, not the held-out test ones "
                        "(for choosing settings)")
    p.add_argument("--support-check", action="store_true",
                   help="per episode, the network or colour in the support's rows, whichever redraws the "
                        "supports' own masks better")
    p.add_argument("--colour-gains", type=colour_gains, default=(1.0,),
                   help="with --support-check, also the network with its colour cue's weight times each gain, "
                        "e.g. 1,2,4,8 (a network trained with cues)")
    p.add_argument("--seed", type=command.seed, default=0, help="which held-out worlds and episodes")
    p.add_argument("--batch-size", type=command.count(1), default=8, help="episodes per forward pass")
    command.add_device(p)
    command.add_cache_dir(p)
    p.add_argument("--out", type=command.folder_path, default=None, help="results folder (default: RUN/eval)")
    command.add_progress(p)
    return p


def job(args) -> None:
    graded = args.colour_gains != (1.0,)
    if graded and not args.support_check:
        raise InputError("--colour-gains chooses among candidates of the support check: add --support-check")
    model, cfg = load_model(args.checkpoint, args.device)
    if graded and getattr(model, "cue_weights", None) is None:
        raise InputError(f"--colour-gains needs a network trained with cues; {args.checkpoint} has none")
    suffix = ("-base" * args.base + "-validation" * args.validation + "-checked" * args.support_check
              + "-gains" * graded)
    out = args.out or args.checkpoint.parent / ("eval" + suffix)
    with output_folder(out):  # before the panoramas are rendered
        episodes = test_episodes(cfg, args.panoramas, args.episodes, max(args.shots), args.seed, args.cache_dir,
                                 args.base, args.validation)
        result = evaluate(model, episodes, out, args.shots, args.batch_size, args.device, args.progress,
                          support_check=args.support_check, colour_gains=args.colour_gains)
    worlds = "validation" if args.validation else "held-out"
    print(f"fold {cfg.fold}, {cfg.conv} conv: {result['episodes']} episodes over {result['panoramas']} {worlds} "
          f"panoramas, {'base' if args.base else 'novel'} classes {result['classes']}")
    print("\n".join(summary_lines(result)))
    print(f"written: {out}")


def main(argv=None) -> None:
    command.run(parser(), job, argv)


if __name__ == "__main__":
    main()
