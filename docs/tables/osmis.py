"""OSMIS and PanOSIS page: the quick pipeline over seeds and thread counts.

Per run the generated set's shares of the training mask's three largest labels, the largest
miss in points and the pipeline's check (every miss within ``check_points``, as
``osmis.label_check``), labels per generated mask, and the U-Nets' mIoU (std / equi) trained on
the generated set and on the one pair; then mean ± standard deviation over the runs.
"""
from pathlib import Path

from ._format import load, mean_std, table

SOURCES = ["pipeline-quick-seeds.json"]


def pair(cells: dict) -> str:
    return f"{cells['std']:.3f} / {cells['equi']:.3f}"


def render(figures: Path) -> str:
    data = load(figures, "pipeline-quick-seeds.json")
    labels = list(data["training_mask_percent"])
    header = ["seed", "threads", " / ".join(labels) + " %", "largest miss (points)", "check", "labels per mask",
              "U-Net on the set, std / equi mIoU", "U-Net on the one pair, std / equi"]
    rows = [[r["seed"], r["threads"], " / ".join(str(r["percent"][label]) for label in labels),
             f"{r['largest_miss']:.1f}", "✓" if r["check"] else "✗", f"{r['labels_per_mask']:.2f}",
             pair(r["osmis_set_miou"]), pair(r["one_pair_miou"])] for r in data["rows"]]
    runs = data["rows"]

    def spread(key, conv):
        return mean_std(r[key][conv] for r in runs)
    rows.append([f"mean ± std of the {len(runs)} runs", "", "", "", "", "",
                 f"{spread('osmis_set_miou', 'std')} / {spread('osmis_set_miou', 'equi')}",
                 f"{spread('one_pair_miou', 'std')} / {spread('one_pair_miou', 'equi')}"])
    mask = " / ".join(str(v) for v in data["training_mask_percent"].values())
    return table(header, rows) + f"\nTraining mask: {' / '.join(labels)} {mask} %; the check allows {data['check_points']} points.\n"
