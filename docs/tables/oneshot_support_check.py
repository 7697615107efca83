"""One-shot page: the support check against the plain prototype network on novel-class episodes
of validation worlds (the choice of reporting it), from the evaluations gathered in
``oneshot-support-check-validation.json``."""
from pathlib import Path

from ._format import load, number, table

SOURCES = ["oneshot-support-check-validation.json"]
VARIANTS = {"1-shot": "1", "5-shot-or": "5, OR", "5-shot-mean": "5, mean logits"}


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    rows = []
    for run in data["runs"].values():
        for variant, shots in VARIANTS.items():
            plain, checked = run["plain"][variant]["miou"], run["support check"][variant]["miou"]
            trivial = max(b["miou"] for v, b in run["best_trivial"].items() if v[0] == variant[0])
            rows.append([run["fold"], run["seed"], shots, number(plain), number(checked), f"{checked - plain:+.3f}",
                         number(trivial)])
    header = ["fold", "seed", "shots", "prototype", "with the support check", "difference",
              "best trivial, as many supports"]
    return f"{data['machine']}, {data['date']}.\n\n" + table(header, rows)
