"""The latitude study's tables (``panosis-experiment --study latitude``).

Reads ``panosis_models.experiments.latitude``'s rows (network, test band of |latitude|, seed,
accuracy): the accuracy per network and band over the seeds (mean ± sample standard deviation,
as its table.md), and each pair of networks compared per band, the difference also in units of
the larger standard deviation (at most 2: noise, the experiments' rule).
"""
import statistics
from pathlib import Path

from tables._format import load, mean_std, table
from panosis_models.experiments.results import NOISE_STDS
from tables.segmentation import block

SOURCES = ["latitude.json"]
TRAINED_UP_TO = 15  # latitude.TRAIN_LATITUDES: a constant of the experiment, not in its file
PAIRS = (("std", "equi"), ("std", "std converted"), ("equi", "std converted"))


def accuracies(rows: list) -> dict:
    """{network: {band "lo-hi": [accuracy per seed]}}, in the order the rows came."""
    out = {}
    for row in rows:
        lo, hi = row["band"]
        out.setdefault(row["network"], {}).setdefault(f"{lo}-{hi}", []).append(row["accuracy"])
    return out


def compared(a: list, b: list) -> str:
    """``b`` against ``a``: the difference of mean accuracy, how many of the larger standard
    deviation it is, and whether that is noise."""
    difference = statistics.mean(b) - statistics.mean(a)
    if min(len(a), len(b)) < 2:
        return f"{difference:+.3f} (one seed: spread unknown)"
    spread = max(statistics.stdev(a), statistics.stdev(b))
    sds = abs(difference) / spread if spread else (float("inf") if difference else 0.0)
    return f"{difference:+.3f} ({sds:.1f} sd, {'noise' if sds <= NOISE_STDS else 'not noise'})"


def settings_line(data: dict) -> str:
    """The run's settings and time as its file records them, one sentence."""
    s = data["settings"]
    height, width = s["size"]
    return (f"Settings recorded in the file: {height}×{width} panoramas, convolution widths "
            f"{'-'.join(map(str, s['channels']))}; {s['num_train']} training glyphs, {s['num_test']} test glyphs per "
            f"band; {s['epochs']} epochs, batch {s['batch_size']}; "
            f"seeds {', '.join(map(str, data['config']['seeds']))}; "
            f"{data['minutes']} minutes in all.\n")


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    found = accuracies(data["rows"])
    bands = list(next(iter(found.values())))
    main = table([f"network (trained at abs. latitude ≤ {TRAINED_UP_TO}°)", "seeds"]
                 + [f"accuracy, abs. latitude {band}°" for band in bands],
                 [[name, len(per_band[bands[0]])] + [mean_std(per_band[band]) for band in bands]
                  for name, per_band in found.items()])
    pairs = table(["networks compared", *(f"abs. latitude {band}°" for band in bands)],
                  [[f"{b} − {a}"] + [compared(found[a][band], found[b][band]) for band in bands] for a, b in PAIRS])
    return block("latitude-settings", settings_line(data)) + block("latitude", main) + block("latitude-pairs", pairs)
