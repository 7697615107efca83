"""The one run lifecycle every job goes through: ``launch`` (the checks that must pass before any
work, the run folder held while it runs, the process group under ``torchrun``) and, for the jobs
trained epoch by epoch, ``fit``: seeding, the model, Adam, resume under the config guard,
DistributedDataParallel, per epoch the loader, the training pass, the evaluation and atomic
checkpoints (``last.pt`` every epoch; ``best.pt`` where the job's score improved), then the
summary. A job supplies only its pieces (``Job``); only the first process writes."""
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from panosis_models.atomic import save_atomically
from panosis_models.engine import checkpoint, distributed
from panosis_models.engine.config import BEST, LAST
from panosis_models.engine.loop import check_finite, epoch_loader, train_steps
from panosis_models.engine.outputs import run_folder


@dataclass(frozen=True)
class Score:
    """The validation score a run keeps its best checkpoint by: ``val_<key>`` in the history,
    ``best_<key>`` in checkpoints, ``title`` in the news."""
    key: str
    title: str


@dataclass
class Job:
    """What a job gives the trainer. ``kind``: its checkpoints' kind; ``build_model(cfg)``;
    ``loss(net, *batch)`` of a batch on the device; ``epoch_data(epoch)``: the training items of
    an epoch; ``evaluate(model, ctx)``: the validation score, or None where there is none (then
    the last epoch counts as the best); ``score``: what "best" means, or None for a job that
    keeps only ``last.pt``; ``summary``: fields the job adds to its summary; ``parameters(model,
    lr)``: Adam's parameter groups where some learn at another rate (None: one rate for all)."""
    kind: str
    build_model: Callable
    loss: Callable
    epoch_data: Callable[[int], Dataset]
    evaluate: Optional[Callable] = None
    score: Optional[Score] = None
    summary: dict = field(default_factory=dict)
    parameters: Optional[Callable] = None


@dataclass
class Progress:
    """Where a run stands: the next epoch, the best validation score so far, one entry per epoch."""
    start: int = 0
    best: float = -math.inf
    history: list = field(default_factory=list)


def launch(cfg, run, processes: bool = True):
    """``run(out, ctx)`` after ``cfg.validate()``, in the run folder ``cfg.out`` (checked for
    --resume/--overwrite and held while it runs), in this process's place under ``torchrun``
    (``processes``; a job that never trains in several processes passes False)."""
    cfg.validate()
    if not processes:
        with run_folder(cfg.out, cfg.resume, cfg.overwrite) as out:
            return run(out, distributed.Context(device=torch.device(cfg.device)))
    with run_folder(cfg.out, cfg.resume, cfg.overwrite, main=distributed.first_process()) as out:
        with distributed.group(cfg.device) as ctx:
            return run(out, ctx)


def fit(cfg, job: Job, out: Path, ctx: distributed.Context) -> dict:
    """Trains ``job`` for ``cfg.epochs`` (continuing ``out/last.pt`` with ``cfg.resume``);
    returns the summary also written to ``out/summary.json``."""
    torch.manual_seed(cfg.seed)
    model = job.build_model(cfg).to(ctx.device)
    groups = job.parameters(model, cfg.lr) if job.parameters is not None else model.parameters()
    optimizer = torch.optim.Adam(groups, lr=cfg.lr)
    progress = resume(cfg, job, out / LAST, model, optimizer, ctx) if cfg.resume else Progress()
    net = DistributedDataParallel(model) if ctx.active else model
    for epoch in range(progress.start, cfg.epochs):
        started = time.perf_counter()
        items = job.epoch_data(epoch)
        loader = epoch_loader(items, ctx, cfg.batch_size, cfg.workers, seed=cfg.seed * 100003 + epoch)
        loss = train_steps(net, optimizer, loader, ctx, cfg.amp, cfg.clip, f"epoch {epoch + 1}/{cfg.epochs}",
                           cfg.progress and ctx.main, job.loss)
        images_per_s = len(items) / (time.perf_counter() - started)  # all processes together
        value = job.evaluate(model, ctx) if job.evaluate is not None else None
        end_epoch(cfg, job, out, ctx, model, optimizer, progress, epoch, loss, value, started, images_per_s)
    return finish(cfg, job, out, ctx, model, progress)


def end_epoch(cfg, job: Job, out: Path, ctx, model, optimizer, progress: Progress, epoch: int, loss: float, value,
              started: float, images_per_s: float) -> None:
    """Records the epoch (loss, the validation score's ``value`` or None, seconds since
    ``started``, training images per second), keeps the best score and writes the checkpoints
    from the first process. A non-finite loss or weights stop the run before any checkpoint
    takes them."""
    check_finite(loss, model, f"epoch {epoch + 1}")
    entry = {"epoch": epoch + 1, "loss": loss}
    if job.score is not None:
        entry[f"val_{job.score.key}"] = value
    progress.history.append({**entry, "seconds": round(time.perf_counter() - started, 2),
                             "train_images_per_s": round(images_per_s, 2)})
    current = -math.inf if value is None else value
    improved = job.score is not None and (current > progress.best or (value is None and epoch == cfg.epochs - 1))
    progress.best = max(progress.best, current)
    if ctx.main:
        save(cfg, job, out, model, optimizer, epoch, progress, improved)
    distributed.barrier(ctx)


def finish(cfg, job: Job, out: Path, ctx, model, progress: Progress) -> dict:
    """The run's summary (with the model's parameter count and the job's own fields), also
    written to ``out/summary.json`` by the first process."""
    summary = {"config": cfg.as_dict(), "parameters": sum(p.numel() for p in model.parameters()), **job.summary}
    if job.score is not None:
        summary[f"best_val_{job.score.key}"] = None if progress.best == -math.inf else progress.best
    summary.update(history=progress.history, last=str(out / LAST))
    if job.score is not None:
        summary["best"] = str(out / BEST)
    if ctx.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def resume(cfg, job: Job, path: Path, model, optimizer, ctx) -> Progress:
    """Loads ``path`` into the model and optimiser if it exists (refusing a checkpoint of another
    kind or run); where the run stands."""
    if not path.is_file():
        return Progress()
    state = checkpoint.load_for_resume(path, cfg, job.kind, map_location=ctx.device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if ctx.main:
        print(f"resuming {path} after epoch {state['epoch'] + 1}")
    best = state[f"best_{job.score.key}"] if job.score is not None else -math.inf
    return Progress(state["epoch"] + 1, best, state["history"])


def save(cfg, job: Job, out: Path, model, optimizer, epoch: int, progress: Progress, improved: bool) -> None:
    """``last.pt`` (and ``best.pt`` if the epoch improved), atomically, with one line of news."""
    state = {"kind": job.kind, "config": cfg.as_dict(), "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "epoch": epoch}
    if job.score is not None:
        state[f"best_{job.score.key}"] = progress.best
    state["history"] = progress.history
    if improved:
        save_atomically(state, out / BEST)
    save_atomically(state, out / LAST)
    news = f"epoch {epoch + 1}: loss {progress.history[-1]['loss']:.4f}"
    if job.score is not None:
        value = progress.history[-1][f"val_{job.score.key}"]
        news += f", val {job.score.title} {'n/a' if value is None else f'{value:.4f}'}{' (best)' if improved else ''}"
    print(news)
