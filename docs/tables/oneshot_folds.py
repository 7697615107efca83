"""One-shot page: every fold over three seeds, prototype network and OSLSM against the best
trivial predictor of the same shots, from ``python -m panosis_models.experiments.oneshot_protocol``
(its summary of the runs' metrics.json files)."""
from pathlib import Path

from ._format import load, mean_std, number, table

SOURCES = ["oneshot-4folds-3seeds.json"]
VARIANTS = {"1-shot": "1", "5-shot-or": "5, OR", "5-shot-mean": "5, mean logits"}


def fold_rows(fold: str, data: dict) -> list:
    rows = []
    for method, variants in data["methods"].items():
        for variant, shots in VARIANTS.items():
            s = variants[variant]
            rows.append([fold, method, shots, mean_std(s["pixel_miou"]["per_seed"]),
                         mean_std(s["area_miou"]["per_seed"]), number(data["best_trivial"][variant]["miou"]),
                         data["best_trivial"][variant]["name"], mean_std(s["minus_best_trivial"]["per_seed"]),
                         "yes" if s["above_2std"] else "no", "yes" if s["meets_target"] else "no"])
    return rows


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    header = ["fold", "method", "shots", "mean IoU", "area mean IoU", "best trivial", "which",
              "− best trivial", "> 2 std", "target met"]
    rows = [row for fold, summary in data["folds"].items() for row in fold_rows(fold, summary)]
    seeds = ", ".join(map(str, data["seeds"]))
    return (f"Seeds {seeds}; {data['machine']}, {data['date']}. Target: at least "
            f"+{data['target']['minus_best_trivial']} with a seed standard deviation under "
            f"{data['target']['seed_std_below']}.\n\n" + table(header, rows))
