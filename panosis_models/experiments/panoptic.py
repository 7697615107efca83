"""Panoptic segmentation of panoramas, standard against spherical convolutions.

Per seed, a Panoptic-DeepLab-style U-Net with standard and one with EquiConv2d 3x3 convolutions
train on the same synthetic street panoramas and are tested on panoramas of held-out worlds, as
rendered ("level") and turned about the vertical axis so that the largest thing of each lies
across the +-180 degree seam ("seam"). Reported: PQ, SQ and RQ over all classes, things and
stuff, per pixel and area-weighted, and the seam figure (of the true instances crossing the
seam, the share that comes out as one matched instance); with several seeds, mean +- standard
deviation, a difference under two standard deviations being noise. ``demo`` is sized for two
CPU cores (64x128, the categories: things person and vehicle), ``full`` for a GPU (256x512, the
19 fine classes). Writes results.json, table.md and each run's
evaluation (metrics.json, panoptic.png). Each network's post-processing is chosen on validation
panoramas of worlds of their own (``panoptic.tune``), never on the test panoramas, and recorded
in its rows."""
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from panosis_models.engine.config import BEST, preset_settings
from panosis_models.data import Transformed, prerender
from panosis_models.data.datasets import held_out_panoramas, validation_panoramas
from panosis_models.data.seam import roll_to_seam
from panosis_models.engine.outputs import run_folder
from panosis_models.experiments.projection import ExperimentConfig
from panosis_models.experiments.results import mean_std, spread, verdict
from panosis_models.panoptic.config import PanopticConfig
from panosis_models.panoptic.levels import level_named
from panosis_models.panoptic.quality import MIN_AREA
from panosis_models.data.source import make_dataset
from panosis_models.panoptic.evaluate import evaluate, load_model
from panosis_models.panoptic.train import train
from panosis_models.panoptic.tune import choose

PRESETS = {
    # two CPU cores, two minutes a network: a narrow U-Net with BatchNorm at 64x128, learning the
    # categories (at 64x128 a fine-level network labels next to no pixel as a thing)
    "demo": dict(size=(64, 128), level="category", channels=(16, 32, 64, 128), batch_norm=True, head_channels=16,
                 num_train=96, num_validation=24, num_test=24, epochs=25, batch_size=8, thing_weight=5.0),
    # a GPU: the PanOSIS U-Net at 256x512, the 19 Cityscapes classes
    "full": dict(size=(256, 512), level="fine", channels=(32, 64, 128, 256, 512), batch_norm=True, head_channels=32,
                 num_train=2000, num_validation=100, num_test=200, epochs=40, batch_size=8, thing_weight=5.0),
}
CONVS = ("std", "equi")
TESTS = ("level", "seam")
WEIGHTINGS = ("pixel", "area")
GROUPS = ("all", "things", "stuff")
QUALITIES = ("pq", "sq", "rq")
METRICS = tuple(f"{q}_{g}" for g in GROUPS for q in QUALITIES)


@dataclass
class PanopticExperimentConfig(ExperimentConfig):
    """The projection experiment's settings (a preset, its overrides, the seeds), with this
    experiment's presets; its networks learn the fine classes. Saved in results.json."""
    out: str = "runs/panoptic-experiment"
    labels: str = "fine"             # the data's labels; the networks learn ``level``
    level: str = None                # None: the preset's

    def settings(self) -> dict:
        return preset_settings(PRESETS, self, names=("epochs", "num_train", "level"))


def test_sets(settings: dict, seed: int, cache_dir, progress: bool = False) -> dict:
    """The held-out panoramas of a seed (rendered now), as rendered and turned so that a thing
    crosses the seam, at the preset's level."""
    rendered = held_out_panoramas(settings["num_test"], settings["size"], seed, cache_dir, labels="fine",
                                  instances=True)
    prerender(rendered, progress=progress)
    level = Transformed(rendered, level_named(settings["level"]).item)
    return {"level": level, "seam": Transformed(level, roll_to_seam)}


def validation_set(settings: dict, seed: int, cache_dir, progress: bool = False) -> Transformed:
    """The panoramas that choose a seed's post-processing: worlds of their own (neither the
    training nor the test worlds), at the preset's level."""
    panoramas = validation_panoramas(settings["num_validation"], settings["size"], seed, cache_dir, labels="fine",
                                     instances=True)
    prerender(panoramas, progress=progress)
    return Transformed(panoramas, level_named(settings["level"]).item)


def row(conv: str, test: str, seed: int, result: dict, level) -> dict:
    """One model on one test set: every (weighting, metric) figure, each thing class's semantic
    IoU and PQ, and the seam figure."""
    panoptic = result["panoptic"]
    figures = {f"{w}_{q}_{g}": (panoptic[w][g][q] if panoptic[w] else None)
               for w in WEIGHTINGS for g in GROUPS for q in QUALITIES}
    visible = {f"{w}_pq_things_visible": (panoptic["visible"][w]["things"]["pq"] if panoptic["visible"][w] else None)
               for w in WEIGHTINGS}
    baseline = {f"{w}_pq_things_components": (result["components"]["visible"][w]["things"]["pq"]
                                              if result["components"]["visible"][w] else None) for w in WEIGHTINGS}
    things = {f"{w}_{kind}_{level.names[label]}": value for w in WEIGHTINGS for label in level.things
              for kind, value in (("iou", result["semantic"][w]["iou"][label]),
                                  ("pq", (panoptic[w]["classes"].get(level.names[label]) or {}).get("pq")
                                   if panoptic[w] else None))}
    seam = panoptic["seam"]
    return {"conv": conv, "test": test, "seed": seed,
            "metrics": {**figures, **visible, **baseline, **things, "seam": seam["share"]},
            "seam_counts": [seam["one"], seam["instances"]],
            "semantic_miou": result["semantic"]["pixel"]["miou"], "items": result["items"]}


def summarise(rows: list) -> list:
    groups = {}
    for r in rows:
        groups.setdefault((r["conv"], r["test"]), []).append(r)
    return [{"conv": conv, "test": test, "seeds": [r["seed"] for r in group],
             "metrics": {name: spread([r["metrics"][name] for r in group]) for name in group[0]["metrics"]},
             "semantic_miou": spread([r["semantic_miou"] for r in group]),
             "seam_counts": [sum(r["seam_counts"][i] for r in group) for i in (0, 1)]}
            for (conv, test), group in groups.items()]


def table(summary_rows: list) -> str:
    header = ("| conv | test | weighting | seeds | " + " | ".join(f"{q.upper()} {g}" for g in GROUPS for q in QUALITIES)
              + f" | PQ things >= {MIN_AREA} px | connected components: PQ things >= {MIN_AREA} px | seam: one instance |")
    lines = [header, "|" + "---|" * (7 + len(METRICS))]
    for r in summary_rows:
        for w in WEIGHTINGS:
            cells = " | ".join(mean_std(r["metrics"][f"{w}_{m}"], 3)
                               for m in (*METRICS, "pq_things_visible", "pq_things_components"))
            one, total = r["seam_counts"]
            seam = f"{mean_std(r['metrics']['seam'], 3)} ({one}/{total})" if w == "pixel" else ""
            lines.append(f"| {r['conv']} | {r['test']} | {w} | {len(r['seeds'])} | {cells} | {seam} |")
    return "\n".join(lines)


def thing_table(summary_rows: list) -> str:
    """Each thing class's semantic IoU and PQ (all its instances), per pixel."""
    names = [key[len("pixel_iou_"):] for key in summary_rows[0]["metrics"] if key.startswith("pixel_iou_")]
    lines = ["| conv | test | seeds | " + " | ".join(f"{n} IoU | {n} PQ" for n in names) + " |",
             "|" + "---|" * (3 + 2 * len(names))]
    for r in summary_rows:
        cells = " | ".join(f"{mean_std(r['metrics'][f'pixel_iou_{n}'], 3)} | {mean_std(r['metrics'][f'pixel_pq_{n}'], 3)}"
                           for n in names)
        lines.append(f"| {r['conv']} | {r['test']} | {len(r['seeds'])} | {cells} |")
    return "\n".join(lines)


def comparisons(summary_rows: list) -> str:
    """equi against std on each test set: PQ (pixel and area-weighted) and the seam figure."""
    by_key = {(r["conv"], r["test"]): r for r in summary_rows}
    lines = []
    for test in TESTS:
        std, equi = by_key.get(("std", test)), by_key.get(("equi", test))
        if std and equi:
            found = ", ".join(f"{title} {verdict(std['metrics'][m], equi['metrics'][m])}"
                              for m, title in (("pixel_pq_all", "PQ"), ("area_pq_all", "area PQ"),
                                               ("pixel_pq_things", "PQ things"),
                                               ("pixel_pq_things_visible", f"PQ things >= {MIN_AREA} px"),
                                               ("seam", "seam")))
            lines.append(f"- {test} test panoramas, equi - std: {found}")
    return "\n".join(lines)


def run(cfg: PanopticExperimentConfig) -> dict:
    """Per seed: trains the std and the equi network and evaluates both on both test sets;
    writes the report over all seeds; returns the summary (its ``table`` too). Its folder, ``out``, is held
    while it runs (``engine.outputs.run_folder``)."""
    settings = cfg.settings()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
        return _run(cfg, settings, out)


def _run(cfg: PanopticExperimentConfig, settings: dict, out: Path) -> dict:
    started = time.perf_counter()
    rows = []
    for seed in cfg.seeds:
        tests = test_sets(settings, seed, cfg.cache_dir, cfg.progress)
        validation = validation_set(settings, seed, cfg.cache_dir, cfg.progress)
        for conv in CONVS:
            run_cfg = PanopticConfig(out=str(Path(cfg.out) / f"seed-{seed}" / conv), conv=conv, size=settings["size"],
                                     channels=settings["channels"], batch_norm=settings["batch_norm"],
                                     level=settings["level"], head_channels=settings["head_channels"],
                                     thing_weight=settings["thing_weight"], num=settings["num_train"],
                                     data_seed=seed, seed=seed, epochs=settings["epochs"],
                                     batch_size=settings["batch_size"], split=(0.9, 0.1, 0.0), device=cfg.device,
                                     cache_dir=cfg.cache_dir, resume=cfg.resume, progress=cfg.progress)
            prerender(make_dataset(run_cfg, instances=True), progress=cfg.progress)
            print(f"training {run_cfg.out} ({conv} conv, {run_cfg.num} items, {run_cfg.epochs} epochs)")
            train(run_cfg)
            model, _ = load_model(Path(run_cfg.out) / BEST, cfg.device)
            level = run_cfg.panoptic_level
            post, _ = choose(model, validation, level, device=cfg.device)
            for test, data in tests.items():
                result = evaluate(model, data, Path(run_cfg.out) / f"test-{test}", device=cfg.device,
                                  progress=cfg.progress, level=level, post=post)
                rows.append({**row(conv, test, seed, result, level), "postprocessing": asdict(post)})
    summary_rows = summarise(rows)
    text = table(summary_rows) + "\n\n" + thing_table(summary_rows) + "\n\n" + comparisons(summary_rows)
    summary = {"config": cfg.as_dict(), "settings": {k: list(v) if isinstance(v, tuple) else v
                                                     for k, v in settings.items()},
               "minutes": round((time.perf_counter() - started) / 60, 2), "rows": rows, "summary": summary_rows}
    (out / "results.json").write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    (out / "table.md").write_text(text + "\n")
    return {**summary, "table": text}
