"""One-shot page: per fold, how well each predictor's 1-shot logits rank the novel classes' pixels
(AUC, no threshold entering) beside its 1-shot mean IoU, on validation worlds, from
``oneshot-ranking-validation.json``."""
import statistics
from pathlib import Path

from ._format import load, mean_std, table

SOURCES = ["oneshot-ranking-validation.json"]


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    rows = []
    for fold, entry in data["folds"].items():
        for name, per in entry["predictors"].items():
            classes = [c for c in map(str, entry["classes"]) if all(c in auc for auc in per["auc"])]
            by_class = ", ".join(f"{entry['class_names'][c]} {statistics.mean(auc[c] for auc in per['auc']):.2f}"
                                 for c in classes)
            rows.append([fold, name, mean_std(per["miou"]), mean_std(per["mean_auc"]), by_class])
    header = ["fold", "predictor", "1-shot mean IoU", "mean AUC", "AUC per class (seed mean)"]
    return (f"{data['folds']['0']['episodes']} episodes per run, seeds {', '.join(map(str, data['seeds']))}; "
            f"{data['machine']}, {data['date']}.\n\n" + table(header, rows))
