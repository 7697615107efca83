"""OSMIS and PanOSIS page: two changes to the pair route's U-Net training tried on validation
worlds at the quick setting's 80 epochs (balanced class weights, tilt augmentation), each against
the default training on the same pairs and panoramas and against colour in the pair's rows; then
per pair how much nature the pair shows and how much of it each U-Net finds."""
import statistics
from pathlib import Path

from ._format import load, number, table

EPOCHS = "80"
VARIANTS = {"default training": "pair-epochs-validation.json",
            "class weights `balanced`": "pair-balanced-validation.json",
            "tilt augmentation 30°": "pair-tilt30-validation.json"}
SOURCES = list(VARIANTS.values())
COLOUR = "colour in pair rows"
NATURE = "4"  # the category's label


def paired(values) -> str:
    """Mean ± std of per-pair differences, with the two-standard-deviation reading."""
    mean, std = statistics.fmean(values), statistics.stdev(values)
    return f"{number(mean)} ± {number(std)} ({'above' if abs(mean) > 2 * std else 'within'} 2 std)"


def runs_by_pair(figures: Path) -> dict:
    """{variant: {pair seed: its 80-epoch run}}."""
    return {name: {run["pair_seed"]: run for run in load(figures, source)["runs"] if str(run["epochs"]) == EPOCHS}
            for name, source in VARIANTS.items()}


def render(figures: Path) -> str:
    runs = runs_by_pair(figures)
    default = runs["default training"]
    pairs = sorted(default)
    rows = []
    for name, mine in runs.items():
        level = [mine[p]["unet"]["level"]["miou"] for p in pairs]
        cells = [name, f"{number(statistics.fmean(level))} ± {number(statistics.stdev(level))}"]
        for test in ("level", "tilted"):
            cells.append(paired([mine[p]["unet"][test]["miou"] - mine[p][COLOUR][test]["miou"] for p in pairs]))
        cells.append("–" if mine is default else
                     paired([mine[p]["unet"]["level"]["miou"] - default[p]["unet"]["level"]["miou"] for p in pairs]))
        rows.append(cells)
    header = ["U-Net on the pair", "mIoU (level)", "− colour in pair rows (level)", "− colour in pair rows (tilted)",
              "− default training (level)"]
    shares = load(figures, VARIANTS["class weights `balanced`"])["pair_shares"]
    nature = [[p, f"{100 * shares[str(p)]['nature']:.1f} %",
               *(number(runs[name][p]["unet"]["level"]["iou"][NATURE]) for name in runs),
               number(default[p][COLOUR]["level"]["iou"][NATURE])] for p in pairs]
    first = load(figures, VARIANTS["class weights `balanced`"])
    return (table(header, rows) +
            f"\nTraining pairs (worlds) {', '.join(map(str, pairs))}, seed {first['seed']}, {first['conv']} "
            f"convolutions, {EPOCHS} epochs; {first['validation']}; differences per pair, mean ± std over the pairs. "
            "Commands: " + "; ".join(f"`{load(figures, source)['command']}`" for source in SOURCES[1:]) +
            f" ({first['machine']}, {first['date']}); the default training's runs are those of the epochs table.\n\n" +
            table(["pair", "nature in the pair", *(f"nature IoU, {name}" for name in runs), "nature IoU, colour in rows"],
                  nature))
