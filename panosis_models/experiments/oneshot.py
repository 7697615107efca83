"""One-shot panoramic segmentation two ways, on the same task: one held-out panorama with the
binary mask of a novel class (a support pair) -> that class segmented in other held-out
panoramas that show it (its queries).

(a) the episode methods, meta-trained once per fold on episodes of the base classes and
    conditioned on the pair: the prototype network, and OSLSM starting from its encoder;
    beside them the trivial baselines (``oneshot.baselines``) on the same pairs;
(b) a U-Net trained on the pair alone (the PanOSIS pipeline's "one pair" route, binary);
(c) the PanOSIS route: OSMIS on the pair, a generated set, a U-Net on it with the pair --
    expensive, so run on a small fixed subset of the pairs only: the first pair of each of the
    first ``panosis_pairs`` classes; (a) and (b) are also scored on that subset alone.
(b) and (c) train as the pipeline's routes do (``panosis.train_route``): as many images, the
same augmentation, the last checkpoint.
Each with standard and with equirectangular convolutions in the segmenter (OSMIS keeps the
pipeline's own). The pipeline's binary masks are written as labels 1 (background) and 2 (the
class), 0 for void, because the category level never scores or trains on label 0.
Per method and conv: per novel class the foreground IoU over all (pair, query) episodes, their
mean, FB-IoU, per pixel and area-weighted, and the seconds each support pair cost. Writes
results.json and table.md.
"""
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from panosis_models.engine.config import LAST, RunConfig, check_at_least
from panosis_models.data.cityscapes import FINE_NAMES, VOID
from panosis_models.data.datasets import held_out_panoramas
from panosis_models.data.episodes import binary_target, holders, novel_classes, support_pairs
from panosis_models.engine.outputs import run_folder
from panosis_models.segmentation.loop import predict
from panosis_models.experiments.panosis import (PipelineConfig, generate_set, osmis_config, pair_alone, route_sets,
                                                train_route, write_pair_folder)
from panosis_models.models.convs import CONV_KINDS
from panosis_models.oneshot.config import OneShotConfig
from panosis_models.oneshot.baselines import trivial
from panosis_models.oneshot.evaluate import load_model as load_episodic
from panosis_models.oneshot.loop import shot_logits
from panosis_models.oneshot.train import train as train_episodic
from panosis_models.oneshot.metrics import EpisodeScores, aggregate
from panosis_models.osmis.pair import TrainingPair
from panosis_models.osmis.train import train as train_osmis
from panosis_models.segmentation.evaluate import load_model as load_unet

SETTINGS = {
    # two CPU cores: the quick pipeline's size, small episode-method encoders, few test pairs
    "quick": dict(channels=(16, 32, 64), train_panoramas=200, episodes=400, epochs=10, test_panoramas=60,
                  per_class=3, queries=5, panosis_pairs=2),
    # a GPU: the full pipeline's size
    "full": dict(channels=(32, 64, 128, 256), train_panoramas=2000, episodes=2000, epochs=20, test_panoramas=300,
                 per_class=10, queries=10, panosis_pairs=4),
}
BACKGROUND, FOREGROUND = 1, 2  # the pair's labels for the pipeline (0: void, never trained on)
EPISODE_METHODS = {"prototype": "prototype 1-shot", "oslsm": "OSLSM 1-shot"}
UNET_PAIR, PANOSIS = "U-Net on the pair", "PanOSIS (OSMIS set + pair -> U-Net)"
METHODS = (*EPISODE_METHODS.values(), UNET_PAIR, PANOSIS)


@dataclass
class CompareConfig(RunConfig):
    """The setting and what overrides it; saved in results.json."""
    out: str = "runs/oneshot-compare"
    quick: bool = False                # the small CPU setting (and the quick pipeline's)
    fold: int = 0
    panosis_pairs: int = None          # support pairs the PanOSIS route runs on; None: the setting's

    def settings(self) -> dict:
        overrides = {} if self.panosis_pairs is None else {"panosis_pairs": self.panosis_pairs}
        check_at_least(overrides, minimum=0)
        return {**SETTINGS["quick" if self.quick else "full"], **overrides}

    def pipeline(self, out: Path, pair_folder: Path = None) -> PipelineConfig:
        """The pipeline's configuration for one support pair (its files under ``pair_folder``)."""
        image, mask = ((None, None) if pair_folder is None else
                       (str(pair_folder / "rgb" / "pair.png"), str(pair_folder / "mask" / "pair.png")))
        return PipelineConfig(out=str(out), image=image, mask=mask, quick=self.quick, seed=self.seed,
                              device=self.device, resume=self.resume, progress=self.progress)


def pair_labels(fine: torch.Tensor, cls: int) -> torch.Tensor:
    """A fine mask as the pipeline's binary labels: FOREGROUND for ``cls``, BACKGROUND else, 0 void."""
    return torch.where(fine == VOID, 0, torch.where(fine == cls, FOREGROUND, BACKGROUND))


def train_episode_runs(cfg: CompareConfig, settings: dict, size, out: Path) -> dict:
    """{(method, conv): (checkpoint, seconds of training)} of the fold's episode methods, std and
    equi: the prototype network, then OSLSM starting from its encoder (the seconds its epochs
    took, also when a finished run is resumed)."""
    runs = {}
    for conv in CONV_KINDS:
        for method in EPISODE_METHODS:
            pretrained = str(runs[("prototype", conv)][0]) if method == "oslsm" else None
            run = OneShotConfig(out=str(out / f"{method}-{conv}"), method=method, pretrained=pretrained, fold=cfg.fold,
                                conv=conv, size=size, num=settings["train_panoramas"], channels=settings["channels"],
                                episodes=settings["episodes"], epochs=settings["epochs"], seed=cfg.seed,
                                device=cfg.device, resume=cfg.resume, progress=cfg.progress)
            history = train_episodic(run)["history"]
            runs[(method, conv)] = (Path(run.out) / LAST, round(sum(epoch["seconds"] for epoch in history), 1))
    return runs


class Scoreboard:
    """Scores, episodes and seconds per (method, conv, pairs scored: "all" pairs or the PanOSIS
    "subset")."""

    def __init__(self, classes):
        self.classes, self.scores, self.episodes, self.seconds = classes, {}, {}, {}

    def add(self, key: tuple, cls: int, foreground: torch.Tensor, target: torch.Tensor, seconds: float) -> None:
        self.scores.setdefault(key, EpisodeScores(self.classes)).add(cls, foreground, target)
        self.episodes[key] = self.episodes.get(key, 0) + len(target)
        self.seconds.setdefault(key, []).append(seconds)

    def rows(self) -> list:
        return [{"method": key[0], "conv": key[1], "pairs": key[2], "support_pairs": len(self.seconds[key]),
                 "episodes": self.episodes[key], "seconds_per_pair": round(sum(self.seconds[key]) / len(self.seconds[key]), 2),
                 **self.scores[key].report()} for key in self.scores]


def episodic_foreground(model, image: torch.Tensor, mask: torch.Tensor, queries: torch.Tensor, device) -> torch.Tensor:
    """The queries' 1-shot foreground masks from one support pair."""
    n = len(queries)
    logits = shot_logits(model, image[None, None].expand(n, 1, -1, -1, -1).to(device),
                         mask[None, None].expand(n, 1, -1, -1).to(device), queries.to(device))
    return aggregate(logits, "or").cpu()


def fit_unet(pcfg: PipelineConfig, settings: dict, out: Path, data: Path, items, conv: str) -> tuple:
    """(last checkpoint, seconds) of the pipeline's U-Net trained on ``items`` (``panosis.train_route``)."""
    tick = time.perf_counter()
    checkpoint = train_route(pcfg, settings, out, data, items, conv)
    return checkpoint, time.perf_counter() - tick


def unet_foreground(checkpoint: Path, queries: torch.Tensor, device) -> torch.Tensor:
    model, _ = load_unet(checkpoint, device=device)
    return (predict(model, queries.to(device)) == FOREGROUND).cpu()


def run(cfg: CompareConfig) -> dict:
    """The three methods on the fold's test support pairs; returns the summary written to
    results.json (its ``table`` too). Its folder, ``out``, is held
    while it runs (``engine.outputs.run_folder``)."""
    settings = cfg.settings()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
        return _run(cfg, settings, out)


def _run(cfg: CompareConfig, settings: dict, out: Path) -> dict:
    pipeline_settings = cfg.pipeline(out).settings()
    size = pipeline_settings["size"]
    started = time.perf_counter()
    episodic = train_episode_runs(cfg, settings, size, out)
    tests = held_out_panoramas(settings["test_panoramas"], size, cfg.seed, labels="fine")
    classes = novel_classes(cfg.fold)
    pairs = support_pairs(holders(tests, classes), classes, settings["per_class"], settings["queries"], cfg.seed)
    board = Scoreboard(classes)
    models = {key: load_episodic(path, cfg.device)[0] for key, (path, _) in episodic.items()}
    firsts = [p for p, pair in enumerate(pairs) if p == 0 or pairs[p - 1][0] != pair[0]]
    subset = set(firsts[:settings["panosis_pairs"]])
    for p, (cls, support, query_ids) in enumerate(pairs):
        print(f"support pair {p + 1}/{len(pairs)}: {FINE_NAMES[cls]}, panorama {support}")
        image, fine = tests[support]
        queries = torch.stack([tests[q][0] for q in query_ids])
        targets = torch.stack([binary_target(tests[q][1], cls) for q in query_ids])
        subsets = ("all", "subset") if p in subset else ("all",)

        def score(method, conv, foreground, seconds, among=subsets):
            for subset in among:
                board.add((method, conv, subset), cls, foreground, targets, seconds)
        for (method, conv), model in models.items():
            tick = time.perf_counter()
            score(EPISODE_METHODS[method], conv,
                  episodic_foreground(model, image, (fine == cls).float(), queries, cfg.device), time.perf_counter() - tick)
        for name, predictor in trivial().items():
            tick = time.perf_counter()
            score(f"trivial: {name}", "-", episodic_foreground(predictor, image, (fine == cls).float(), queries, "cpu"),
                  time.perf_counter() - tick)
        folder = out / f"pair-{p:03d}"
        pair_folder = write_pair_folder(TrainingPair.from_unit_image(image, pair_labels(fine, cls)), folder / "pair")
        pcfg = cfg.pipeline(folder, pair_folder)
        for conv in CONV_KINDS:
            checkpoint, seconds = fit_unet(pcfg, pipeline_settings, folder / f"unet-pair-{conv}", pair_folder,
                                           pair_alone(pair_folder, pipeline_settings), conv)
            score(UNET_PAIR, conv, unet_foreground(checkpoint, queries, cfg.device), seconds)
        if "subset" in subsets:
            tick = time.perf_counter()
            train_osmis(osmis_config(pcfg, pipeline_settings))
            generated, _ = generate_set(pcfg, pipeline_settings)
            synthesis = time.perf_counter() - tick
            _, _, union = route_sets(generated, pair_folder, pipeline_settings)["osmis"]
            for conv in CONV_KINDS:
                checkpoint, seconds = fit_unet(pcfg, pipeline_settings, folder / f"unet-osmis-{conv}", generated,
                                               union, conv)
                score(PANOSIS, conv, unet_foreground(checkpoint, queries, cfg.device), synthesis + seconds,
                      among=("subset",))
    summary = {"config": cfg.as_dict(), "settings": {k: list(v) if isinstance(v, tuple) else v
                                                      for k, v in settings.items()},
               "pipeline_settings": {k: list(v) if isinstance(v, tuple) else v for k, v in pipeline_settings.items()},
               "size": list(size), "novel_classes": list(classes), "test_panoramas": len(tests),
               "support_pairs": [{"class": c, "support": s, "queries": q, "panosis": p in subset}
                                 for p, (c, s, q) in enumerate(pairs)],
               "episode_training_seconds": {f"{method} {conv}": seconds
                                            for (method, conv), (_, seconds) in episodic.items()},
               "minutes": round((time.perf_counter() - started) / 60, 1), "rows": board.rows()}
    text = table(summary)
    (out / "results.json").write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    (out / "table.md").write_text(text + "\n")
    return {**summary, "table": text}


def table(summary: dict) -> str:
    """Method x conv rows: per novel class IoU (of the classes that had support pairs), mean IoU,
    area-weighted mean IoU, FB-IoU, pairs, seconds per support pair."""
    classes = [str(c) for c in summary["novel_classes"] if any(p["class"] == c for p in summary["support_pairs"])]
    header = ("| method | conv | pairs scored | support pairs | episodes | " + " | ".join(f"IoU {FINE_NAMES[int(c)]}" for c in classes) +
              " | mean IoU | area mean IoU | FB-IoU | s / pair |")
    lines = [header, "|" + "---|" * (len(classes) + 9)]

    def number(value):
        return "-" if value is None else f"{value:.3f}"
    for row in summary["rows"]:
        iou = {str(k): v for k, v in row["pixel"]["iou"].items()}
        lines.append(f"| {row['method']} | {row['conv']} | {row['pairs']} | {row['support_pairs']} | {row['episodes']} | " +
                     " | ".join(number(iou.get(c)) for c in classes) +
                     f" | {number(row['pixel']['miou'])} | {number(row['area']['miou'])} | "
                     f"{number(row['pixel']['fb_iou'])} | {row['seconds_per_pair']} |")
    return "\n".join(lines)
