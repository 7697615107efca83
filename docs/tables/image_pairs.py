"""The U-Net/PSPNet comparison's tables (``panosis-experiment --model unet,pspnet --pairs synthetic``).

The rows are ``panosis_models.experiments.results`` rows, as in the projection experiment (read
with ``segmentation``'s helpers), with each network's parameter count and its mean training
images per second. Beside the summary, the seeds' paired differences: each seed's networks share
their training and test worlds, so a difference that keeps its sign in every seed says more
than the means do.
"""
import statistics
from pathlib import Path

from tables._format import load, mean_std, table
from tables.segmentation import METRICS, block, comparisons, groups, metrics_cells, settings_line

SOURCES = ["models-3seeds.json"]


def parameters(count) -> str:
    """A parameter count as results.py writes it: 1.95M, 812.0k."""
    if count is None:
        return "–"
    return f"{count / 1e6:.2f}M" if count >= 100_000 else f"{count / 1e3:.1f}k"


def speed(rows: list) -> str:
    known = [r["train_images_per_s"] for r in rows if r.get("train_images_per_s") is not None]
    return mean_std(known, 1) if known else "–"


def points(a: list, b: list) -> list:
    """``b - a`` per seed, in points of mIoU (hundredths), and their mean."""
    differences = [100 * (y["metrics"]["miou"] - x["metrics"]["miou"]) for x, y in zip(a, b)]
    return [f"{d:+.1f}" for d in differences] + [f"{statistics.mean(differences):+.1f}"]


def differences(grouped: dict) -> str:
    """The paired differences per seed: PSPNet against the U-Net, tilted against level test
    panoramas, and within each model the perspective arm's rows and the panorama arm's."""
    seeds = [r["seed"] for r in next(iter(grouped.values()))]
    models = list(dict.fromkeys(key[0] for key in grouped))
    body = []
    for conv in ("std", "equi"):
        for test in ("level", "tilted"):
            body.append([f"pspnet − unet, trained on panoramas, {conv}", test]
                        + points(grouped["unet", "panorama", conv, test], grouped["pspnet", "panorama", conv, test]))
    for model in models:
        for conv in ("std", "equi"):
            body.append([f"{model}, trained on panoramas, {conv}", "tilted − level"]
                        + points(grouped[model, "panorama", conv, "level"], grouped[model, "panorama", conv, "tilted"]))
    pairs = [("converted", "pairs", "std", "pairs"), ("equi", "pairs", "std", "pairs"),
             ("std", "pairs", "std", "panorama"), ("equi", "panorama", "std", "panorama")]
    for model in models:
        for conv, train, base_conv, base_train in pairs:
            for test in ("level", "tilted"):
                body.append([f"{model}: {train} {conv} − {base_train} {base_conv}", test]
                            + points(grouped[model, base_train, base_conv, test], grouped[model, train, conv, test]))
    return table(["difference of mIoU, points", "test panoramas"] + [f"seed {s}" for s in seeds] + ["mean"], body)


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    grouped = groups(data["rows"])
    main = table(["model", "trained on", "conv", "test panoramas", "seeds", "parameters", "train img/s"]
                 + list(METRICS.values()),
                 [[model, train, conv, test, len(rows), parameters(rows[0].get("parameters")), speed(rows)]
                  + metrics_cells(rows) for (model, train, conv, test), rows in grouped.items()])
    return (block("models-settings", settings_line(data)) + block("models", main)
            + block("models-comparisons", comparisons(grouped))
            + block("models-differences", differences(grouped)))
