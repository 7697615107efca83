"""A segmentation run: the seeded split of its data, then per epoch ``train_one_epoch``,
``evaluate`` on the validation part and an atomic checkpoint (``last.pt`` every epoch, resumable;
``best.pt`` the best validation mIoU). Under ``torchrun`` it trains with DistributedDataParallel
(gloo on CPU, nccl on GPU); only the first process writes. Its launch, epoch bookkeeping,
checkpoints and resume serve the panoptic runs too (``kind`` and ``score`` say whose)."""
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from panosis_models.atomic import save_atomically
from panosis_models.engine.config import BEST, LAST
from panosis_models.data import PanoramaAugment, Transformed
from panosis_models.engine import checkpoint, distributed
from panosis_models.engine.outputs import run_folder
from panosis_models.engine.loop import check_finite, epoch_loader, evaluate, train_one_epoch
from panosis_models.metrics import scores
from panosis_models.segmentation.config import TrainConfig, build_model, level_of, split


@dataclass
class Progress:
    """Where a run stands: the next epoch, the best validation score so far, one entry per epoch."""
    start: int = 0
    best: float = -math.inf
    history: list = field(default_factory=list)


@dataclass(frozen=True)
class Score:
    """The validation score a run keeps its best checkpoint by: ``val_<key>`` in the history,
    ``best_<key>`` in checkpoints, ``title`` in the news."""
    key: str
    title: str


MIOU = Score("miou", "mIoU")


def train(cfg: TrainConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets, ``cfg`` names the data and its seeded split."""
    return launch(cfg, _fit, train_set, val_set)


def launch(cfg, fit, train_set: Dataset = None, val_set: Dataset = None, instances: bool = False) -> dict:
    """``fit(cfg, out, ctx, train_set, val_set)`` after the checks that must pass before any work
    (the config, the run folder, held while it runs), on the run's own split (with
    ``instances``, items carry instance ids) unless data sets are given, in this process's place
    under ``torchrun``."""
    cfg.validate()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite, main=distributed.first_process()) as out:
        if train_set is None:
            train_set, val_set, _ = split(cfg, instances)
        with distributed.group(cfg.device) as ctx:
            return fit(cfg, out, ctx, train_set, val_set)


def _fit(cfg: TrainConfig, out: Path, ctx, train_set, val_set) -> dict:
    if cfg.augment:
        train_set = Transformed(train_set, PanoramaAugment(roll=cfg.view == "panorama"))
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    progress = resume(cfg, out / LAST, model, optimizer, ctx) if cfg.resume else Progress()
    net = DistributedDataParallel(model) if ctx.active else model
    level = level_of(cfg)
    for epoch in range(progress.start, cfg.epochs):
        started = time.perf_counter()
        loader = epoch_loader(train_set, ctx, cfg.batch_size, cfg.workers, seed=cfg.seed * 100003 + epoch)
        loss = train_one_epoch(net, optimizer, loader, ctx, cfg.amp, cfg.clip, f"epoch {epoch + 1}/{cfg.epochs}",
                               cfg.progress and ctx.main, ignore_index=level.void)
        images_per_s = len(train_set) / (time.perf_counter() - started)  # all processes together
        result = (scores(evaluate(model, val_set, ctx, cfg.batch_size, cfg.amp, level=level).pixel_confusion(), level)
                  if len(val_set) else None)
        end_epoch(cfg, out, ctx, model, optimizer, progress, epoch, loss, None if result is None else result["miou"],
                  started, images_per_s)
    return finish(cfg, out, ctx, model, progress)


def end_epoch(cfg, out: Path, ctx, model, optimizer, progress: Progress, epoch: int, loss: float, value, started: float,
              images_per_s: float, kind: str = "unet", score: Score = MIOU) -> None:
    """Records the epoch (loss, validation ``score`` ``value`` or None, seconds since ``started``,
    training images per second), keeps the best score and writes the checkpoints from the first
    process; without a score the last epoch counts as the best. A non-finite loss or weights stop
    the run before any checkpoint takes them."""
    check_finite(loss, model, f"epoch {epoch + 1}")
    progress.history.append({"epoch": epoch + 1, "loss": loss, f"val_{score.key}": value,
                             "seconds": round(time.perf_counter() - started, 2),
                             "train_images_per_s": round(images_per_s, 2)})
    current = -math.inf if value is None else value
    improved = current > progress.best or (value is None and epoch == cfg.epochs - 1)
    progress.best = max(progress.best, current)
    if ctx.main:
        save(cfg, out, model, optimizer, epoch, progress, improved, kind, score)
    distributed.barrier(ctx)


def finish(cfg, out: Path, ctx, model, progress: Progress, score: Score = MIOU) -> dict:
    """The run's summary (with the model's parameter count), also written to ``out/summary.json``
    by the first process."""
    summary = {"config": cfg.as_dict(), "parameters": sum(p.numel() for p in model.parameters()),
               f"best_val_{score.key}": None if progress.best == -math.inf else progress.best,
               "history": progress.history, "last": str(out / LAST), "best": str(out / BEST)}
    if ctx.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def resume(cfg, path: Path, model, optimizer, ctx, kind: str = "unet", score: Score = MIOU) -> Progress:
    """Loads ``path`` into the model and optimiser if it exists (refusing a checkpoint of another
    kind or run); where the run stands."""
    if not path.is_file():
        return Progress()
    state = checkpoint.load_for_resume(path, cfg, kind, map_location=ctx.device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if ctx.main:
        print(f"resuming {path} after epoch {state['epoch'] + 1}")
    return Progress(state["epoch"] + 1, state[f"best_{score.key}"], state["history"])


def save(cfg, out: Path, model, optimizer, epoch: int, progress: Progress, improved: bool, kind: str = "unet",
         score: Score = MIOU) -> None:
    """``last.pt`` (and ``best.pt`` if the epoch improved), atomically, with one line of news."""
    state = {"kind": kind, "config": cfg.as_dict(), "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "epoch": epoch, f"best_{score.key}": progress.best,
             "history": progress.history}
    if improved:
        save_atomically(state, out / BEST)
    save_atomically(state, out / LAST)
    value = progress.history[-1][f"val_{score.key}"]
    print(f"epoch {epoch + 1}: loss {progress.history[-1]['loss']:.4f}, val {score.title} "
          f"{'n/a' if value is None else f'{value:.4f}'}{' (best)' if improved else ''}")
