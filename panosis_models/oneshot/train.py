"""An OSLSM run on one fold: per epoch a fresh seeded draw of training episodes (base classes
only), ``train_one_epoch`` and an atomic ``last.pt`` (resumable, bit-identically: the episodes
and their order follow from the seed and the epoch). Under ``torchrun`` it trains with
DistributedDataParallel (gloo on CPU, nccl on GPU); only the first process writes.
``python -m panosis_models.oneshot.train`` runs the ``panosis-oneshot-train`` command."""
import json
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from panosis_models.atomic import save_atomically
from panosis_models.engine.config import LAST
from panosis_models.data.datasets import derive_seed, prerender
from panosis_models.data.episodes import Episodes, base_classes, holders
from panosis_models.engine import checkpoint, distributed
from panosis_models.engine.outputs import run_folder
from panosis_models.engine.loop import check_finite, epoch_loader
from panosis_models.oneshot.config import OneShotConfig, build_model, training_panoramas
from panosis_models.oneshot.loop import train_one_epoch


def train(cfg: OneShotConfig) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``."""
    cfg.validate()
    with run_folder(cfg.out, cfg.resume, cfg.overwrite, main=distributed.first_process()) as out:
        with distributed.group(cfg.device) as ctx:
            return _fit(cfg, out, ctx)


def _fit(cfg: OneShotConfig, out: Path, ctx) -> dict:
    panoramas, classes = training_panoramas(cfg), base_classes(cfg.fold)
    if ctx.main:  # rendered (and cached) by one process, before every process reads them all
        prerender(panoramas, cfg.progress)
    distributed.barrier(ctx)
    index = holders(panoramas, classes)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start, history = resume(cfg, out / LAST, model, optimizer, ctx) if cfg.resume else (0, [])
    net = DistributedDataParallel(model) if ctx.active else model
    for epoch in range(start, cfg.epochs):
        started = time.perf_counter()
        episodes = Episodes(panoramas, classes, cfg.episodes, derive_seed(cfg.seed, "episodes", epoch), index=index,
                            more="raise --num")
        loader = epoch_loader(episodes, ctx, cfg.batch_size, cfg.workers, seed=cfg.seed * 100003 + epoch)
        loss = train_one_epoch(net, optimizer, loader, ctx, cfg.amp, cfg.clip, f"epoch {epoch + 1}/{cfg.epochs}",
                               cfg.progress and ctx.main)
        check_finite(loss, model, f"epoch {epoch + 1}")
        history.append({"epoch": epoch + 1, "loss": loss, "seconds": round(time.perf_counter() - started, 2)})
        if ctx.main:
            save(cfg, out, model, optimizer, epoch, history)
        distributed.barrier(ctx)
    summary = {"config": cfg.as_dict(), "base_classes": list(classes),
               "panoramas_per_class": {c: len(v) for c, v in index.items()}, "history": history,
               "last": str(out / LAST)}
    if ctx.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def resume(cfg: OneShotConfig, path: Path, model, optimizer, ctx) -> tuple:
    """(next epoch, history) after loading ``path`` into the model and optimiser if it exists
    (refusing a checkpoint of another run)."""
    if not path.is_file():
        return 0, []
    state = checkpoint.load_for_resume(path, cfg, "oslsm", map_location=ctx.device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if ctx.main:
        print(f"resuming {path} after epoch {state['epoch'] + 1}")
    return state["epoch"] + 1, state["history"]


def save(cfg: OneShotConfig, out: Path, model, optimizer, epoch: int, history: list) -> None:
    state = {"kind": "oslsm", "config": cfg.as_dict(), "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "epoch": epoch, "history": history}
    save_atomically(state, out / LAST)
    print(f"epoch {epoch + 1}: loss {history[-1]['loss']:.4f}")


if __name__ == "__main__":  # the spelling issue 20 gives; the command itself lives in cli/
    from panosis_models.cli.oneshot_train import main
    main()
