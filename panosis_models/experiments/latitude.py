"""Latitude generalisation: does a network recognise a pattern at latitudes it never saw?

Glyphs on the sphere (``data/glyphs.py``) are classified by a small network trained with every
glyph within +-15 degrees of the equator, then tested in bands of latitude up to 80 degrees. Three
networks: standard 3x3 convolutions, EquiConv2d trained as such, and the standard network with
its convolutions made spherical by ``equiconv.convert`` (no retraining). On the sphere a glyph is
the same pattern at every latitude; in the panorama it stretches by 1 / cos(latitude), which a
standard kernel sees and a spherical one undoes. Sized for two CPU cores (``demo``: a few
minutes per seed). Writes results.json, table.md and latitude.png."""
import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

import equiconv
from panosis_models.engine.config import JobConfig, default_device, preset_settings
from panosis_models.data.glyphs import GLYPHS, SphereGlyphs
from panosis_models.engine.outputs import run_folder
from panosis_models.errors import InputError
from panosis_models.experiments.results import mean_std, spread
from panosis_models.models.glyphnet import GlyphNet
from panosis_models.plots import save_band_accuracy

PRESETS = {
    # two CPU cores: about three minutes per seed
    "demo": dict(size=(48, 96), channels=(16, 32, 64), num_train=3000, num_test=300, epochs=8, batch_size=64),
    # a GPU
    "full": dict(size=(96, 192), channels=(32, 64, 128), num_train=20000, num_test=2000, epochs=20,
                 batch_size=128),
}
TRAIN_LATITUDES = (0.0, 15.0)
TEST_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80))
NETWORKS = ("std", "equi", "std converted")
TEST_SEED = 10_000


@dataclass
class LatitudeConfig(JobConfig):
    """A preset and what overrides it; saved in results.json."""
    preset: str = "demo"
    out: str = "runs/latitude"
    seeds: tuple = (0,)
    epochs: int = None     # None: the preset's
    num_train: int = None  # None: the preset's
    device: str = field(default_factory=default_device)
    overwrite: bool = False
    progress: bool = True

    def settings(self) -> dict:
        settings = preset_settings(PRESETS, self)
        if not self.seeds:
            raise InputError("seeds must name at least one seed")
        return settings


def fit(model, data, settings: dict, seed: int, device, desc: str, progress: bool) -> float:
    """Adam (1e-3), cross-entropy, shuffled by ``seed``; returns the last epoch's mean loss."""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    loss = float("nan")
    for epoch in tqdm(range(settings["epochs"]), desc=desc, disable=not progress):
        losses = []
        for images, labels in DataLoader(data, batch_size=settings["batch_size"], shuffle=True, generator=generator):
            batch_loss = F.cross_entropy(model(images.to(device)), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            batch_loss.backward()
            optimizer.step()
            losses.append(batch_loss.item())
        loss = sum(losses) / len(losses)
    return loss


@torch.no_grad()
def accuracy(model, data, device, batch_size: int = 256) -> float:
    model.to(device).eval()
    right = sum(int((model(images.to(device)).argmax(1).cpu() == labels).sum())
                for images, labels in DataLoader(data, batch_size=batch_size))
    return right / len(data)


def one_seed(settings: dict, seed: int, device, progress: bool) -> list:
    """Rows {network, band, seed, accuracy} of one seed: trains std and equi, converts std."""
    height, width = settings["size"]
    train_set = SphereGlyphs(settings["num_train"], height, width, TRAIN_LATITUDES, seed=seed)
    tests = {band: SphereGlyphs(settings["num_test"], height, width, band, seed=TEST_SEED + 97 * seed + k)
             for k, band in enumerate(TEST_BANDS)}
    models, losses = {}, {}
    for conv in ("std", "equi"):
        torch.manual_seed(seed)
        models[conv] = GlyphNet(len(GLYPHS), conv=conv, channels=settings["channels"])
        losses[conv] = fit(models[conv], train_set, settings, seed, device, f"seed {seed}: {conv}", progress)
    # convolutions only, as the "equi" network differs from "std" in its convolutions alone
    models["std converted"] = equiconv.convert(copy.deepcopy(models["std"]).cpu(), kinds=("conv",))
    return [{"network": name, "band": list(band), "seed": seed, "accuracy": accuracy(models[name], data, device),
             "train_loss": losses.get(name, losses["std"])}
            for name in NETWORKS for band, data in tests.items()]


def summarise(rows: list) -> dict:
    """{network: {band "lo-hi": spread of accuracy over seeds}}."""
    out = {}
    for name in NETWORKS:
        for band in TEST_BANDS:
            values = [r["accuracy"] for r in rows if r["network"] == name and tuple(r["band"]) == band]
            out.setdefault(name, {})[f"{band[0]}-{band[1]}"] = spread(values)
    return out


def table(summary: dict, seeds: int) -> str:
    bands = [f"{lo}-{hi}" for lo, hi in TEST_BANDS]
    lines = ["| network (trained at abs. latitude <= 15) | seeds | " + " | ".join(
                 f"accuracy, abs. latitude {b}" for b in bands) + " |",
             "|" + "---|" * (2 + len(bands))]
    for name, per_band in summary.items():
        lines.append(f"| {name} | {seeds} | " + " | ".join(mean_std(per_band[b], 3) for b in bands) + " |")
    return "\n".join(lines)


def save_plot(summary: dict, path: Path) -> None:
    """latitude.png: accuracy per test band, the training latitudes shaded, chance dotted."""
    save_band_accuracy(summary, path, TEST_BANDS, TRAIN_LATITUDES[1], 1 / len(GLYPHS))


def run(cfg: LatitudeConfig) -> dict:
    """Every seed, then the report; returns the summary (its ``table`` too). Its folder, ``out``, is held
    while it runs (``engine.outputs.run_folder``)."""
    settings = cfg.settings()
    with run_folder(cfg.out, overwrite=cfg.overwrite, can_resume=False) as out:
        return _run(cfg, settings, out)


def _run(cfg: LatitudeConfig, settings: dict, out: Path) -> dict:
    started = time.perf_counter()
    rows = [row for seed in cfg.seeds for row in one_seed(settings, seed, cfg.device, cfg.progress)]
    summary = summarise(rows)
    text = table(summary, len(cfg.seeds))
    result = {"config": cfg.as_dict(), "settings": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in settings.items()},
              "minutes": round((time.perf_counter() - started) / 60, 2), "rows": rows, "summary": summary}
    (out / "results.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    (out / "table.md").write_text(text + "\n")
    save_plot(summary, out / "latitude.png")
    return {**result, "table": text}
