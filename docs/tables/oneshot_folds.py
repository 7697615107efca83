"""One-shot page: every fold over three seeds, prototype network and OSLSM against the best
trivial predictor of the same shots, from ``python -m panosis_models.experiments.oneshot_protocol``
(its summary of the runs' metrics.json files). The target is the issue's: one support at least
+0.05 over the best trivial predictor with a seed standard deviation under 0.03, and five
supports above one (paired per seed, above twice its standard deviation)."""
from pathlib import Path

from panosis_models.experiments.oneshot_protocol import paired

from ._format import load, mean_std, number, table, yes_no

PROTOCOL = "oneshot-4folds-3seeds.json"
SOURCES = [PROTOCOL]
VARIANTS = {"1-shot": "1", "5-shot-or": "5, OR", "5-shot-mean": "5, mean logits"}


def fold_date(data: dict, fold: str) -> str:
    """The date of the runs behind ``fold``'s entry: the last update that summarised it again,
    else the file's."""
    dates = [u["date"] for u in data.get("updates", []) if int(fold) in u["folds"]]
    return dates[-1] if dates else data["date"]


def over_one_shot(variants: dict, variant: str) -> tuple:
    """(text, above twice its std) of ``variant``'s per-seed gain over one support."""
    gain = paired(variants[variant]["pixel_miou"]["per_seed"], variants["1-shot"]["pixel_miou"]["per_seed"])
    return mean_std(gain["per_seed"]), gain["above_2std"]


def against_target(variants: dict, variant: str) -> tuple:
    """(gain over one support as text, target met) of ``variant``: one support is judged by its
    margin over the best trivial predictor, five by their paired gain over one."""
    if variant == "1-shot":
        return "–", variants[variant]["meets_target"]
    return over_one_shot(variants, variant)


def fold_rows(fold: str, data: dict) -> list:
    rows = []
    for method, variants in data["methods"].items():
        for variant, shots in VARIANTS.items():
            s = variants[variant]
            gain, met = against_target(variants, variant)
            rows.append([fold, method, shots, mean_std(s["pixel_miou"]["per_seed"]),
                         mean_std(s["area_miou"]["per_seed"]), number(data["best_trivial"][variant]["miou"]),
                         data["best_trivial"][variant]["name"], mean_std(s["minus_best_trivial"]["per_seed"]),
                         yes_no(s["above_2std"]), gain, yes_no(met)])
    return rows


def render(figures: Path) -> str:
    data = load(figures, PROTOCOL)
    header = ["fold", "method", "shots", "mean IoU", "area mean IoU", "best trivial", "which",
              "− best trivial", "> 2 std", "− 1 shot", "target met"]
    rows = [row for fold, summary in data["folds"].items() for row in fold_rows(fold, summary)]
    seeds = ", ".join(map(str, data["seeds"]))
    updates = "".join(f"; folds {', '.join(map(str, u['folds']))} summarised again from the runs of "
                      f"{u['date']} ({u['machine']})" for u in data.get("updates", []))
    return (f"Seeds {seeds}; {data['machine']}, {data['date']}{updates}. Target: one support at least "
            f"+{data['target']['minus_best_trivial']} over the best trivial predictor with a seed standard "
            f"deviation under {data['target']['seed_std_below']}; five supports above one, paired per seed "
            f"(\"− 1 shot\"), by more than twice the standard deviation.\n\n" + table(header, rows))
