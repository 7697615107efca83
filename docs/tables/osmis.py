"""OSMIS and PanOSIS page: the quick pipeline's generated sets over seeds and thread counts.

Per run the generated masks' shares of the training mask's three largest labels, the largest
miss in points, the pipeline's check (every miss within ``check_points``, as
``osmis.label_check``) and the labels per generated mask. The file's U-Net columns come from an
earlier training of the routes (its ``note``) and are not shown.
"""
from pathlib import Path

from ._format import load, table

SOURCES = ["pipeline-quick-seeds.json"]


def render(figures: Path) -> str:
    data = load(figures, "pipeline-quick-seeds.json")
    labels = list(data["training_mask_percent"])
    header = ["seed", "threads", " / ".join(labels) + " %", "largest miss (points)", "check", "labels per mask"]
    rows = [[r["seed"], r["threads"], " / ".join(str(r["percent"][label]) for label in labels),
             f"{r['largest_miss']:.1f}", "✓" if r["check"] else "✗", f"{r['labels_per_mask']:.2f}"]
            for r in data["rows"]]
    rows.append(["training mask", "", " / ".join(str(v) for v in data["training_mask_percent"].values()),
                 f"≤ {data['check_points']} allowed", "", ""])
    return table(header, rows)
