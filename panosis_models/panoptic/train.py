"""A panoptic run: the seeded split of its data, then per epoch ``train_one_epoch`` (augmented
items, their targets computed on the sphere after the augmentation), ``evaluate`` on the
validation part and an atomic checkpoint (``last.pt`` every epoch, resumable; ``best.pt`` the
best validation PQ), as the segmentation runs do. Under ``torchrun`` it trains with
DistributedDataParallel; only the first process writes."""
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from panosis_models.engine.config import LAST
from panosis_models.data import PanoramaAugment, Transformed
from panosis_models.data.panoptic_targets import PanopticTargets
from panosis_models.engine.loop import epoch_loader
from panosis_models.panoptic.config import PanopticConfig, build_model
from panosis_models.panoptic.loop import evaluate, train_one_epoch
from panosis_models.segmentation.train import Progress, Score, end_epoch, finish, launch, resume

KIND = "panoptic"
PQ = Score("pq", "PQ")


def train(cfg: PanopticConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets (items ``(image, fine, instances)``), ``cfg`` names the data and
    its seeded split."""
    return launch(cfg, _fit, train_set, val_set, instances=True)


def _fit(cfg: PanopticConfig, out: Path, ctx, train_set, val_set) -> dict:
    level = cfg.panoptic_level
    train_set, val_set = Transformed(train_set, level.item), Transformed(val_set, level.item)
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
                               cfg.progress and ctx.main, hard_pixels=cfg.hard_pixels,
                               small_instance_weight=cfg.small_instance_weight, center_weight=cfg.center_weight,
                               offset_weight=cfg.offset_weight)
        images_per_s = len(train_set) / (time.perf_counter() - started)
        pq = evaluate(model, val_set, ctx, cfg.batch_size, cfg.amp, level=level)[0].report()["pixel"]["all"]["pq"] \
            if len(val_set) else None
        end_epoch(cfg, out, ctx, model, optimizer, progress, epoch, loss, pq, started, images_per_s, KIND, PQ)
    return finish(cfg, out, ctx, model, progress, PQ)
