"""A segmentation run: the engine's trainer (``engine.trainer``) with this job's pieces: the
seeded split of its data (augmented for training), the U-Net or PSPNet, cross-entropy (its class
weights, if any, from the training masks: ``class_weight``), and the
validation mIoU that picks ``best.pt``. Under ``torchrun`` it trains with
DistributedDataParallel (gloo on CPU, nccl on GPU)."""
from functools import partial

from torch.utils.data import Dataset

from panosis_models.data import PanoramaAugment, Transformed
from panosis_models.data.source import split
from panosis_models.engine.trainer import Job, Score, fit, launch
from panosis_models.metrics import scores
from panosis_models.segmentation.class_weight import class_weights
from panosis_models.segmentation.config import TrainConfig, build_model
from panosis_models.segmentation.loop import evaluate, segmentation_loss

KIND = "unet"
MIOU = Score("miou", "mIoU")


def train(cfg: TrainConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets, ``cfg`` names the data and its seeded split."""
    return launch(cfg, lambda out, ctx: fit(cfg, job(cfg, train_set, val_set), out, ctx))


def job(cfg: TrainConfig, train_set: Dataset = None, val_set: Dataset = None) -> Job:
    """The trainer's pieces for ``cfg`` (on its own split unless data sets are given)."""
    if train_set is None:
        train_set, val_set, _ = split(cfg)
    level = cfg.label_level
    weight = class_weights(cfg.class_weight, train_set, level.num_outputs)
    if cfg.augment:
        train_set = Transformed(train_set, PanoramaAugment(roll=cfg.view == "panorama", tilt=cfg.tilt))

    def validate(model, ctx):
        if not len(val_set):
            return None
        return scores(evaluate(model, val_set, ctx, cfg.batch_size, cfg.amp, level=level).pixel_confusion(),
                      level)["miou"]

    loss = partial(segmentation_loss, ignore_index=level.void, weight=weight)
    return Job(KIND, build_model, loss, lambda epoch: train_set, validate, MIOU)
