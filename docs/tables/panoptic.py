"""The panoptic experiment's and the diagnosis's tables (``panosis-panoptic experiment``, ``diagnose``).

The experiment's rows (``panosis_models.experiments.panoptic.row``: one network, test set and
seed) are summarised over the seeds as its table.md does: mean ± sample standard deviation,
the seam figure with the seam-crossing instances kept whole and in all, summed over the seeds,
and equi against std called noise at most two standard deviations apart. Also each network's
post-processing (chosen on its validation panoramas) and, per row, the instance heads against
the connected-components baseline. The diagnosis (``panosis_models.panoptic.diagnose``) gives
one report per combination of true and predicted inputs to the post-processing.
"""
from pathlib import Path

from panosis_models.experiments import panoptic as panoptic_experiment
from panosis_models.panoptic.quality import MIN_AREA
from tables._format import load, mean_std, number, table
from tables.segmentation import block, verdict

SOURCES = ["panoptic-3seeds.json", "panoptic-diagnosis-seed0-std.json"]
# the thing classes of both levels (panoptic.levels): the reports name classes, not which are things
THINGS = ("person", "vehicle", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
GROUPS = ("all", "things", "stuff")
QUALITIES = ("pq", "sq", "rq")


def groups(rows: list) -> dict:
    """{(conv, test): [rows, one per seed]}, in the order the rows came."""
    out = {}
    for row in rows:
        out.setdefault((row["conv"], row["test"]), []).append(row)
    return out


def values(rows: list, name: str) -> list:
    return [r["metrics"][name] for r in rows]


def quality(grouped: dict) -> str:
    """PQ, SQ and RQ per group, per pixel and area-weighted; the things of at least MIN_AREA px
    for the network and for connected components; the seam figure."""
    header = (["conv", "test", "weighting", "seeds"] + [f"{q.upper()} {g}" for g in GROUPS for q in QUALITIES]
              + [f"PQ things ≥ {MIN_AREA} px", f"connected components: PQ things ≥ {MIN_AREA} px",
                 "seam: one instance (kept/all)"])
    body = []
    for (conv, test), rows in grouped.items():
        for weighting in ("pixel", "area"):
            names = [f"{weighting}_{q}_{g}" for g in GROUPS for q in QUALITIES]
            names += [f"{weighting}_pq_things_visible", f"{weighting}_pq_things_components"]
            seam = ""
            if weighting == "pixel":
                kept, crossing = (sum(r["seam_counts"][i] for r in rows) for i in (0, 1))
                seam = f"{mean_std(values(rows, 'seam'))} ({kept}/{crossing})"
            body.append([conv, test, weighting, len(rows)] + [mean_std(values(rows, n)) for n in names] + [seam])
    return table(header, body)


def things(grouped: dict) -> str:
    """Each thing class's semantic IoU and PQ (per pixel, all its instances), and the semantic
    head's mIoU."""
    first = next(iter(grouped.values()))[0]["metrics"]
    names = [key[len("pixel_iou_"):] for key in first if key.startswith("pixel_iou_")]
    header = ["conv", "test", "seeds", *(f"{n} {kind}" for n in names for kind in ("IoU", "PQ")), "semantic mIoU"]
    body = [[conv, test, len(rows)]
            + [mean_std(values(rows, f"pixel_{kind}_{n}")) for n in names for kind in ("iou", "pq")]
            + [mean_std([r["semantic_miou"] for r in rows])] for (conv, test), rows in grouped.items()]
    return table(header, body)


def comparisons(grouped: dict, summary: list) -> str:
    """equi against std per test set (as the experiment's own table.md words it); the network
    against connected components per row."""
    lines = [panoptic_experiment.comparisons(summary)]
    for (conv, test), rows in grouped.items():
        found = verdict(values(rows, "pixel_pq_things_components"), values(rows, "pixel_pq_things_visible"))
        lines.append(f"- {conv}, {test} test panoramas, instance heads − connected components, "
                     f"PQ things ≥ {MIN_AREA} px: {found}")
    return "\n".join(lines) + "\n"


def postprocessing(grouped: dict) -> str:
    """The post-processing each network chose on its validation panoramas (one per network: the
    level rows')."""
    body = [[conv, r["seed"], r["postprocessing"]["grouping"], r["postprocessing"]["threshold"],
             r["postprocessing"]["window"]]
            for (conv, test), rows in grouped.items() if test == "level" for r in rows]
    return table(["conv", "seed", "grouping", "threshold", "window (px)"], body)


def diagnosis(data: dict) -> str:
    """PQ of the things (all, and those of at least the minimum area) and each thing class's true
    positives, false positives and misses, per combination of inputs; as ``diagnose.table``."""
    body = []
    for name, report in data["rows"].items():
        counts = ", ".join(f"{c} {v['tp']}/{v['fp']}/{v['fn']}" for c, v in report["pixel"]["classes"].items()
                           if c in THINGS)
        body.append([name, number(report["pixel"]["things"]["pq"]), number(report["visible"]["pixel"]["things"]["pq"]),
                     counts])
    minimum = next(iter(data["rows"].values()))["visible"]["min_area"]
    return table(["inputs to the post-processing", "PQ things", f"PQ things ≥ {minimum} px",
                  "TP / FP / FN per thing class"], body)


def settings_line(data: dict) -> str:
    """The experiment's machine, settings and time as its file records them (the page gives the
    command)."""
    s = data["settings"]
    height, width = s["size"]
    return (f"Recorded in the file: run on a {data['machine']}; {height}×{width} "
            f"panoramas at the {s['level']} level; U-Net widths {'-'.join(map(str, s['channels']))}"
            f"{' with BatchNorm' if s['batch_norm'] else ''}, heads {s['head_channels']} wide; {s['num_train']} "
            f"training items per network, {s['epochs']} epochs, batch {s['batch_size']}; thing pixels weighing "
            f"{s['thing_weight']:g}×; {s['num_validation']} validation and {s['num_test']} test panoramas per seed; "
            f"seeds {', '.join(map(str, data['config']['seeds']))}; {data['minutes']} minutes in all.\n")


def diagnosis_line(data: dict) -> str:
    """The diagnosis's command, machine and data as its file records them."""
    return (f"Recorded in the file: `{data['command']}` on a {data['machine']}; {data['items']} panoramas "
            f"(split `{data['split']}`).\n")


def render(figures: Path) -> str:
    experiment = load(figures, SOURCES[0])
    grouped = groups(experiment["rows"])
    diagnosed = load(figures, SOURCES[1])
    return (block("panoptic-settings", settings_line(experiment)) + block("panoptic", quality(grouped))
            + block("panoptic-things", things(grouped))
            + block("panoptic-comparisons", comparisons(grouped, experiment["summary"]))
            + block("panoptic-postprocessing", postprocessing(grouped))
            + block("panoptic-diagnosis-settings", diagnosis_line(diagnosed))
            + block("panoptic-diagnosis", diagnosis(diagnosed)))
