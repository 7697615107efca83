"""PanOSIS end to end.

One image-mask pair (default: a rendered synthetic street panorama) -> OSMIS -> a generated
data set -> the U-Net trained on it with the pair added, with standard and with equirectangular
convolutions -> evaluation on held-out synthetic panoramas (or a CVRG-Pano folder), level and
tilted. The routes are fair to each other: the same U-Nets trained on the pair alone see it
repeated as many times per epoch as the other route has images, for as many epochs, with the
same augmentation; both keep their last checkpoint (no generated image ever chooses a model).
Beside them the predictors that learn nothing from the pair (``pair_baselines``) are scored on
the same panoramas. The ``quick`` setting finishes on two CPU cores in minutes; the default
setting is for a GPU. Writes a summary table (table.md, results.json, iou.png) under ``out``.
"""
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from torch.utils.data import ConcatDataset, Subset

from panosis_models.engine.config import LAST, RunConfig, check_at_least
from panosis_models.data import PanoramaFolder, prerender
from panosis_models.data.datasets import held_out_panoramas
from panosis_models.data.tilt import TiltedPanoramas
from panosis_models.engine.outputs import run_folder
from panosis_models.experiments.pair_baselines import pair_baselines
from panosis_models.experiments.results import TEST_SETS, evaluation_row, predictor_row, write_report
from panosis_models.models.convs import CONV_KINDS
from panosis_models.osmis.config import OsmisConfig
from panosis_models.osmis.generate import generate
from panosis_models.osmis.label_check import describe, top_label_check
from panosis_models.osmis.pair import training_pair
from panosis_models.osmis.previews import to_uint8
from panosis_models.osmis.train import train as train_osmis
from panosis_models.segmentation.class_weight import check_class_weight
from panosis_models.segmentation.config import TrainConfig, check_tilt
from panosis_models.segmentation.train import train as train_unet

SETTINGS = {
    # two CPU cores, a few minutes: small networks at 64x128
    "quick": dict(size=(64, 128), iterations=600, channels_g=16, channels_d=16, generated=48,
                  unet_channels=(8, 16, 32, 64), batch_norm=True, epochs=80, batch_size=8, num_test=24),
    # a GPU: PanOSIS sizes
    "full": dict(size=(256, 512), iterations=20000, channels_g=32, channels_d=32, generated=1000,
                 unet_channels=(32, 64, 128, 256, 512), batch_norm=False, epochs=40, batch_size=8,
                 num_test=200),
}
AUTHORS_ITERATIONS = 150_000  # OSMIS steps its authors train for: the budget a run states its own against
UNION, PAIR = "OSMIS set + pair", "the one pair"  # the two routes' training data


@dataclass
class PipelineConfig(RunConfig):
    """The setting and what overrides it; saved in results.json."""
    out: str = "runs/pipeline"
    image: str = None                # the one image (PNG); None: a synthetic panorama
    mask: str = None                 # its mask (index or palette-colour PNG)
    quick: bool = False              # the small CPU setting
    iterations: int = None           # OSMIS steps; None: the setting's
    generated: int = None            # pairs to generate; None: the setting's
    epochs: int = None               # U-Net epochs; None: the setting's
    osmis_conv: str = "equi"
    pair_seed: int = 0               # synthetic pair: which world
    test: str = None                 # a CVRG-Pano folder to test on; None: held-out synthetic panoramas
    test_seed: int = None            # which held-out synthetic panoramas (or tilts of the folder's); None: seed
    colour_masks: bool = False       # the test folder's masks are palette colours
    tilt: float = 0.0                # the U-Nets' augmentation: a random pitch and roll up to this many degrees
    class_weight: str = None         # the U-Nets' cross-entropy: None, or "balanced" (segmentation.class_weight)

    def settings(self) -> dict:
        overrides = {k: getattr(self, k) for k in ("iterations", "generated", "epochs") if getattr(self, k) is not None}
        check_at_least(overrides)
        check_tilt(self.tilt)
        check_class_weight(self.class_weight)
        return {**SETTINGS["quick" if self.quick else "full"], **overrides}


class Stages:
    """Seconds spent in each named stage, in order."""

    def __init__(self):
        self.started, self.seconds = time.perf_counter(), {}

    def done(self, name: str) -> None:
        self.seconds[name] = round(time.perf_counter() - self.started - sum(self.seconds.values()), 1)


def osmis_config(cfg: PipelineConfig, settings: dict) -> OsmisConfig:
    return OsmisConfig(out=str(Path(cfg.out) / "osmis"), image=cfg.image, mask=cfg.mask, pair_seed=cfg.pair_seed,
                       size=settings["size"],
                       conv=cfg.osmis_conv, iterations=settings["iterations"], channels_g=settings["channels_g"],
                       channels_d=settings["channels_d"], seed=cfg.seed, device=cfg.device,
                       checkpoint_every=max(settings["iterations"] // 10, 1),
                       preview_every=max(settings["iterations"] // 5, 1), resume=cfg.resume,
                       progress=cfg.progress)


def unet_config(cfg: PipelineConfig, settings: dict, out: Path, data: Path, conv: str, epochs: int,
                split=(0.9, 0.1, 0.0)) -> TrainConfig:
    return TrainConfig(out=str(out), data=str(data), size=settings["size"], conv=conv,
                       channels=settings["unet_channels"], batch_norm=settings["batch_norm"], epochs=epochs,
                       batch_size=settings["batch_size"], split=split, seed=cfg.seed, tilt=cfg.tilt,
                       class_weight=cfg.class_weight, device=cfg.device, resume=cfg.resume, progress=cfg.progress)


def test_sets(cfg: PipelineConfig, settings: dict) -> tuple:
    """({"level": data set, "tilted": data set}, their description). The tilted panoramas are the
    level ones seen by a tilted camera: the same worlds rendered so, or the folder's panoramas
    turned by ``TiltedPanoramas``. A test folder is read through at once, before any training."""
    seed = cfg.seed if cfg.test_seed is None else cfg.test_seed
    if cfg.test:
        folder = PanoramaFolder(cfg.test, size=settings["size"], colour_masks=cfg.colour_masks)
        folder.verify()
        return dict(zip(TEST_SETS, (folder, TiltedPanoramas(folder, seed)))), cfg.test
    level, tilted = (held_out_panoramas(settings["num_test"], settings["size"], seed, tilted=tilted)
                     for tilted in (False, True))
    return (dict(zip(TEST_SETS, (level, tilted))),
            f"{len(level)} synthetic panoramas of held-out worlds (set {seed}), level and tilted")


def write_pair_folder(pair, folder: Path) -> Path:
    """The training pair as a one-item CVRG-Pano folder (rgb/, mask/), for the baseline."""
    for name, array in (("rgb", to_uint8(pair.image)), ("mask", pair.labels.numpy().astype(np.uint8))):
        (folder / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(folder / name / "pair.png")
    return folder


def generate_set(cfg: PipelineConfig, settings: dict) -> tuple:
    """(folder of the generated pairs, their statistics from generated.json with ``top_labels``:
    the check of the training mask's largest labels, printed with a warning if it fails; None
    for a checkpoint older than the training shares it needs)."""
    print(f"2/4 generating {settings['generated']} pairs")
    folder = generate(Path(cfg.out) / "osmis" / LAST, settings["generated"], Path(cfg.out) / "generated",
                      seed=cfg.seed, device=cfg.device, overwrite=True, progress=cfg.progress)
    made = json.loads((folder / "generated.json").read_text())
    print(f"   labels per mask {made['labels_per_mask']}; label shares generated {made['label_shares']}, "
          f"training {made.get('training_label_shares')}")
    check = None
    if "training_label_shares" in made:
        check = top_label_check(made["label_shares"], made["training_label_shares"])
        print(describe(check))
    return folder, {**made, "top_labels": check}


def pair_alone(pair_folder: Path, settings: dict) -> Subset:
    """The pair repeated as many times as the generated set with it has items: an epoch of
    either route is as many images."""
    return Subset(PanoramaFolder(pair_folder, size=settings["size"]), [0] * (settings["generated"] + 1))


def route_sets(generated: Path, pair_folder: Path, settings: dict) -> dict:
    """{short name: (training data's name, its folder, its items)} of the two routes: the whole
    generated set with the pair, and ``pair_alone``."""
    union = ConcatDataset([PanoramaFolder(generated, size=settings["size"]),
                           PanoramaFolder(pair_folder, size=settings["size"])])
    return {"osmis": (UNION, generated, union), "pair": (PAIR, pair_folder, pair_alone(pair_folder, settings))}


def train_route(cfg: PipelineConfig, settings: dict, out: Path, data: Path, items, conv: str) -> Path:
    """The U-Net of one route trained on ``items`` (from the folder ``data``, recorded) for the
    setting's epochs, no validation split; its last checkpoint."""
    train_unet(unet_config(cfg, settings, out, data, conv, settings["epochs"], split=(1.0, 0.0, 0.0)),
               train_set=items, val_set=[])
    return out / LAST


def train_unets(cfg: PipelineConfig, settings: dict, generated: Path, pair_folder: Path) -> list:
    """Standard and equirectangular U-Nets on each route's data (``route_sets``);
    [(training data's name, conv, last checkpoint)]."""
    routes = route_sets(generated, pair_folder, settings)
    print(f"3/4 U-Nets, std and equi, {settings['epochs']} epochs of {len(routes['pair'][2])} images: "
          + ", ".join(name for name, _, _ in routes.values()))
    return [(name, conv, train_route(cfg, settings, Path(cfg.out) / f"unet-{short}-{conv}", data, items, conv))
            for short, (name, data, items) in routes.items() for conv in CONV_KINDS]


def test_rows(cfg: PipelineConfig, checkpoints: list, tests: dict, pair, out: Path) -> list:
    """Every trained U-Net's and every non-learned predictor's row on each test set."""
    rows = []
    baselines = pair_baselines((pair.image + 1) / 2, pair.labels)
    for test, panoramas in tests.items():
        for name, conv, path in checkpoints:
            rows.append(evaluation_row(name, conv, path, panoramas, path.parent / f"test-{test}", cfg.device,
                                       f"{name}, {conv} conv, {test}", progress=cfg.progress, test=test,
                                       seed=cfg.seed))
        for name, predictor in baselines.items():
            rows.append(predictor_row(name, PAIR, "-", predictor.to(cfg.device), panoramas,
                                      out / "baselines" / f"{name.replace(' ', '-')}-{test}", cfg.device,
                                      f"{name}, {test}", progress=cfg.progress, test=test, seed=cfg.seed))
    return rows


def run(cfg: PipelineConfig) -> dict:
    """The four stages; returns the summary written to results.json (its ``table`` too). Its folder, ``out``, is held
    while it runs (``engine.outputs.run_folder``)."""
    settings = cfg.settings()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
        return _run(cfg, settings, out)


def _run(cfg: PipelineConfig, settings: dict, out: Path) -> dict:
    osmis = osmis_config(cfg, settings)
    osmis.validate()
    tests, test_name = test_sets(cfg, settings)
    stages = Stages()
    print(f"1/4 OSMIS on one pair ({osmis.conv} conv, {osmis.iterations} steps, {osmis.size[0]}x{osmis.size[1]})")
    train_osmis(osmis)
    stages.done("osmis")
    generated, made = generate_set(cfg, settings)
    stages.done("generate")
    pair = training_pair(osmis)
    checkpoints = train_unets(cfg, settings, generated, write_pair_folder(pair, out / "pair"))
    stages.done("unet")
    print(f"4/4 testing on {test_name}")
    if not cfg.test:
        for panoramas in tests.values():
            prerender(panoramas, progress=cfg.progress)
    rows = test_rows(cfg, checkpoints, tests, pair, out)
    stages.done("test")
    summary = {"config": cfg.as_dict(),
               "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
               "osmis_budget": {"iterations": settings["iterations"], "authors": AUTHORS_ITERATIONS,
                                "fraction": settings["iterations"] / AUTHORS_ITERATIONS},
               "images_seen": settings["epochs"] * (settings["generated"] + 1),
               "pair": cfg.image or f"synthetic (world {osmis.pair_seed})", "test": test_name,
               "seconds": stages.seconds, "rows": rows,
               "generated": {k: made.get(k) for k in ("labels_per_mask", "label_shares", "training_label_shares",
                                                      "top_labels")}}
    return {**summary, "table": write_report(out, summary)}
