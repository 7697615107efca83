"""The one-shot protocol's summary over folds and seeds, from the runs' own metrics files.

``panosis-oneshot-evaluate`` scores one run on 1,000 test episodes of its fold, with the trivial
baselines on the same episodes (the test worlds and episodes do not depend on the run's seed).
This gathers ``ROOT/<prefix>-f<fold>-s<seed>/eval/metrics.json`` of every method, fold and seed
(and ``eval-checked/`` as the method with the support check, ``--support-check``, and
``eval-checked-gains/`` with ``--colour-gains`` as well, where every seed has one) into one
figures file: per fold, method and shot variant, the mean IoU per pixel and area-weighted (mean
± std over seeds), the paired difference to the best trivial predictor with as many supports,
in any aggregation (per seed, then mean ± std), whether it is above twice its standard
deviation, and whether it meets the target (+0.05 with a seed std under 0.03). Where the support
check counted its choices, the share of episodes it gave to each candidate, over all classes and
per class (mean ± std over seeds).

``python -m panosis_models.experiments.oneshot_protocol ROOT OUT.json [--folds 1,2,3] [--seeds 0,1,2]``;
with ``--update`` OUT is an existing figures file whose ``--folds`` entries are summarised again
from ROOT (runs retrained with later code, or evaluated with a new rule) and replaced, the other
folds kept; the update is recorded beside the file's date.
"""
import argparse
import json
import statistics
from pathlib import Path

from panosis_models.atomic import atomic_file

# method: (run folder prefix, evaluation folder)
METHODS = {"prototype": ("proto", "eval"), "prototype + support check": ("proto", "eval-checked"),
           "prototype + support check, colour gains": ("proto", "eval-checked-gains"),
           "oslsm": ("oslsm", "eval"), "oslsm + support check": ("oslsm", "eval-checked"),
           "oslsm + support check, colour gains": ("oslsm", "eval-checked-gains")}
VARIANTS = ("1-shot", "5-shot-or", "5-shot-mean")
TARGET, TARGET_STD = 0.05, 0.03


def spread(values) -> dict:
    """Mean, sample standard deviation (0 for one value) and the values."""
    values = [float(v) for v in values]
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "per_seed": values}


def paired(values, against) -> dict:
    """``spread`` of the per-seed differences ``values - against`` with ``above_2std``: whether
    their mean exceeds twice their standard deviation (the project's rule for a difference)."""
    diffs = [float(v) - float(a) for v, a in zip(values, against, strict=True)]
    diff = spread(diffs)
    return {**diff, "above_2std": len(diffs) > 1 and diff["mean"] > 2 * diff["std"]}


def best_trivial(metrics: dict, variant: str) -> dict:
    """The best trivial predictor with as many supports as ``variant``, in any aggregation
    (for 5 supports: OR-ed masks or averaged scores, whichever scores higher)."""
    shots = variant.split("-")[0]
    return max((metrics["best_baseline"][v] for v in VARIANTS if v.split("-")[0] == shots), key=lambda b: b["miou"])


def method_summary(metrics: list) -> dict:
    """Per shot variant, over one method's runs (one metrics dict per seed) of one fold."""
    out = {}
    for variant in VARIANTS:
        pixel = spread(m["scores"][variant]["pixel"]["miou"] for m in metrics)
        diff = paired(pixel["per_seed"], [best_trivial(m, variant)["miou"] for m in metrics])
        out[variant] = {
            "pixel_miou": pixel,
            "area_miou": spread(m["scores"][variant]["area"]["miou"] for m in metrics),
            "class_iou": {c: spread(m["scores"][variant]["pixel"]["iou"][c] for m in metrics)
                          for c in metrics[0]["scores"][variant]["pixel"]["iou"]},
            "minus_best_trivial": {key: diff[key] for key in ("mean", "std", "per_seed")},
            "above_2std": diff["above_2std"],
            "meets_target": diff["mean"] >= TARGET and diff["std"] < TARGET_STD,
        }
        choices = choice_summary(metrics, variant)
        if choices:
            out[variant]["choices"] = choices
    return out


def choice_summary(metrics: list, variant: str) -> dict:
    """Per candidate of a per-episode decision rule (the support check), the share of the episodes
    given to it, over all classes and per class (``spread`` over seeds); empty where a seed's
    evaluation did not count them."""
    counted = [m["scores"][variant].get("choices") for m in metrics]
    if not all(counted):
        return {}

    def class_share(choices: dict, name: str, cls: str) -> float:
        return choices[name]["episodes"][cls] / sum(c["episodes"][cls] for c in choices.values())
    return {name: {"share": spread(c[name]["share"] for c in counted),
                   "class_share": {cls: spread(class_share(c, name, cls) for c in counted)
                                   for cls in counted[0][name]["episodes"]}}
            for name in counted[0]}


def trivial_scores(baselines: dict) -> dict:
    """The trivial predictors' per-pixel and area-weighted scores: equal exactly when two
    evaluations drew the same episodes (whatever else later evaluations add, such as ranking)."""
    return {name: {variant: {key: scores[key] for key in ("pixel", "area")} for variant, scores in variants.items()}
            for name, variants in baselines.items()}


def summarise(root: Path, folds, seeds) -> dict:
    """The summary of every method whose runs exist for all ``seeds`` of a fold."""
    result = {}
    for fold in folds:
        runs = {}
        for method, (prefix, evaluation) in METHODS.items():
            paths = [root / f"{prefix}-f{fold}-s{seed}" / evaluation / "metrics.json" for seed in seeds]
            if all(path.is_file() for path in paths):
                runs[method] = [json.loads(path.read_text()) for path in paths]
        if not runs:
            continue
        first = next(iter(runs.values()))[0]
        for metrics in (m for ms in runs.values() for m in ms):
            if trivial_scores(metrics["baselines"]) != trivial_scores(first["baselines"]):
                raise ValueError(f"fold {fold}: the runs were scored on different episodes (their baselines differ)")
        result[str(fold)] = {
            "classes": first["classes"], "episodes": first["episodes"], "panoramas": first["panoramas"],
            "baselines": first["baselines"],
            "best_trivial": {variant: best_trivial(first, variant) for variant in VARIANTS},
            "methods": {method: method_summary(metrics) for method, metrics in runs.items()},
            "thresholds": {method: [m["threshold"] for m in metrics] for method, metrics in runs.items()},
            "support_rows": {method: [m.get("rows", False) for m in metrics] for method, metrics in runs.items()},
        }
    return result


def updated(existing: dict, folds_summary: dict, seeds: list, commands: list, update: dict) -> dict:
    """``existing`` (a figures file's data) with the folds of ``folds_summary`` replaced. Refused
    where the seeds differ, a fold was scored on other episodes, or a method it holds has no runs
    now (replacing would drop it)."""
    if existing["seeds"] != seeds:
        raise ValueError(f"--seeds {seeds} differ from the file's {existing['seeds']}")
    for fold, summary in folds_summary.items():
        old = existing["folds"].get(fold)
        if old is None:
            continue
        if trivial_scores(old["baselines"]) != trivial_scores(summary["baselines"]):
            raise ValueError(f"fold {fold}: the runs were scored on other episodes than the file's "
                             "(their baselines differ)")
        missing = [m for m in old["methods"] if m not in summary["methods"]]
        if missing:
            raise ValueError(f"fold {fold}: no runs for {', '.join(missing)}, which the file holds")
    folds = {**existing["folds"], **folds_summary}
    return {**existing, "commands": existing["commands"] + [c for c in commands if c not in existing["commands"]],
            "updates": existing.get("updates", []) + [update],
            "folds": {fold: folds[fold] for fold in sorted(folds, key=int)}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m panosis_models.experiments.oneshot_protocol",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder of the runs, named <proto|oslsm>-f<fold>-s<seed>")
    parser.add_argument("out", type=Path, help="the JSON file to write (refused if it exists, unless --update)")
    parser.add_argument("--folds", default="0,1,2,3")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--command", action="append", default=[], help="a command that made the runs (repeatable)")
    parser.add_argument("--machine", default="2-core CPU")
    parser.add_argument("--date", required=True)
    parser.add_argument("--update", action="store_true",
                        help="replace the --folds entries of the existing OUT, keeping its other folds")
    args = parser.parse_args(argv)
    if args.update and not args.out.is_file():
        parser.error(f"out: {args.out} is not a file; --update replaces folds of an existing one")
    if args.out.exists() and not args.update:
        parser.error(f"out: {args.out} exists; not overwritten (--update replaces some of its folds)")
    folds = [int(f) for f in args.folds.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    try:
        folds_summary = summarise(args.root, folds, seeds)
    except ValueError as error:
        parser.error(f"root: {error}")
    absent = [f for f in folds if str(f) not in folds_summary]
    if not folds_summary or (args.update and absent):
        parser.error(f"root: no runs for all seeds {seeds} of fold {', '.join(map(str, absent))} in {args.root}")
    if args.update:
        update = {"folds": folds, "machine": args.machine, "date": args.date}
        try:
            data = updated(json.loads(args.out.read_text()), folds_summary, seeds, args.command, update)
        except ValueError as error:
            parser.error(f"out: {error}")
    else:
        target = {"minus_best_trivial": TARGET, "seed_std_below": TARGET_STD}
        data = {"commands": args.command, "machine": args.machine, "date": args.date,
                "seeds": seeds, "target": target, "folds": folds_summary}
    with atomic_file(args.out) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
