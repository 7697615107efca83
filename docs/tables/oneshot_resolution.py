"""One-shot page: fold 1 on its test episodes at 128×256 (the resolution chosen on fold 1's
validation worlds) beside the protocol's 64×128, three seeds each, every method against the best
trivial predictor scored at the same resolution on the same episodes. The target is read as in
the folds table (``oneshot_folds``)."""
from pathlib import Path

from ._format import load, mean_std, table
from .oneshot_folds import VARIANTS, against_target

SOURCES = ["oneshot-4folds-3seeds.json", "oneshot-fold1-128x256-3seeds.json"]
FOLD = "1"


def method_rows(method: str, low: dict, high: dict) -> list:
    """One row per shot variant of ``method``: its 64×128 and 128×256 summaries side by side."""
    rows = []
    for variant, shots in VARIANTS.items():
        a, b = low[variant], high[variant]
        gain, met = against_target(high, variant)
        rows.append([method, shots, mean_std(a["pixel_miou"]["per_seed"]), mean_std(a["minus_best_trivial"]["per_seed"]),
                     mean_std(b["pixel_miou"]["per_seed"]), mean_std(b["minus_best_trivial"]["per_seed"]),
                     "yes" if b["above_2std"] else "no", gain, "yes" if met else "no"])
    return rows


def render(figures: Path) -> str:
    protocol, data = (load(figures, source) for source in SOURCES)
    low, high = protocol["folds"][FOLD], data["folds"][FOLD]
    header = ["method", "shots", "64×128: mean IoU", "− best trivial", "128×256: mean IoU", "− best trivial",
              "> 2 std", "− 1 shot", "target met (128×256)"]
    rows = [row for method in high["methods"] if method in low["methods"]
            for row in method_rows(method, low["methods"][method], high["methods"][method])]
    trivial = ", ".join(f"{shots} {high['best_trivial'][v]['miou']:.3f} ({low['best_trivial'][v]['miou']:.3f} at 64×128)"
                        for v, shots in VARIANTS.items())
    seeds = ", ".join(map(str, data["seeds"]))
    return (f"Fold {FOLD}, seeds {seeds}; 128×256 runs: {data['machine']}, {data['date']}. Best trivial "
            f"predictor at 128×256 by shots: {trivial}.\n\n" + table(header, rows))
