"""The experiment that shows what EquiConv is for: ``python -m panosis_models.experiment``.

1. perspective -> panorama: a U-Net trained on pinhole views of synthetic streets is tested on
   panoramas of held-out worlds, once as trained (standard convolutions) and once with the same
   weights in EquiConv2d (``equiconv.convert``), whose kernels follow the sphere.
2. panorama -> panorama: a standard and an equirectangular U-Net trained and tested on panoramas.

The perspective views are rendered with the panoramas' angular resolution at their centre, so
only the projection differs. ``--preset demo`` is sized for two CPU cores (what ``make demo``
runs); ``--preset full`` for a GPU. Prints a table and writes results.json, table.md and PNGs.
"""
import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from panosis_models.data import CLASS_NAMES, SyntheticPanoramas, prerender  # noqa: E402
from panosis_models.evaluate import evaluate, load_model  # noqa: E402
from panosis_models.train import BEST, TrainConfig, make_dataset, train  # noqa: E402

PRESETS = {
    # two CPU cores, about ten minutes: a narrow U-Net with BatchNorm, few epochs
    "demo": dict(size=(128, 256), view_side=96, channels=(16, 32, 64, 128, 256), batch_norm=True,
                 num_train=240, num_test=32, epochs=12, batch_size=8),
    # a GPU: the PanOSIS U-Net at 256x512
    "full": dict(size=(256, 512), view_side=192, channels=(32, 64, 128, 256, 512), batch_norm=False,
                 num_train=2000, num_test=200, epochs=40, batch_size=8),
}
TEST_SEED = 10_000  # worlds of the test panoramas: never used for training


def matched_fov(view_side: int, pano_width: int) -> float:
    """Field of view (degrees) of a view_side-pixel pinhole image whose central pixel spans the
    same angle as a pixel of a pano_width-pixel panorama."""
    focal = 1.0 / math.tan(math.radians(360.0 / pano_width))
    return math.degrees(2 * math.atan(view_side / 2 / focal))


def runs(preset: dict, out: Path, seed: int, device: str, cache_dir) -> list:
    """(name, training config, conv at test time) of each row of the table."""
    common = dict(channels=preset["channels"], batch_norm=preset["batch_norm"], epochs=preset["epochs"],
                  batch_size=preset["batch_size"], seed=seed, device=device, cache_dir=cache_dir,
                  num=preset["num_train"], data_seed=seed, split=(0.9, 0.1, 0.0))
    side = preset["view_side"]
    perspective = TrainConfig(out=str(out / "perspective-std"), view="perspective", size=(side, side), conv="std",
                              fov=matched_fov(side, preset["size"][1]), **common)
    pano_std = TrainConfig(out=str(out / "panorama-std"), view="panorama", size=preset["size"], conv="std", **common)
    pano_equi = dataclasses.replace(pano_std, out=str(out / "panorama-equi"), conv="equi")
    return [("perspective", perspective, "std"), ("perspective", perspective, "equi"),
            ("panorama", pano_std, "std"), ("panorama", pano_equi, "equi")]


def save_iou_chart(rows: list, path: Path) -> None:
    labels = CLASS_NAMES[1:]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(rows)
    for k, row in enumerate(rows):
        values = [row["iou"][str(i)] or 0.0 for i in range(1, len(CLASS_NAMES))]
        ax.bar([i + k * width for i in range(len(labels))], values, width,
               label=f"{row['train']} -> panorama, {row['conv']} (mIoU {row['miou']:.3f})")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))], labels)
    ax.set_ylabel("IoU on held-out panoramas")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def table(rows: list) -> str:
    header = "| trained on | 3x3 conv at test | mIoU (1-7) | pixel acc. | " + " | ".join(CLASS_NAMES[1:]) + " |"
    lines = [header, "|" + "---|" * (4 + len(CLASS_NAMES) - 1)]
    for r in rows:
        ious = " | ".join("-" if r["iou"][str(i)] is None else f"{r['iou'][str(i)]:.3f}"
                          for i in range(1, len(CLASS_NAMES)))
        lines.append(f"| {r['train']} | {r['conv']} | {r['miou']:.4f} | {r['pixel_accuracy']:.4f} | {ious} |")
    return "\n".join(lines)


def evaluation_row(train: str, conv: str, checkpoint: Path, test_set, out: Path, device, title: str,
             convert: bool = False, progress: bool = True) -> dict:
    """One row of a results table: the checkpoint's model (its 3x3 convolutions made ``conv``
    if ``convert``) evaluated on ``test_set``, with the evaluation's files under ``out``."""
    model, _ = load_model(checkpoint, conv=conv if convert else None, device=device)
    result = evaluate(model, test_set, out, device=device, title=title, progress=progress)
    return {"train": train, "conv": conv, "checkpoint": str(checkpoint),
            **{k: result[k] for k in ("miou", "pixel_accuracy", "items")},
            "iou": {str(k): v for k, v in result["iou"].items()}}


def write_report(out: Path, summary: dict) -> str:
    """results.json, table.md and iou.png of ``summary["rows"]`` under ``out``; returns the table."""
    text = table(summary["rows"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "table.md").write_text(text + "\n")
    save_iou_chart(summary["rows"], out / "iou.png")
    return text


def main(argv=None) -> list:
    p = argparse.ArgumentParser(prog="panosis-experiment", description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    p.add_argument("--out", type=Path, default=Path("runs/experiment"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="override the preset")
    p.add_argument("--num-train", type=int, default=None, help="override the preset")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--resume", action="store_true", help="continue interrupted trainings")
    args = p.parse_args(argv)
    preset = dict(PRESETS[args.preset])
    for key in ("epochs", "num_train"):
        if getattr(args, key) is not None:
            preset[key] = getattr(args, key)
    started = time.perf_counter()
    test_set = SyntheticPanoramas(preset["num_test"], *preset["size"], seed=TEST_SEED + args.seed,
                                  cache_dir=args.cache_dir)
    prerender(test_set)
    rows, trained = [], set()
    for name, cfg, conv in runs(preset, args.out, args.seed, args.device, args.cache_dir):
        if cfg.out not in trained:
            prerender(make_dataset(cfg))
            print(f"training {cfg.out} ({cfg.view}, {cfg.conv} conv, {cfg.num} items, {cfg.epochs} epochs)")
            train(dataclasses.replace(cfg, resume=args.resume))
            trained.add(cfg.out)
        rows.append(evaluation_row(name, conv, Path(cfg.out) / BEST, test_set, Path(cfg.out) / f"test-{conv}",
                             args.device, f"{name} -> panorama, {conv} conv", convert=True))
    summary = {"preset": args.preset, "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in preset.items()},
               "seed": args.seed, "device": args.device, "test_panoramas": len(test_set),
               "minutes": round((time.perf_counter() - started) / 60, 2), "rows": rows}
    text = write_report(args.out, summary)
    print(f"\nTest: {len(test_set)} panoramas of held-out worlds, {preset['size'][0]}x{preset['size'][1]}")
    print(text)
    print(f"written: {args.out} ({summary['minutes']} min)")
    return rows


if __name__ == "__main__":
    main()
