"""One-shot page: folds 1 and 2 on their test episodes at 128×256 (the resolution their validation
worlds preferred) beside the protocol's 64×128, three seeds each, every method against the best
trivial predictor scored at the same resolution on the same episodes. The target is read as in
the folds table (``oneshot_folds``)."""
from pathlib import Path

from ._format import load, mean_std, table, yes_no
from .oneshot import class_names
from .oneshot_folds import PROTOCOL, VARIANTS, against_target

LARGER = {"1": "oneshot-fold1-128x256-3seeds.json", "2": "oneshot-fold2-128x256-3seeds.json"}
SOURCES = [PROTOCOL, *LARGER.values()]
SIZES = {PROTOCOL: "64×128", **{source: "128×256" for source in LARGER.values()}}  # file → panorama size


def method_rows(fold: str, method: str, low, high: dict) -> list:
    """One row per shot variant of ``method``: its 64×128 and 128×256 summaries side by side
    (dashes at 64×128 where ``low`` is None: the method was not run there)."""
    rows = []
    for variant, shots in VARIANTS.items():
        b = high[variant]
        gain, met = against_target(high, variant)
        smaller = ([mean_std(low[variant][key]["per_seed"]) for key in ("pixel_miou", "minus_best_trivial")]
                   if low else ["–", "–"])
        rows.append([fold, method, shots, *smaller, mean_std(b["pixel_miou"]["per_seed"]),
                     mean_std(b["minus_best_trivial"]["per_seed"]), yes_no(b["above_2std"]), gain, yes_no(met)])
    return rows


def provenance(fold: str, low: dict, high: dict, data: dict) -> str:
    """Where the fold's 128×256 runs come from, the classes its episodes hold (a class can be too
    small to be drawn at 64×128) and its best trivial predictor at both sizes."""
    trivial = ", ".join(f"{shots} {high['best_trivial'][v]['miou']:.3f} ({low['best_trivial'][v]['miou']:.3f} at 64×128)"
                        for v, shots in VARIANTS.items())
    classes = ", ".join(class_names(high["classes"]))
    if high["classes"] != low["classes"]:
        classes += f"; at 64×128: {', '.join(class_names(low['classes']))}"
    seeds = ", ".join(map(str, data["seeds"]))
    return (f"Fold {fold} ({classes}), seeds {seeds}; 128×256 runs: {data['machine']}, {data['date']}. Best "
            f"trivial predictor at 128×256 by shots: {trivial}.")


def render(figures: Path) -> str:
    protocol = load(figures, PROTOCOL)
    header = ["fold", "method", "shots", "64×128: mean IoU", "− best trivial", "128×256: mean IoU", "− best trivial",
              "> 2 std", "− 1 shot", "target met (128×256)"]
    notes, rows = [], []
    for fold, source in LARGER.items():
        data = load(figures, source)
        low, high = protocol["folds"][fold], data["folds"][fold]
        notes.append(provenance(fold, low, high, data))
        rows += [row for method in high["methods"]
                 for row in method_rows(fold, method, low["methods"].get(method), high["methods"][method])]
    return "\n\n".join(notes) + "\n\n" + table(header, rows)
