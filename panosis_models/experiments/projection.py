"""The experiment that shows what EquiConv is for.

1. perspective -> panorama: a network trained on pinhole views of synthetic streets is tested on
   panoramas of held-out worlds, once as trained (standard convolutions) and once with the same
   weights in EquiConv2d (``equiconv.convert``: "converted"), whose kernels follow the sphere.
   With ``pairs`` the views come as a Kaggle "cityscapes-image-pairs" folder (JPEG photo and
   colour label side by side, the data format users have): "synthetic" writes one per seed from
   the renderer, a path reads a real download; a third network then trains with EquiConv2d on
   the pairs themselves ("equi").
2. panorama -> panorama: a standard and an equirectangular network trained and tested on
   panoramas.

The networks are U-Nets, PSPNets or both (``models``), each row with its parameter count and
training images per second. The perspective views are rendered with the panoramas' angular
resolution at their centre, so only the projection differs. Every network is tested on level
panoramas and on panoramas from a camera pitched and rolled by up to +-30 degrees (real captures
are often not level). With several ``seeds`` (training worlds, initialisation and test worlds
all change) each row is reported as mean +- standard deviation. The ``demo`` preset is sized for
two CPU cores (what ``make demo`` runs); ``full`` for a GPU. Writes results.json, table.md and
PNGs.
"""
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from panosis_models.engine.config import BEST, JobConfig, default_device, preset_settings
from panosis_models.data import SyntheticPanoramas, prerender
from panosis_models.data.datasets import held_out_panoramas
from panosis_models.data.tilt import TiltedPanoramas
from panosis_models.data.cityscapes_pairs import write_pairs_root
from panosis_models.engine.outputs import run_folder
from panosis_models.errors import InputError
from panosis_models.experiments.results import TEST_SETS, evaluation_row, write_report
from panosis_models.data.source import make_dataset
from panosis_models.models.segmentation import MODELS
from panosis_models.segmentation.config import TrainConfig
from panosis_models.segmentation.train import train

TILT_BY = ("render", "rotate")
PRESETS = {
    # two CPU cores, a few minutes a seed: a narrow U-Net with BatchNorm, few epochs (the settings of
    # the page's three-seed table)
    # (num_test: per test set, level and tilted)
    # (pspnet: its preset, "small" costing about what the narrow U-Net does per step)
    "demo": dict(size=(128, 256), view_side=96, channels=(16, 32, 64, 128, 256), batch_norm=True,
                 pspnet="small", num_train=120, num_test=16, epochs=6, batch_size=8),
    # a GPU: the PanOSIS U-Net at 256x512
    "full": dict(size=(256, 512), view_side=192, channels=(32, 64, 128, 256, 512), batch_norm=False,
                 pspnet="resnet18", num_train=2000, num_test=200, epochs=40, batch_size=8),
}


@dataclass
class ExperimentConfig(JobConfig):
    """A preset and what overrides it; saved in results.json."""
    preset: str = "demo"
    out: str = "runs/experiment"
    seeds: tuple = (0,)
    models: tuple = ("unet",)        # "unet", "pspnet" or both
    pairs: str = None                # perspective views: rendered (None), "synthetic" pairs or a pairs folder
    labels: str = "category"         # what the networks learn: categories, or fine classes
    epochs: int = None               # None: the preset's
    num_train: int = None            # None: the preset's
    tilt_by: str = "render"          # the tilted test set: rendered by a tilted camera, or the level one rotated
    device: str = field(default_factory=default_device)
    cache_dir: str = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def settings(self) -> dict:
        """The preset with the overrides applied (the fields checked first)."""
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models or len(set(self.models)) != len(self.models):
            raise InputError(f"models must be distinct names from {MODELS}, got {self.models!r}")
        if self.pairs not in (None, "synthetic") and not (Path(self.pairs) / "train").is_dir():
            raise InputError(f"pairs must be 'synthetic' or a cityscapes-image-pairs folder holding train/ and "
                             f"val/, got {self.pairs!r}")
        if self.tilt_by not in TILT_BY:
            raise InputError(f"tilt_by must be one of {TILT_BY}, got {self.tilt_by!r}")
        return preset_settings(PRESETS, self)


def matched_fov(view_side: int, pano_width: int) -> float:
    """Field of view (degrees) of a view_side-pixel pinhole image whose central pixel spans the
    same angle as a pixel of a pano_width-pixel panorama."""
    focal = 1.0 / math.tan(math.radians(360.0 / pano_width))
    return math.degrees(2 * math.atan(view_side / 2 / focal))


def pairs_folder(settings: dict, cfg: ExperimentConfig, seed: int):
    """The cityscapes-image-pairs folder of this seed's perspective arm, None for rendered views:
    the user's, or written from the renderer (train and val worlds of the seed, at the matched
    field of view, 90/10 like the rendered arm's split)."""
    if cfg.pairs != "synthetic":
        return cfg.pairs
    root = Path(cfg.out) / f"seed-{seed}" / "pairs"
    num_val = max(1, round(settings["num_train"] / 10))
    write_pairs_root(root, settings["num_train"] - num_val, num_val, seed=seed, cache_dir=cfg.cache_dir,
                     progress=cfg.progress, fov_deg=matched_fov(settings["view_side"], settings["size"][1]))
    return str(root)


def runs(settings: dict, cfg: ExperimentConfig, seed: int, model: str, pairs=None) -> list:
    """(name, training config, conv of the row) of each row of the table for one seed and one
    model; a row "converted" tests a std network with its convolutions made spherical."""
    out = Path(cfg.out) / f"seed-{seed}" / model
    common = dict(model=model, preset=settings["pspnet"], channels=settings["channels"],
                  batch_norm=settings["batch_norm"], epochs=settings["epochs"], batch_size=settings["batch_size"],
                  seed=seed, device=cfg.device, cache_dir=cfg.cache_dir, num=settings["num_train"], data_seed=seed,
                  split=(0.9, 0.1, 0.0), resume=cfg.resume, progress=cfg.progress, labels=cfg.labels)
    side = settings["view_side"]
    view = dict(data=pairs, layout="cityscapes-pairs") if pairs else dict(fov=matched_fov(side, settings["size"][1]))
    name = "pairs" if pairs else "perspective"
    perspective = TrainConfig(out=str(out / f"{name}-std"), view="perspective", size=(side, side), conv="std",
                              **view, **common)
    pano_std = TrainConfig(out=str(out / "panorama-std"), view="panorama", size=settings["size"], conv="std",
                           **common)
    pano_equi = dataclasses.replace(pano_std, out=str(out / "panorama-equi"), conv="equi")
    rows = [(name, perspective, "std"), (name, perspective, "converted")]
    if pairs:
        rows.append((name, dataclasses.replace(perspective, out=str(out / f"{name}-equi"), conv="equi"), "equi"))
    return rows + [("panorama", pano_std, "std"), ("panorama", pano_equi, "equi")]


def train_once(cfg: TrainConfig, trained: set) -> None:
    """Trains ``cfg`` unless this experiment already has (two rows share a network)."""
    if cfg.out in trained:
        return
    data = make_dataset(cfg)
    if isinstance(data, SyntheticPanoramas):
        prerender(data, progress=cfg.progress)
    print(f"training {cfg.out} ({cfg.view}, {cfg.conv} conv, {cfg.num} items, {cfg.epochs} epochs)")
    train(cfg)
    trained.add(cfg.out)


def run(cfg: ExperimentConfig) -> dict:
    """Per seed and model: trains the networks and evaluates their rows on each test set; writes
    the report over all seeds; returns the summary (its ``table`` too). Its folder, ``out``, is held
    while it runs (``engine.outputs.run_folder``)."""
    settings = cfg.settings()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
        return _run(cfg, settings, out)


def held_out_sets(settings: dict, cfg: ExperimentConfig, seed: int) -> dict:
    """{name: data set} of TEST_SETS for ``seed``, rendered (and cached) now: level panoramas, and
    tilted ones drawn by a tilted camera or (``tilt_by="rotate"``) the level ones turned by
    ``equiconv.rotate`` with the angles the renderer would have drawn."""
    level = held_out_panoramas(settings["num_test"], settings["size"], seed, cfg.cache_dir)
    tilted = (TiltedPanoramas(level, level.seed) if cfg.tilt_by == "rotate" else
              held_out_panoramas(settings["num_test"], settings["size"], seed, cfg.cache_dir, tilted=True))
    for rendered in (level, tilted.dataset if cfg.tilt_by == "rotate" else tilted):
        prerender(rendered, progress=cfg.progress)
    return dict(zip(TEST_SETS, (level, tilted)))


def _run(cfg: ExperimentConfig, settings: dict, out: Path) -> dict:
    started = time.perf_counter()
    rows = []
    for seed in cfg.seeds:
        tests = held_out_sets(settings, cfg, seed)
        pairs = pairs_folder(settings, cfg, seed) if cfg.pairs else None
        trained = set()
        for model in cfg.models:
            for name, run_cfg, conv in runs(settings, cfg, seed, model, pairs):
                train_once(run_cfg, trained)
                test_conv = "equi" if conv == "converted" else run_cfg.conv
                for test_name, test_set in tests.items():
                    rows.append(evaluation_row(name, conv, Path(run_cfg.out) / BEST, test_set,
                                               Path(run_cfg.out) / f"test-{conv}-{test_name}", cfg.device,
                                               f"{model}, {name} -> {test_name} panorama, {conv}",
                                               test_conv=test_conv, progress=cfg.progress, test=test_name,
                                               seed=seed))
    summary = {"config": cfg.as_dict(), "settings": {k: list(v) if isinstance(v, tuple) else v
                                                     for k, v in settings.items()},
               "test_panoramas": {name: settings["num_test"] for name in TEST_SETS},
               "minutes": round((time.perf_counter() - started) / 60, 2), "rows": rows}
    return {**summary, "table": write_report(out, summary)}
