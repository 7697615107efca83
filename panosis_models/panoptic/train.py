"""A panoptic run: the engine's trainer (``engine.trainer``) with this job's pieces: the seeded
split of panoramas with instance ids at the run's level (augmented, then their targets computed
on the sphere after the augmentation), Panoptic-DeepLab on the chosen trunk, its loss, and the
validation PQ that picks ``best.pt``. Under ``torchrun`` it trains with
DistributedDataParallel."""
from functools import partial

from torch.utils.data import Dataset

from panosis_models.data import PanoramaAugment, Transformed
from panosis_models.data.panoptic_targets import PanopticTargets
from panosis_models.data.source import split
from panosis_models.engine.trainer import Job, Score, fit, launch
from panosis_models.panoptic.config import PanopticConfig, build_model
from panosis_models.panoptic.loop import evaluate
from panosis_models.panoptic.loss import panoptic_loss

KIND = "panoptic"
PQ = Score("pq", "PQ")


def train(cfg: PanopticConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets (items ``(image, fine, instances)``), ``cfg`` names the data and
    its seeded split."""
    return launch(cfg, lambda out, ctx: fit(cfg, job(cfg, train_set, val_set), out, ctx))


def job(cfg: PanopticConfig, train_set: Dataset = None, val_set: Dataset = None) -> Job:
    """The trainer's pieces for ``cfg`` (on its own split unless data sets are given)."""
    if train_set is None:
        train_set, val_set, _ = split(cfg, instances=True)
    level = cfg.panoptic_level
    train_set, val_set = Transformed(train_set, level.item), Transformed(val_set, level.item)
    if cfg.augment:
        train_set = Transformed(train_set, PanoramaAugment())
    train_set = Transformed(train_set, PanopticTargets())

    def validate(model, ctx):
        if not len(val_set):
            return None
        return evaluate(model, val_set, ctx, cfg.batch_size, cfg.amp, level=level)[0].report()["pixel"]["all"]["pq"]

    loss = partial(panoptic_loss, hard_pixels=cfg.hard_pixels, small_instance_weight=cfg.small_instance_weight,
                   center_weight=cfg.center_weight, offset_weight=cfg.offset_weight, thing_weight=cfg.thing_weight,
                   things=level.things)
    return Job(KIND, build_model, loss, lambda epoch: train_set, validate, PQ)
