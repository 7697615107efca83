"""A panoptic run: the seeded split of its data, then per epoch ``train_one_epoch`` (augmented
items, their targets computed on the sphere after the augmentation), ``evaluate`` on the
validation part and an atomic checkpoint (``last.pt`` every epoch, resumable; ``best.pt`` the
best validation PQ), as the segmentation runs do. Under ``torchrun`` it trains with
DistributedDataParallel; only the first process writes."""
import json
import math
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from panosis_models.config import BEST, LAST
from panosis_models.data import PanoramaAugment, Transformed
from panosis_models.data.panoptic_targets import PanopticTargets
from panosis_models.engine import distributed
from panosis_models.engine.outputs import writable_folder
from panosis_models.engine.segmentation import epoch_loader
from panosis_models.panoptic.config import PanopticConfig, build_model, split
from panosis_models.panoptic.loop import evaluate, train_one_epoch
from panosis_models.segmentation.train import Progress, Score, resume, save

KIND = "panoptic"
PQ = Score("pq", "PQ")


def train(cfg: PanopticConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets (items ``(image, fine, instances)``), ``cfg`` names the data and
    its seeded split."""
    cfg.validate()
    out = writable_folder(cfg.out)
    if train_set is None:
        train_set, val_set, _ = split(cfg)
    ctx = distributed.setup(cfg.device)
    try:
        return _fit(cfg, out, ctx, train_set, val_set)
    finally:
        distributed.teardown(ctx)


def _fit(cfg: PanopticConfig, out: Path, ctx, train_set, val_set) -> dict:
    if cfg.augment:
        train_set = Transformed(train_set, PanoramaAugment())
    train_set = Transformed(train_set, PanopticTargets())
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    progress = resume(cfg, out / LAST, model, optimizer, ctx, KIND, PQ) if cfg.resume else Progress()
    net = DistributedDataParallel(model) if ctx.active else model
    for epoch in range(progress.start, cfg.epochs):
        started = time.perf_counter()
        loader = epoch_loader(train_set, ctx, cfg.batch_size, cfg.workers, seed=cfg.seed * 100003 + epoch)
        loss = train_one_epoch(net, optimizer, loader, ctx, cfg.amp, cfg.clip, f"epoch {epoch + 1}/{cfg.epochs}",
                               cfg.progress and ctx.main, cfg.center_weight, cfg.offset_weight)
        pq = evaluate(model, val_set, ctx, cfg.batch_size, cfg.amp)[0].report()["pixel"]["all"]["pq"] \
            if len(val_set) else None
        progress.history.append({"epoch": epoch + 1, "loss": loss, "val_pq": pq,
                                 "seconds": round(time.perf_counter() - started, 2)})
        score = -math.inf if pq is None else pq
        improved = score > progress.best or (pq is None and epoch == cfg.epochs - 1)
        progress.best = max(progress.best, score)
        if ctx.main:
            save(cfg, out, model, optimizer, epoch, progress, improved, KIND, PQ)
        distributed.barrier(ctx)
    summary = {"config": cfg.as_dict(), "best_val_pq": None if progress.best == -math.inf else progress.best,
               "history": progress.history, "last": str(out / LAST), "best": str(out / BEST)}
    if ctx.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
