"""An OSMIS run on one image-mask pair, through the engine's run lifecycle (``engine.trainer.
launch``: the checks, the run folder; resume under the config guard; atomic checkpoints) with
its own step loop, since a GAN steps two optimisers: ``last.pt`` written atomically every
``checkpoint_every`` steps and at the end (``resume`` continues from it), ``previews/`` (the
averaged generator's samples from fixed noise beside their colour masks), ``losses.png`` and
``summary.json``."""
import json
import time
from pathlib import Path

from tqdm import tqdm

from panosis_models.atomic import save_atomically
from panosis_models.engine.config import LAST
from panosis_models.engine import checkpoint
from panosis_models.engine.loop import check_finite
from panosis_models.engine.trainer import launch
from panosis_models.osmis.config import OsmisConfig
from panosis_models.osmis.pair import training_pair
from panosis_models.plots import save_loss_curves
from panosis_models.osmis.trainer import Trainer

LOG_EVERY = 10  # steps averaged into one history entry


def train(cfg: OsmisConfig) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``."""
    return launch(cfg, lambda out, ctx: _train(cfg, out), processes=False)


def _train(cfg: OsmisConfig, out: Path) -> dict:
    trainer = Trainer(cfg, training_pair(cfg))
    if cfg.resume and (out / LAST).is_file():
        trainer.load(checkpoint.load_for_resume(out / LAST, cfg, "osmis", map_location=trainer.device))
        print(f"resuming {out / LAST} at step {trainer.step}")
    started = time.perf_counter()
    train_steps(trainer, out)
    save_loss_curves(trainer.history, out / "losses.png")
    summary = {"config": cfg.as_dict(), "label_set": list(trainer.pair.label_set), "steps": trainer.step,
               "seconds": round(time.perf_counter() - started, 1), "checkpoint": str(out / LAST),
               "final_losses": trainer.history[-1] if trainer.history else None}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def train_steps(trainer: Trainer, out: Path) -> None:
    """Steps until ``iterations``: the losses averaged into the history every ``LOG_EVERY``
    steps, previews and checkpoints at their intervals and at the end."""
    cfg, window = trainer.cfg, []
    bar = tqdm(total=cfg.iterations, initial=trainer.step, desc="OSMIS", disable=not cfg.progress)
    while trainer.step < cfg.iterations:
        window.append(trainer.train_step())
        bar.update(1)
        step = trainer.step
        check_finite(sum(window[-1].values()), trainer.generator, f"step {step}")
        if len(window) == LOG_EVERY or step == cfg.iterations:
            trainer.history.append({"step": step, **{k: sum(w[k] for w in window) / len(window) for k in window[0]}})
            bar.set_postfix(d=f"{trainer.history[-1]['d_real'] + trainer.history[-1]['d_fake']:.3f}",
                            g=f"{trainer.history[-1]['g_low-level']:.3f}")
            window = []
        if step % cfg.preview_every == 0 or step == cfg.iterations:
            trainer.preview(out / "previews" / f"step_{step:07d}.png")
        if step % cfg.checkpoint_every == 0 or step == cfg.iterations:
            save_atomically(trainer.state(), out / LAST)
    bar.close()
