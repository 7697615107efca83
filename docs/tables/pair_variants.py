"""OSMIS and PanOSIS page: two changes to the pair route's U-Net training tried on validation
worlds at the quick setting's 80 epochs (balanced class weights, tilt augmentation), each against
the default training on the same pairs and panoramas and against colour in the pair's rows; then
per pair how much nature the pair shows and how much of it each U-Net finds."""
import statistics
from pathlib import Path

from panosis_models.experiments.results import NOISE_STDS

from ._format import load, mean_std, number, table

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
    return f"{number(mean)} ± {number(std)} ({'above' if abs(mean) > NOISE_STDS * std else 'within'} 2 std)"


def render(figures: Path) -> str:
    files = {name: load(figures, source) for name, source in VARIANTS.items()}
    runs = {name: {run["pair_seed"]: run for run in data["runs"] if str(run["epochs"]) == EPOCHS}
            for name, data in files.items()}  # {variant: {pair seed: its 80-epoch run}}
    default = runs["default training"]
    pairs = sorted(default)
    rows = []
    for name, mine in runs.items():
        cells = [name, mean_std(mine[p]["unet"]["level"]["miou"] for p in pairs)]
        for test in ("level", "tilted"):
            cells.append(paired([mine[p]["unet"][test]["miou"] - mine[p][COLOUR][test]["miou"] for p in pairs]))
        cells.append("–" if mine is default else
                     paired([mine[p]["unet"]["level"]["miou"] - default[p]["unet"]["level"]["miou"] for p in pairs]))
        rows.append(cells)
    header = ["U-Net on the pair", "mIoU (level)", "− colour in pair rows (level)", "− colour in pair rows (tilted)",
              "− default training (level)"]
    first = files["class weights `balanced`"]
    shares = first["pair_shares"]
    nature = [[p, f"{100 * shares[str(p)]['nature']:.1f} %",
               *(number(runs[name][p]["unet"]["level"]["iou"][NATURE]) for name in runs),
               number(default[p][COLOUR]["level"]["iou"][NATURE])] for p in pairs]
    return (table(header, rows) +
            f"\nTraining pairs (worlds) {', '.join(map(str, pairs))}, seed {first['seed']}, {first['conv']} "
            f"convolutions, {EPOCHS} epochs; {first['validation']}; differences per pair, mean ± std over the pairs. "
            "Commands: " + "; ".join(f"`{data['command']}`" for data in list(files.values())[1:]) +
            f" ({first['machine']}, {first['date']}); the default training's runs are those of the epochs table.\n\n" +
            table(["pair", "nature in the pair", *(f"nature IoU, {name}" for name in runs), "nature IoU, colour in rows"],
                  nature))
