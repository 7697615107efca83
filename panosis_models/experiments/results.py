"""What the experiments share: the test sets (level and tilted panoramas), one evaluated row
per model, test set and seed, rows summarised over seeds (mean +- standard deviation), and the
report (results.json, table.md, iou.png). Rows are scored at the category level, which every
model has (a fine-level model's results coarsen into it)."""
import json
import statistics
from pathlib import Path

from panosis_models.data import CLASS_NAMES
from panosis_models.metrics import CATEGORY, Level
from panosis_models.plots import save_iou_chart
from panosis_models.segmentation.evaluate import evaluate, load_model
from panosis_models.sphere_metrics import BANDS, band_name

TEST_SETS = ("level", "tilted")


def _sphere(report: dict, band: str = None, name: str = "miou"):
    """An area-weighted figure of a category-level report (of one band if given); None where
    the test images are not panoramas."""
    if report["area"] is None:
        return None
    return (report["bands"][band] if band else report)["area"][name]


# the table's metrics: name -> (column title, how to read it from a category-level report)
METRICS = {
    "miou": ("mIoU", lambda r: r["pixel"]["miou"]),
    "area_miou": ("area mIoU", _sphere),
    "pixel_accuracy": ("pixel acc.", lambda r: r["pixel"]["pixel_accuracy"]),
    "area_pixel_accuracy": ("area pixel acc.", lambda r: _sphere(r, name="pixel_accuracy")),
    **{f"miou_{band_name(b)}": (f"area mIoU |lat| {band_name(b)}", lambda r, b=band_name(b): _sphere(r, b))
       for b in BANDS},
}
NOISE_STDS = 2.0  # a difference under this many standard deviations is noise


def evaluation_row(train: str, conv: str, checkpoint: Path, test_set, out: Path, device, title: str,
                   test_conv: str = None, progress: bool = True, test: str = "level", seed: int = 0) -> dict:
    """One row of a results table: the checkpoint's model (its convolutions made ``test_conv``
    if given: "equi" converts a std network) evaluated on ``test_set``, with the evaluation's
    files under ``out``; with its parameter count and training speed when the run's
    summary.json is beside the checkpoint."""
    model, cfg = load_model(checkpoint, conv=test_conv, device=device)
    run = Path(checkpoint).parent / "summary.json"
    trained = json.loads(run.read_text()) if run.is_file() else {}
    speeds = [e["train_images_per_s"] for e in trained.get("history", []) if "train_images_per_s" in e]
    row = predictor_row(cfg.model, train, conv, model, test_set, out, device, title, progress=progress, test=test,
                        seed=seed, level=cfg.label_level)
    return {**row, "checkpoint": str(checkpoint), "train_images_per_s": statistics.fmean(speeds) if speeds else None}


def predictor_row(name: str, train: str, conv: str, model, test_set, out: Path, device, title: str,
                  progress: bool = True, test: str = "level", seed: int = 0, level: Level = CATEGORY) -> dict:
    """``evaluation_row``'s row of any model that maps images to logits at ``level`` (a network, or
    a predictor that learns nothing), named ``name``."""
    result = evaluate(model, test_set, out, device=device, title=title, progress=progress, level=level)
    category = result["levels"]["category"]
    return {"model": name, "train": train, "conv": conv, "test": test, "seed": seed, "checkpoint": None,
            "parameters": sum(p.numel() for p in model.parameters()), "train_images_per_s": None,
            "items": result["items"], "metrics": {metric: read(category) for metric, (_, read) in METRICS.items()},
            "iou": {str(k): v for k, v in category["pixel"]["iou"].items()}}


def spread(values: list) -> dict:
    """{"mean", "std" (sample; None for fewer than two), "values"} of values (None ignored)."""
    known = [v for v in values if v is not None]
    return {"mean": statistics.fmean(known) if known else None,
            "std": statistics.stdev(known) if len(known) > 1 else None, "values": values}


def _key(row: dict) -> tuple:
    return row.get("model", "unet"), row["train"], row["conv"], row["test"]


def summarise(rows: list) -> list:
    """Rows of one (model, train, conv, test) over the seeds: each metric's, class IoU's and the
    training speed's mean, standard deviation (None for one seed) and values, in the order the
    rows came."""
    groups = {}
    for row in rows:
        groups.setdefault(_key(row), []).append(row)
    return [{"model": model, "train": train, "conv": conv, "test": test, "seeds": [r["seed"] for r in group],
             "parameters": group[0].get("parameters"),
             "train_images_per_s": spread([r.get("train_images_per_s") for r in group]),
             "metrics": {name: spread([r["metrics"][name] for r in group]) for name in METRICS},
             "iou": {label: spread([r["iou"][label] for r in group]) for label in group[0]["iou"]}}
            for (model, train, conv, test), group in groups.items()]


def verdict(a: dict, b: dict) -> str:
    """How ``b`` compares with ``a`` on one metric ({"mean", "std"} each): the difference, and
    "noise" when under two standard deviations (the larger of the two rows'); with one seed the
    spread is unknown."""
    if a["mean"] is None or b["mean"] is None:
        return "n/a"
    difference = b["mean"] - a["mean"]
    if a["std"] is None or b["std"] is None:
        return f"{difference:+.4f} (one seed: spread unknown)"
    if abs(difference) <= NOISE_STDS * max(a["std"], b["std"]):
        return f"{difference:+.4f} (noise)"
    return f"{difference:+.4f} ({'better' if difference > 0 else 'worse'})"


def mean_std(summary: dict, digits: int = 4) -> str:
    """A ``spread`` as "mean ± std" ("-" where unknown)."""
    if summary["mean"] is None:
        return "-"
    return f"{summary['mean']:.{digits}f}" + ("" if summary["std"] is None else f" ± {summary['std']:.{digits}f}")


def _parameters(count) -> str:
    if count is None:
        return "-"
    return f"{count / 1e6:.2f}M" if count >= 100_000 else f"{count / 1e3:.1f}k"


def table(summary_rows: list) -> str:
    header = ("| model | trained on | conv | test panoramas | seeds | parameters | train img/s | "
              + " | ".join(title for title, _ in METRICS.values()) + " |")
    lines = [header, "|" + "---|" * (7 + len(METRICS))]
    for r in summary_rows:
        cells = " | ".join(mean_std(r["metrics"][name]) for name in METRICS)
        lines.append(f"| {r['model']} | {r['train']} | {r['conv']} | {r['test']} | {len(r['seeds'])} | "
                     f"{_parameters(r['parameters'])} | {mean_std(r['train_images_per_s'], 1)} | {cells} |")
    return "\n".join(lines)


def comparisons(summary_rows: list) -> str:
    """equi (and converted) against std for each model, training and test set, on mIoU and
    area mIoU."""
    by_key = {_key(r): r for r in summary_rows}
    lines = []
    for (model, train, conv, test), row in by_key.items():
        std = by_key.get((model, train, "std", test))
        if conv != "std" and std is not None:
            found = ", ".join(f"{METRICS[m][0]} {verdict(std['metrics'][m], row['metrics'][m])}"
                              for m in ("miou", "area_miou"))
            lines.append(f"- {model} trained on {train}, tested on {test} panoramas, {conv} - std: {found}")
    return "\n".join(lines)


def iou_series(summary_rows: list) -> list:
    """``plots.save_iou_chart``'s series: each row's label (with its mIoU) and its per-class IoU
    spreads, unlabelled excluded."""
    return [(f"{row['model']}, {row['train']} -> {row['test']}, {row['conv']} "
             f"(mIoU {mean_std(row['metrics']['miou'], 3)})",
             [row["iou"][str(i)] for i in range(1, len(CLASS_NAMES))]) for row in summary_rows]


def write_report(out: Path, summary: dict) -> str:
    """results.json (with the rows summarised over seeds), table.md and iou.png of
    ``summary["rows"]`` under ``out``; returns the table and the comparisons."""
    summary_rows = summarise(summary["rows"])
    text = table(summary_rows) + "\n\n" + comparisons(summary_rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**summary, "summary": summary_rows}, indent=1,
                                                 allow_nan=False) + "\n")
    (out / "table.md").write_text(text + "\n")
    save_iou_chart(iou_series(summary_rows), out / "iou.png")
    return text
