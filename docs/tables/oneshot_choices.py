"""One-shot page: how often the support check gave an episode to the network, to the network
with its colour cue raised (``--colour-gains``) and to colour in the support's rows, at 128×256
on the test episodes of folds 1 and 2 — over all the fold's episodes, and per class for colour,
as a percentage (mean ± std over seeds). The choice is made once per episode and number of
supports, so OR-ed and averaged five-support predictions share it."""
from pathlib import Path

from panosis_models.oneshot.support_check import COLOUR_NAME, NETWORK_NAME

from ._format import load, mean_std, table
from .oneshot import class_names
from .oneshot_resolution import LARGER

SOURCES = list(LARGER.values())
SHOTS = {"1-shot": "1", "5-shot-mean": "5"}


def percent(per_seed) -> str:
    return mean_std([100 * v for v in per_seed], digits=0) + " %"


def summed(choices: dict, names) -> list:
    """Per seed, the summed overall share of the candidates ``names``."""
    return [sum(seed) for seed in zip(*(choices[name]["share"]["per_seed"] for name in names))]


def render(figures: Path) -> str:
    rows = []
    for fold, source in LARGER.items():
        data = load(figures, source)["folds"][fold]
        names = dict(zip(data["classes"], class_names(data["classes"])))
        for method, variants in data["methods"].items():
            for variant, shots in SHOTS.items():
                choices = variants[variant].get("choices")
                if not choices:
                    continue
                raised = [name for name in choices if name not in (NETWORK_NAME, COLOUR_NAME)]
                colour = choices[COLOUR_NAME]
                per_class = ", ".join(f"{names[int(c)]} {percent(s['per_seed'])}" for c, s in colour["class_share"].items())
                rows.append([fold, method, shots, percent(choices[NETWORK_NAME]["share"]["per_seed"]),
                             percent(summed(choices, raised)) if raised else "–", percent(colour["share"]["per_seed"]),
                             per_class])
    if not rows:
        raise ValueError(f"none of {', '.join(SOURCES)} counts the support check's choices")
    header = ["fold", "method", "supports", "network", "network, colour cue raised", "colour in support rows",
              "colour in support rows, per class"]
    return table(header, rows)
