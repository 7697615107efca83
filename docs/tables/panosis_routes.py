"""OSMIS and PanOSIS page: the one-pair routes over training pairs and seeds.

Per route (a U-Net on the OSMIS set with the pair, a U-Net on the pair alone for as many images,
and the predictors that learn nothing from the pair) the mean IoU on level and on tilted
held-out panoramas, mean ± standard deviation over every (pair, seed) run; then the per-run
differences of two routes, read with the two-standard-deviation rule (a mean difference within
two standard deviations of the per-run differences is noise); each route's IoU per class on the
level panoramas; what each run cost.
"""
from pathlib import Path

from ._format import load, number, spread, table

SOURCES = ["panosis-routes.json"]
TESTS = ("level", "tilted")


def route(model: str, train: str) -> str:
    return f"U-Net on {train}" if model == "unet" else f"{model} (learns nothing)"


def render(figures: Path) -> str:
    data = load(figures, "panosis-routes.json")
    rows = {(r["model"], r["train"], r["conv"], r["test"]): r for r in data["summary"]}
    keys = [key[:3] for key in rows if key[3] == TESTS[0]]
    header = ["route", "conv", "runs", *(f"{test} mIoU" for test in TESTS), *(f"{test} area mIoU" for test in TESTS)]
    routes = table(header, [[route(model, train), conv, rows[(model, train, conv, TESTS[0])]["runs"],
                             *(spread(rows[(model, train, conv, test)]["metrics"][metric])
                               for metric in ("miou", "area_miou") for test in TESTS)]
                            for model, train, conv in keys])
    differences = table(["b − a", "conv", "test", "per-run difference", "runs where b is higher",
                         "two-standard-deviation rule"],
                        [[f"{route(*d['b'])} − {route(*d['a'])}", d["conv"], d["test"],
                          spread(d["difference"]), f"{d['b_higher']} / {len(d['difference']['values'])}",
                          d["verdict"]] for d in data["differences"] if d["metric"] == "miou"])
    names = data["class_names"]
    labels = [label for label in data["summary"][0]["iou"] if int(label) != 0]
    classes = table(["route", "conv", *(names[int(label)] for label in labels)],
                    [[route(model, train), conv, *(spread(rows[(model, train, conv, TESTS[0])]["iou"][label])
                                                   for label in labels)] for model, train, conv in keys])
    budget = data["osmis_budget"]
    pairs = sorted({r["pair_seed"] for r in data["runs"]})
    seeds = sorted({r["seed"] for r in data["runs"]})
    minutes = [sum(r["seconds"].values()) / 60 for r in data["runs"]]
    size = data["settings"]["size"]
    took = f"{min(minutes):.0f}" + (f"–{max(minutes):.0f}" if round(max(minutes)) != round(min(minutes)) else "")
    notes = (f"\n{len(data['runs'])} runs over synthetic training pairs (worlds) {', '.join(map(str, pairs))} and "
             f"seeds {', '.join(map(str, seeds))}, {size[0]}×{size[1]}; every run tested on the same {data['test']}. "
             f"OSMIS trains {budget['iterations']} steps, {100 * budget['fraction']:.1f} % of its authors' "
             f"{budget['authors']:,}; each U-Net sees {data['images_seen']} images "
             f"({data['settings']['epochs']} epochs of the {data['settings']['generated']} generated pairs and the "
             f"training pair, or of the pair repeated as often) and keeps its last checkpoint. A run took "
             f"{took} minutes on the {data['machine']}.\n\n"
             f"Command: `{data['command']}` ({data['date']}).\n")
    return (routes + "\nPer run, b − a (mIoU):\n\n" + differences + "\nPer class, level panoramas (IoU):\n\n"
            + classes + notes)
