"""One-shot page: how often the support check gave an episode to the network, to the network
with its colour cue raised (``--colour-gains``) and to colour in the support's rows, on the test
episodes of every fold and size whose evaluations counted it — over all the fold's episodes, and
per class for colour, as a percentage (mean ± std over seeds). The choice is made once per
episode and number of supports, so OR-ed and averaged five-support predictions share it."""
from pathlib import Path

from panosis_models.oneshot.support_check import COLOUR_NAME, NETWORK_NAME

from ._format import load, mean_std, table
from .oneshot import class_names
from .oneshot_resolution import SIZES

SOURCES = list(SIZES)
SHOTS = {"1-shot": "1", "5-shot-mean": "5"}


def percent(per_seed) -> str:
    return mean_std([100 * v for v in per_seed], digits=0) + " %"


def summed(choices: dict, names) -> list:
    """Per seed, the summed overall share of the candidates ``names``."""
    return [sum(seed) for seed in zip(*(choices[name]["share"]["per_seed"] for name in names))]


def method_rows(fold: str, size: str, names: dict, method: str, variants: dict) -> list:
    """A row per number of supports whose evaluations counted the choices of ``method``."""
    rows = []
    for variant, shots in SHOTS.items():
        choices = variants[variant].get("choices")
        if not choices:
            continue
        raised = [name for name in choices if name not in (NETWORK_NAME, COLOUR_NAME)]
        colour = choices[COLOUR_NAME]
        per_class = ", ".join(f"{names[int(c)]} {percent(s['per_seed'])}" for c, s in colour["class_share"].items())
        rows.append([fold, size, method, shots, percent(choices[NETWORK_NAME]["share"]["per_seed"]),
                     percent(summed(choices, raised)) if raised else "–", percent(colour["share"]["per_seed"]),
                     per_class])
    return rows


def render(figures: Path) -> str:
    rows = []
    for source, size in SIZES.items():
        for fold, data in load(figures, source)["folds"].items():
            names = dict(zip(data["classes"], class_names(data["classes"])))
            rows += [row for method, variants in data["methods"].items()
                     for row in method_rows(fold, size, names, method, variants)]
    rows.sort(key=lambda row: row[0])  # stable: each fold's sizes in the order of SIZES
    if not rows:
        raise ValueError(f"none of {', '.join(SOURCES)} counts the support check's choices")
    header = ["fold", "size", "method", "supports", "network", "network, colour cue raised", "colour in support rows",
              "colour in support rows, per class"]
    return table(header, rows)
