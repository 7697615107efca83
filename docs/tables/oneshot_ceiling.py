"""One-shot page: how high each fold could go by combining the predictors it already has. Per
class, the best test IoU of any trivial predictor or any method (seed mean), with as many
supports in any aggregation, averaged over the fold's classes: a ceiling chosen on the test
episodes, not a method. Where it stays below the target, no choice among these predictors
(per class, with hindsight) reaches it. Folds run at 128×256 as well get a row at each size."""
from pathlib import Path

from panosis_models.experiments.oneshot_protocol import METHODS

from ._format import load, number, table
from .oneshot_resolution import SIZES

SOURCES = SIZES
SHOTS = {"1": ("1-shot",), "5": ("5-shot-or", "5-shot-mean")}


def class_best(data: dict, variants: tuple) -> dict:
    """Per class, the best IoU over every trivial predictor and method in ``variants``."""
    best = {}
    for variant in variants:
        scores = [b[variant]["pixel"]["iou"] for b in data["baselines"].values()]
        scores += [{c: s["mean"] for c, s in m[variant]["class_iou"].items()} for m in data["methods"].values()]
        for iou in scores:
            for c, value in iou.items():
                best[c] = max(best.get(c, 0.0), value)
    return best


def fold_rows(fold: str, size: str, summary: dict, target: float, columns) -> list:
    """The fold's rows at one size, one per number of supports, a cell per method of ``columns``."""
    rows = []
    for shots, variants in SHOTS.items():
        trivial = max(summary["best_trivial"][v]["miou"] for v in variants)
        methods = {name: max(m[v]["pixel_miou"]["mean"] for v in variants) for name, m in summary["methods"].items()}
        best = class_best(summary, variants)
        ceiling = sum(best.values()) / len(best)
        rows.append([fold, size, shots, number(trivial + target), *(number(methods.get(m)) for m in columns),
                     number(ceiling), f"{ceiling - trivial - target:+.3f}"])
    return rows


def render(figures: Path) -> str:
    files = {source: load(figures, source) for source in SOURCES}
    present = {m for data in files.values() for summary in data["folds"].values() for m in summary["methods"]}
    columns = [m for m in METHODS if m in present]
    rows, targets = [], set()
    for source, size in SOURCES.items():
        data = files[source]
        target = data["target"]["minus_best_trivial"]
        targets.add(target)
        rows += [row for fold, summary in data["folds"].items()
                 for row in fold_rows(fold, size, summary, target, columns)]
    if len(targets) > 1:
        raise ValueError(f"the one-shot figures files set different targets {sorted(targets)}; one header cannot name them")
    (target,) = targets
    rows.sort(key=lambda row: row[0])  # stable: each fold's sizes in the order of SOURCES
    header = ["fold", "size", "shots", f"target (best trivial + {target})", *(m.replace("oslsm", "OSLSM") for m in columns),
              "per class, best of all", "ceiling − target"]
    return table(header, rows)
