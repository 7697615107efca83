"""What the experiments share: the held-out test panoramas, one evaluated row per model, and the
report (results.json, table.md, iou.png)."""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from panosis_models.data import CLASS_NAMES, SyntheticPanoramas  # noqa: E402
from panosis_models.segmentation.config import level_of  # noqa: E402
from panosis_models.segmentation.evaluate import evaluate, load_model  # noqa: E402

TEST_SEED = 10_000  # worlds of the test panoramas: never used for training


def held_out_panoramas(num: int, size, seed: int, cache_dir=None) -> SyntheticPanoramas:
    """``num`` synthetic panoramas of worlds no training run sees (rendered when first read)."""
    return SyntheticPanoramas(num, *size, seed=TEST_SEED + seed, cache_dir=cache_dir)


def save_iou_chart(rows: list, path: Path) -> None:
    labels = CLASS_NAMES[1:]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(rows)
    for k, row in enumerate(rows):
        values = [row["iou"][str(i)] or 0.0 for i in range(1, len(CLASS_NAMES))]
        ax.bar([i + k * width for i in range(len(labels))], values, width,
               label=f"{row['train']} -> panorama, {row['conv']} (mIoU {_number(row['miou'], 3)})")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))], labels)
    ax.set_ylabel("IoU on held-out panoramas")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _number(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list) -> str:
    header = "| trained on | 3x3 conv at test | mIoU (1-7) | pixel acc. | " + " | ".join(CLASS_NAMES[1:]) + " |"
    lines = [header, "|" + "---|" * (4 + len(CLASS_NAMES) - 1)]
    for r in rows:
        ious = " | ".join(_number(r["iou"][str(i)], 3) for i in range(1, len(CLASS_NAMES)))
        lines.append(f"| {r['train']} | {r['conv']} | {_number(r['miou'], 4)} | {_number(r['pixel_accuracy'], 4)} "
                     f"| {ious} |")
    return "\n".join(lines)


def evaluation_row(train: str, conv: str, checkpoint: Path, test_set, out: Path, device, title: str,
                   convert: bool = False, progress: bool = True) -> dict:
    """One row of a results table: the checkpoint's model (its 3x3 convolutions made ``conv``
    if ``convert``) evaluated on ``test_set``, with the evaluation's files under ``out``."""
    model, cfg = load_model(checkpoint, conv=conv if convert else None, device=device)
    result = evaluate(model, test_set, out, device=device, title=title, progress=progress, level=level_of(cfg))
    return {"train": train, "conv": conv, "checkpoint": str(checkpoint),
            **{k: result[k] for k in ("miou", "pixel_accuracy", "items")},
            "iou": {str(k): v for k, v in result["iou"].items()}}


def write_report(out: Path, summary: dict) -> str:
    """results.json, table.md and iou.png of ``summary["rows"]`` under ``out``; returns the table."""
    text = table(summary["rows"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    (out / "table.md").write_text(text + "\n")
    save_iou_chart(summary["rows"], out / "iou.png")
    return text
