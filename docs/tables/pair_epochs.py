"""OSMIS and PanOSIS page: the one-pair routes' U-Net epochs chosen on validation worlds, from
``pair-epochs-validation.json``: per number of epochs, the U-Net on the pair alone against colour
in the pair's rows on the same validation panoramas, mean ± std over the training pairs and the
per-pair difference read with the two-standard-deviation rule."""
import statistics
from pathlib import Path

from ._format import load, number, spread, table

TESTS = ("level", "tilted")

SOURCES = ["pair-epochs-validation.json"]


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    rows = []
    for epochs, per_test in data["summary"].items():
        cells = []
        for test in TESTS:
            entry, difference = per_test[test], per_test[test]["minus_colour_in_rows"]
            rule = "above 2 std" if entry["above_2std"] else "within 2 std"
            cells += [spread(entry["unet"]), f"{spread(difference)} ({rule})"]
        rows.append([epochs, *cells])
    per_pair = {run["pair_seed"]: run for run in data["runs"]}.values()  # colour does not depend on epochs
    colour = {test: number(statistics.fmean(run["colour in pair rows"][test]["miou"] for run in per_pair))
              for test in TESTS}
    header = ["epochs", *(f"{title} ({test})" for test in TESTS
                          for title in ("U-Net on the pair, mIoU", "− colour in pair rows"))]
    pairs = sorted({run["pair_seed"] for run in data["runs"]})
    return (table(header, rows) +
            f"\nColour in the pair's rows (learns nothing): {colour['level']} level, {colour['tilted']} tilted "
            f"(mean over the pairs). Training pairs (worlds) {', '.join(map(str, pairs))}, seed {data['seed']}, "
            f"{data['conv']} convolutions, the quick setting otherwise; {data['validation']}. "
            f"Command: `{data['command']}` ({data['machine']}, {data['date']}).\n")
