"""A one-shot run on one fold: the engine's trainer (``engine.trainer``) with this job's pieces:
per epoch a fresh seeded draw of training episodes (base classes only; novel-class query pixels
ignored, or background with ``novel="background"``), the network (prototype or OSLSM; OSLSM
``pretrained`` starts both its encoders from a prototype run's and fine-tunes its conditioning
branch at ``condition_lr`` of the rate), the episode loss, and after each epoch the decision
threshold chosen on base-class validation episodes (``oneshot.threshold``; their mean IoU picks
``best.pt``). Resumes bit-identically: the episodes and their order follow from the seed and the
epoch. Under ``torchrun`` it trains with DistributedDataParallel (gloo on CPU, nccl on GPU)."""
from functools import partial

from panosis_models.data.datasets import derive_seed, prerender
from panosis_models.data.episodes import Episodes, base_classes, holders, novel_classes
from panosis_models.engine import checkpoint, distributed
from panosis_models.engine.trainer import Job, Score, fit, launch
from panosis_models.errors import InputError
from panosis_models.oneshot.config import OneShotConfig, build_model, training_panoramas
from panosis_models.oneshot.loop import episode_loss
from panosis_models.oneshot.threshold import choose_threshold, validation_episodes

KIND = "oslsm"  # every one-shot checkpoint's kind (the first method's name)
SCORE = Score("miou", "base-class mIoU")


def train(cfg: OneShotConfig) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``."""
    if cfg.pretrained is not None:
        cfg.validate()
        pretrained_start(cfg)  # a wrong file is refused before any work
    return launch(cfg, lambda out, ctx: fit(cfg, job(cfg, ctx), out, ctx))


def pretrained_start(cfg: OneShotConfig) -> tuple:
    """(encoder weights, cue weights in logit units or None) of the prototype run
    ``cfg.pretrained``, refused unless it was trained on the same fold with the same network."""
    state = checkpoint.load(cfg.pretrained, KIND)
    saved = OneShotConfig.from_dict(state["config"])
    differ = [f"{name}={getattr(saved, name)!r}" for name in ("fold", "conv", "channels", "batch_norm", "size", "latitude")
              if getattr(saved, name) != getattr(cfg, name)]
    if saved.method != "prototype" or differ:
        raise InputError(f"--pretrained {cfg.pretrained} must be a prototype run of fold {cfg.fold} with this "
                         f"network, got method={saved.method!r}" + "".join(", " + d for d in differ))
    encoder = {k[len("encoder."):]: v for k, v in state["model"].items() if k.startswith("encoder.")}
    cues = state["model"].get("cue_weights")
    return encoder, None if cues is None else cues * build_model(saved).scale


def job(cfg: OneShotConfig, ctx: distributed.Context) -> Job:
    """The trainer's pieces for ``cfg``: its panoramas rendered (and cached) by one process
    before every process reads them."""
    panoramas, classes = training_panoramas(cfg), base_classes(cfg.fold)
    validation = validation_episodes(cfg) if cfg.validation else None
    if ctx.main:
        prerender(panoramas, cfg.progress)
        if validation is not None:
            prerender(validation.dataset, cfg.progress)
    distributed.barrier(ctx)
    index = holders(panoramas, classes)
    ignore = novel_classes(cfg.fold) if cfg.novel == "ignore" else ()

    def episodes(epoch: int) -> Episodes:
        return Episodes(panoramas, classes, cfg.episodes, derive_seed(cfg.seed, "episodes", epoch), index=index,
                        more="raise --num", ignore=ignore)

    def model(cfg: OneShotConfig):
        net = build_model(cfg)
        if cfg.pretrained is not None:
            net.start_from(*pretrained_start(cfg))
        return net

    def parameters(net, lr: float):
        return net.parameter_groups(lr, lr * cfg.condition_lr) if cfg.pretrained is not None else net.parameters()

    loss = partial(episode_loss, align=cfg.align)
    summary = {"base_classes": list(classes), "panoramas_per_class": {c: len(v) for c, v in index.items()}}
    if validation is None:
        return Job(KIND, model, loss, episodes, summary=summary, parameters=parameters)
    return Job(KIND, model, loss, episodes, evaluate=lambda net, ctx: choose_threshold(net, validation, ctx),
               score=SCORE, summary=summary, parameters=parameters)
