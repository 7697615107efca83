"""The projection experiment's tables (``panosis-experiment``, three seeds of the U-Net).

Reads the rows that ``panosis_models.experiments.results.evaluation_row`` writes, one per network,
test set and seed (category level), and summarises them over the seeds as ``write_report`` does:
mean ± sample standard deviation, and a difference called noise when it is at most two of the
larger standard deviation. A perspective row whose network was trained with standard convolutions
but tested with ``EquiConv2d`` is the converted network, whatever its ``conv`` field says (the
file names it ``equi``): the row's checkpoint tells. Each table is wrapped in ``<!-- NAME -->``
markers so that a page can include it alone. Also the helpers of ``image_pairs``, whose file has
the same rows.
"""
import statistics
from pathlib import Path

from panosis_models.experiments import results
from tables._format import load, mean_std, number, table

SOURCES = ["projection-3seeds.json"]

# metric key in a row -> column title, as results.METRICS names them
METRICS = {"miou": "mIoU", "area_miou": "area mIoU", "pixel_accuracy": "pixel acc.",
           "area_pixel_accuracy": "area pixel acc.", "miou_0-30": "area mIoU, abs. latitude 0-30°",
           "miou_30-60": "area mIoU, abs. latitude 30-60°", "miou_60-90": "area mIoU, abs. latitude 60-90°"}
# the category level's labels 1-7 (panosis_models.data.palette.CLASS_NAMES, unlabelled left out)
CATEGORIES = {"1": "flat", "2": "construction", "3": "object", "4": "nature", "5": "sky", "6": "person",
              "7": "vehicle"}


def block(name: str, text: str) -> str:
    """``text`` between the markers a page's include cuts at."""
    return f"<!-- {name} -->\n{text}<!-- /{name} -->\n\n"


def conv_of(row: dict) -> str:
    """The row's convolutions at test: ``converted`` for a std network tested as equi."""
    if row["conv"] == "equi" and Path(row.get("checkpoint") or "").parent.name.endswith("-std"):
        return "converted"
    return row["conv"]


def groups(rows: list) -> dict:
    """{(model, trained on, conv, test): [rows, one per seed]}, in the order the rows came."""
    out = {}
    for row in rows:
        out.setdefault((row.get("model", "unet"), row["train"], conv_of(row), row["test"]), []).append(row)
    return out


def verdict(a: list, b: list) -> str:
    """``b`` against ``a`` (values over the seeds), read by the experiments' own rule
    (``experiments.results.verdict``: noise within two of the larger standard deviation)."""
    def spread(values):
        return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else None}
    return results.verdict(spread(a), spread(b))


def comparisons(grouped: dict) -> str:
    """Each non-std row against the std row of its model, training and test set (mIoU, area mIoU)."""
    lines = []
    for (model, train, conv, test), rows in grouped.items():
        std = grouped.get((model, train, "std", test))
        if conv == "std" or std is None:
            continue
        found = ", ".join(f"{METRICS[m]} {verdict([r['metrics'][m] for r in std], [r['metrics'][m] for r in rows])}"
                          for m in ("miou", "area_miou"))
        lines.append(f"- {model}, trained on {train}, tested on {test} panoramas, {conv} − std: {found}")
    return "\n".join(lines) + "\n"


def metrics_cells(rows: list, digits: int = 4) -> list:
    return [mean_std([r["metrics"][m] for r in rows], digits) for m in METRICS]


def cells(key: tuple, with_model: bool) -> list:
    """The row's first cells: (model,) trained on, conv, test set."""
    return list(key if with_model else key[1:])


def per_seed(grouped: dict, key_columns: list) -> str:
    """mIoU of every row in each seed."""
    seeds = [r["seed"] for r in next(iter(grouped.values()))]
    with_model = key_columns[0] == "model"
    return table(key_columns + [f"seed {s}" for s in seeds],
                 [cells(key, with_model) + [number(r["metrics"]["miou"]) for r in rows]
                  for key, rows in grouped.items()])


def classes(grouped: dict, key_columns: list) -> str:
    """Each category's IoU (per pixel), mean ± standard deviation over the seeds."""
    with_model = key_columns[0] == "model"
    return table(key_columns + list(CATEGORIES.values()),
                 [cells(key, with_model) + [mean_std([r["iou"][label] for r in rows], 2) for label in CATEGORIES]
                  for key, rows in grouped.items()])


def settings_line(data: dict) -> str:
    """The run's settings and time as its file records them, one sentence."""
    s, config = data["settings"], data["config"]
    height, width = s["size"]
    pspnet = f", PSPNet preset `{s['pspnet']}`" if "pspnet" in config.get("models", ()) else ""
    tests = " and ".join(f"{n} {name}" for name, n in data["test_panoramas"].items())
    return (f"Settings recorded in the file: {height}×{width} panoramas, U-Net widths "
            f"{'-'.join(map(str, s['channels']))}{' with BatchNorm' if s['batch_norm'] else ''}{pspnet}; "
            f"{s['num_train']} training items per network, {s['epochs']} epochs, batch {s['batch_size']}; "
            f"perspective views {s['view_side']}×{s['view_side']}; per seed {tests} test panoramas; "
            f"{config['labels']} level; seeds {', '.join(map(str, config['seeds']))}; "
            f"{data['minutes']} minutes" + (" (the run continued an interrupted one with `--resume`: the time "
                                                 "of its last part)" if config.get("resume") else " in all") + ".\n")


def render(figures: Path) -> str:
    data = load(figures, SOURCES[0])
    grouped = groups(data["rows"])
    keys = ["trained on", "3x3 conv at test", "test panoramas"]
    main = table(keys + ["seeds"] + list(METRICS.values()),
                 [[train, conv, test, len(rows)] + metrics_cells(rows)
                  for (_, train, conv, test), rows in grouped.items()])
    return (block("projection-settings", settings_line(data)) + block("projection", main)
            + block("projection-comparisons", comparisons(grouped))
            + block("projection-seeds", per_seed(grouped, keys)) + block("projection-classes", classes(grouped, keys)))
