"""One-shot segmentation page: the episode methods (prototype, OSLSM) against the trivial
baselines on fold 0 over three seeds (fold 0 of the protocol's summary, ``oneshot_folds``), the
ablations, the trivial baselines on every fold, the learned-generator OSLSM on every fold, and
the comparison with the U-Net on the pair and the PanOSIS route.

The figures files hold the scores that ``panosis-oneshot-evaluate`` writes to metrics.json
(``oneshot.evaluate``: per variant ``1-shot``, ``5-shot-or``, ``5-shot-mean``, each ``pixel`` and
``area``-weighted) and, for the comparison, the results.json of ``panosis-oneshot-compare``
(``experiments.oneshot``). The page includes each table between its ``<!-- begin NAME -->`` and
``<!-- end NAME -->`` markers.
"""
from pathlib import Path

from panosis_models.data.cityscapes import FINE_NAMES

from ._format import load, mean_std, number, table, yes_no
from .oneshot_folds import PROTOCOL, fold_date

SOURCES = [PROTOCOL, "oneshot-fold0-ablations.json", "oneshot-trivial-baselines.json",
           "oslsm-fold0-episodes.json", "oslsm-folds123-std.json",
           "oneshot-quick-fold0.json"]

VARIANTS = {"1-shot": "1", "5-shot-or": "5, OR", "5-shot-mean": "5, mean logits"}
METHODS = {"prototype": "prototype", "oslsm": "oslsm"}
ABLATIONS = {"no alignment": "`--align 0`, 20 epochs",
             "no cues": "`--no-cues --align 0`, 20 epochs",
             "10 epochs": "without cues or alignment, 10 epochs",
             "no latitude, 10 epochs": "without cues or alignment, `--no-latitude`, 10 epochs",
             "novel background, 10 epochs": "without cues or alignment, `--novel background`, 10 epochs"}


def class_names(ids) -> list:
    return [FINE_NAMES[int(i)] for i in ids]


def section(name: str, text: str) -> str:
    return f"<!-- begin {name} -->\n\n{text}\n<!-- end {name} -->\n\n"


def fold0_seeds(data: dict) -> str:
    """Mean over the seeds per method and variant of one fold's summary
    (``experiments.oneshot_protocol``), beside the trivial baselines' rows (a k-shot row left out
    where it equals the 1-shot one, as for nothing and all foreground)."""
    ids = list(next(iter(data["methods"].values()))["1-shot"]["class_iou"])
    header = ["method", "shots", *(f"IoU {c}" for c in class_names(ids)), "mean IoU", "area mean IoU",
              "− best trivial (same shots)", "> 2 std"]
    rows = []
    for method, label in METHODS.items():
        for variant, shots in VARIANTS.items():
            s = data["methods"][method][variant]
            diff = s["minus_best_trivial"]["per_seed"]
            rows.append([label, shots, *(number(s["class_iou"][i]["mean"]) for i in ids),
                         mean_std(s["pixel_miou"]["per_seed"]), mean_std(s["area_miou"]["per_seed"]),
                         mean_std(diff), yes_no(s["above_2std"])])
    for name, variants in data["baselines"].items():
        for variant, shots in VARIANTS.items():
            s = variants[variant]
            if variant != "1-shot" and s == variants["1-shot"]:
                continue
            rows.append([f"trivial: {name}", shots, *(number(s["pixel"]["iou"][i]) for i in ids),
                         number(s["pixel"]["miou"]), number(s["area"]["miou"]), "", ""])
    return table(header, rows)


def ablations(defaults: dict, data: dict) -> str:
    """Mean ± std of the per-pixel mean IoU per variant of the training, the defaults first."""
    columns = [("prototype", "1-shot"), ("prototype", "5-shot-mean"), ("oslsm", "1-shot"), ("oslsm", "5-shot-mean")]
    header = ["variant", "seeds", "runs of", "prototype 1-shot", "prototype 5-shot, mean logits", "OSLSM 1-shot",
              "OSLSM 5-shot, mean logits"]
    entries = [("the defaults, 20 epochs (above)", defaults)]
    entries += [(ABLATIONS.get(key, key), value) for key, value in data.items() if isinstance(value, dict)]
    rows = []
    for label, entry in entries:
        cells = []
        for method, variant in columns:
            s = entry["methods"].get(method, {}).get(variant)
            cells.append(mean_std(s["pixel_miou"]["per_seed"]) if s else "–")
        rows.append([label, ", ".join(map(str, entry["seeds"])), entry["date"], *cells])
    return table(header, rows)


def trivial_folds(data: dict) -> str:
    """Per fold the per-pixel mean IoU of every trivial baseline (k-shot where it differs)."""
    header = ["fold", "classes with 5-shot episodes", "nothing", "all foreground", "mask pasted (1 / 5 OR)",
              "colour prototype", "colour in support rows (1 / 5 OR / 5 mean)"]
    rows = []
    for fold, entry in data["folds"].items():
        b = entry["baselines"]

        def miou(name, *variants):
            return " / ".join(number(b[name][v]["pixel"]["miou"]) for v in variants)
        rows.append([fold, ", ".join(class_names(entry["classes"])), miou("nothing", "1-shot"),
                     miou("all foreground", "1-shot"), miou("support mask pasted", "1-shot", "5-shot-or"),
                     miou("colour prototype", "1-shot"),
                     miou("colour prototype in support rows", "1-shot", "5-shot-or", "5-shot-mean")])
    return table(header, rows)


def oslsm_fold0(data: dict) -> str:
    """Novel-class scores of the learned-generator OSLSM, std and equi."""
    ids = [str(c) for c in next(iter(data["novel"].values()))["classes"]]
    header = ["conv", "shots", *(f"IoU {FINE_NAMES[int(i)]}" for i in ids), "mean IoU", "area mean IoU", "FB-IoU",
              "area FB-IoU"]
    rows = []
    for conv, entry in data["novel"].items():
        for variant, shots in VARIANTS.items():
            s = entry["scores"][variant]
            rows.append([conv, shots, *(number(s["pixel"]["iou"][i]) for i in ids), number(s["pixel"]["miou"]),
                         number(s["area"]["miou"]), number(s["pixel"]["fb_iou"]), number(s["area"]["fb_iou"])])
    return table(header, rows)


def oslsm_folds(fold0: dict, data: dict) -> str:
    """Per-pixel mean IoU of the learned-generator OSLSM (std) on every fold."""
    header = ["fold", "novel classes with episodes", "1-shot mean IoU", "5-shot OR", "5-shot mean logits"]
    entries = {"0": fold0["novel"]["std"], **{fold: entry["novel"] for fold, entry in data["folds"].items()}}
    rows = [[fold, ", ".join(class_names(entry["classes"])),
             *(number(entry["scores"][v]["pixel"]["miou"]) for v in VARIANTS)] for fold, entry in entries.items()]
    return table(header, rows)


def comparison(data: dict) -> str:
    """The rows of ``panosis-oneshot-compare``'s results.json, columns as its table.md: the
    classes that had support pairs, per-pixel IoU, mean IoU (per pixel and area-weighted), FB-IoU,
    seconds per support pair."""
    ids = [str(c) for c in data["novel_classes"] if any(p["class"] == c for p in data["support_pairs"])]
    header = ["method", "conv", "pairs scored", "support pairs", "episodes",
              *(f"IoU {FINE_NAMES[int(i)]}" for i in ids), "mean IoU", "area mean IoU", "FB-IoU", "s / pair"]
    rows = []
    for row in data["rows"]:
        iou = {str(k): v for k, v in row["pixel"]["iou"].items()}
        rows.append([row["method"].replace("->", "→"), row["conv"], row["pairs"], row["support_pairs"],
                     row["episodes"],
                     *(number(iou.get(i)) for i in ids), number(row["pixel"]["miou"]), number(row["area"]["miou"]),
                     number(row["pixel"]["fb_iou"]), f"{row['seconds_per_pair']:.2f}"])
    return table(header, rows)


def render(figures: Path) -> str:
    protocol = load(figures, PROTOCOL)
    fold0 = {**protocol["folds"]["0"], "seeds": protocol["seeds"], "date": fold_date(protocol, "0")}
    oslsm = load(figures, "oslsm-fold0-episodes.json")
    return (section("fold0-seeds", fold0_seeds(fold0))
            + section("fold0-ablations", ablations(fold0, load(figures, "oneshot-fold0-ablations.json")))
            + section("trivial-folds", trivial_folds(load(figures, "oneshot-trivial-baselines.json")))
            + section("oslsm-fold0", oslsm_fold0(oslsm))
            + section("oslsm-folds", oslsm_folds(oslsm, load(figures, "oslsm-folds123-std.json")))
            + section("comparison", comparison(load(figures, "oneshot-quick-fold0.json"))))
