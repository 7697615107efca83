"""An OSLSM run on one fold: the engine's trainer (``engine.trainer``) with this job's pieces:
per epoch a fresh seeded draw of training episodes (base classes only), OSLSM, the episode
loss, and ``last.pt`` only (no validation score). Resumes bit-identically: the episodes and
their order follow from the seed and the epoch. Under ``torchrun`` it trains with
DistributedDataParallel (gloo on CPU, nccl on GPU)."""
from panosis_models.data.datasets import derive_seed, prerender
from panosis_models.data.episodes import Episodes, base_classes, holders
from panosis_models.engine import distributed
from panosis_models.engine.trainer import Job, fit, launch
from panosis_models.oneshot.config import OneShotConfig, build_model, training_panoramas
from panosis_models.oneshot.loop import episode_loss

KIND = "oslsm"


def train(cfg: OneShotConfig) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``."""
    return launch(cfg, lambda out, ctx: fit(cfg, job(cfg, ctx), out, ctx))


def job(cfg: OneShotConfig, ctx: distributed.Context) -> Job:
    """The trainer's pieces for ``cfg``: its panoramas rendered (and cached) by one process
    before every process reads them."""
    panoramas, classes = training_panoramas(cfg), base_classes(cfg.fold)
    if ctx.main:
        prerender(panoramas, cfg.progress)
    distributed.barrier(ctx)
    index = holders(panoramas, classes)

    def episodes(epoch: int) -> Episodes:
        return Episodes(panoramas, classes, cfg.episodes, derive_seed(cfg.seed, "episodes", epoch), index=index,
                        more="raise --num")

    summary = {"base_classes": list(classes), "panoramas_per_class": {c: len(v) for c, v in index.items()}}
    return Job(KIND, build_model, episode_loss, episodes, summary=summary)
