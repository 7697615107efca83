"""Train OSMIS on one image-mask pair: ``python -m panosis_models.osmis.train``.

Without ``--image``/``--mask`` the pair is a rendered synthetic street panorama. The run folder
gets ``last.pt`` (written atomically every ``--checkpoint-every`` steps and at the end;
``--resume`` continues from it), ``previews/`` (PNG grids of generated images beside their
colour masks, from the averaged generator and fixed noise), ``losses.png`` and
``summary.json``. ``--conv equi`` builds every 3x3 convolution of both networks from
EquiConv2d; a full panorama (width twice the height, or ``--panorama``) is augmented by
turning the camera instead of translating.
"""
import argparse
import copy
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from .. import checkpoint
from ..convs import CONV_KINDS
from ..train import size_arg
from .attention import straight_through
from .diff_augment import JointAugment
from .discriminator import Discriminator
from .ema import ema_decay, update_ema
from .generator import NOISE_DIM, Generator
from .losses import adversarial, diversity
from .pair import TrainingPair, load_pair, synthetic_pair, to_labels
from .previews import pair_grid, save_loss_curves
from .sizes import generator_blocks

LAST = "last.pt"
PREVIEW_SAMPLES = 6
LOG_EVERY = 10  # steps averaged into one history entry
# what the saved networks are: a resumed run must agree on all of it
ARCHITECTURE = ("image", "mask", "pair_seed", "size", "conv", "panorama", "channels_g", "channels_d",
                "noise_dim")


@dataclass
class OsmisConfig:
    """Everything that defines a run; saved in its checkpoint."""
    out: str = "runs/osmis"
    image: str = None              # PNG; None: a rendered synthetic panorama
    mask: str = None               # index or palette-colour PNG, with --image
    pair_seed: int = 0             # synthetic pair: which world
    size: tuple = (128, 256)       # (H, W) trained and generated
    conv: str = "std"
    panorama: bool = None          # None: a full panorama when W == 2 H
    iterations: int = 5000
    batch_size: int = 5
    lr: float = 2e-4
    betas: tuple = (0.5, 0.999)
    channels_g: int = 32           # base width of the generator
    channels_d: int = 32           # base width of the discriminator
    noise_dim: int = NOISE_DIM
    diversity: float = 0.15        # weight of the diversity regulariser
    feature_augment: float = 0.4   # probability of each content / layout feature augmentation
    augment: float = 0.7           # probability of each differentiable augmentation (a reduced set: high)
    # Bernoulli hard masks before this step, argmax after (as OSMIS: 15000). The switch must
    # wait until the generator's masks are confident: an argmax of near-even probabilities
    # flips whole masks to one class at the slightest push, and training collapsed with it.
    warmup: int = 15000
    ema: float = 0.9999
    checkpoint_every: int = 500
    preview_every: int = 500
    seed: int = 0
    device: str = field(default_factory=lambda: "cuda" if torch.cuda.is_available() else "cpu")
    resume: bool = False
    progress: bool = True

    def validate(self) -> None:
        if self.conv not in CONV_KINDS:
            raise ValueError(f"conv must be one of {CONV_KINDS}, got {self.conv!r}")
        if (self.image is None) != (self.mask is None):
            raise ValueError("image and mask must be given together (or neither, for a synthetic pair)")
        if len(self.size) != 2:
            raise ValueError(f"size must be (H, W), got {self.size!r}")
        generator_blocks(*self.size)  # raises with a suggestion if the size cannot be generated
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be a whole number of steps, at least 0, got {self.warmup!r}")
        for name in ("iterations", "batch_size", "channels_g", "channels_d", "noise_dim",
                     "checkpoint_every", "preview_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("feature_augment", "augment"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.lr <= 0 or self.diversity < 0 or not 0 <= self.ema < 1:
            raise ValueError(f"need lr > 0, diversity >= 0 and 0 <= ema < 1, got lr={self.lr}, "
                             f"diversity={self.diversity}, ema={self.ema}")

    @property
    def is_panorama(self) -> bool:
        return self.size[1] == 2 * self.size[0] if self.panorama is None else self.panorama

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "OsmisConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})


def training_pair(cfg: OsmisConfig) -> TrainingPair:
    if cfg.image is None:
        return synthetic_pair(cfg.pair_seed, cfg.size)
    return load_pair(cfg.image, cfg.mask, cfg.size)


def generator_args(cfg: OsmisConfig, num_classes: int) -> dict:
    """Constructor arguments of the generator, saved so ``generate`` can rebuild it."""
    return dict(num_classes=num_classes, size=list(cfg.size), base_channels=cfg.channels_g,
                noise_dim=cfg.noise_dim, conv=cfg.conv, panorama=cfg.is_panorama)


class Trainer:
    """The networks, optimisers and step of one run."""

    def __init__(self, cfg: OsmisConfig, pair: TrainingPair):
        self.cfg, self.pair = cfg, pair
        self.device = torch.device(cfg.device)
        classes = len(pair.label_set)
        torch.manual_seed(cfg.seed)
        self.generator = Generator(**generator_args(cfg, classes)).to(self.device)
        self.discriminator = Discriminator(classes, cfg.size, cfg.channels_d, cfg.conv, cfg.feature_augment,
                                           cfg.is_panorama).to(self.device)
        self.average = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.augment = JointAugment(cfg.is_panorama, cfg.augment)
        one_hot = pair.one_hot()
        batch = cfg.batch_size
        self.real_images = [s.to(self.device).expand(batch, -1, -1, -1)
                            for s in pair.pyramid(len(self.generator.blocks))]
        self.real_mask = one_hot.to(self.device)[None].expand(batch, -1, -1, -1)
        self.label_shares = one_hot.mean((1, 2)).tolist()  # saved, for generate's statistics
        self.step, self.history = 0, []

    def _fake(self, sample_masks: bool) -> tuple:
        out = self.generator(self.generator.noise(self.cfg.batch_size, self.device))
        return out, self.augment(out["images"], straight_through(out["mask"], sample_masks))

    def train_step(self) -> dict:
        """One discriminator and one generator update; returns the loss terms."""
        sample_masks = self.step < self.cfg.warmup
        self.discriminator.requires_grad_(True)
        with torch.no_grad():
            _, (fake_images, fake_mask) = self._fake(sample_masks)
        real_images, real_mask = self.augment(self.real_images, self.real_mask)
        real = self.discriminator(real_images, real_mask, augment=True)
        fake = self.discriminator(fake_images, fake_mask)
        d_real = adversarial(real, real_mask, real=True)
        d_fake = adversarial(fake, fake_mask, real=False)
        loss_d = sum(d_real.values()) + sum(d_fake.values())
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        self.discriminator.requires_grad_(False)
        out, (fake_images, fake_mask) = self._fake(sample_masks)
        g_terms = adversarial(self.discriminator(fake_images, fake_mask), fake_mask, real=True)
        regulariser = self.cfg.diversity * diversity(out["features"])
        loss_g = sum(g_terms.values()) + regulariser
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        update_ema(self.average, self.generator, ema_decay(self.step, self.cfg.ema))
        self.step += 1
        return {"d_real": sum(d_real.values()).item(), "d_fake": sum(d_fake.values()).item(),
                **{f"g_{k}": v.item() for k, v in g_terms.items()}, "diversity": regulariser.item()}

    def state(self) -> dict:
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {"config": self.cfg.as_dict(), "label_set": list(self.pair.label_set),
                "label_shares": self.label_shares,
                "generator_args": generator_args(self.cfg, len(self.pair.label_set)),
                "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "ema": self.average.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "step": self.step, "history": self.history, "rng": rng}

    def load(self, state: dict) -> None:
        saved = OsmisConfig.from_dict(state["config"])
        for name in ARCHITECTURE:
            if getattr(saved, name) != getattr(self.cfg, name):
                raise ValueError(f"cannot resume: the checkpoint has {name}={getattr(saved, name)!r}, "
                                 f"this run {getattr(self.cfg, name)!r}")
        if tuple(state["label_set"]) != self.pair.label_set:
            raise ValueError(f"cannot resume: the checkpoint's labels {state['label_set']} differ from the "
                             f"pair's {list(self.pair.label_set)}")
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.average.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step, self.history = state["step"], state["history"]
        torch.set_rng_state(state["rng"]["cpu"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)

    @torch.no_grad()
    def preview(self, path: Path) -> None:
        """The real pair, then samples of the averaged generator from fixed noise."""
        noise = self.average.noise(PREVIEW_SAMPLES, generator=torch.Generator().manual_seed(self.cfg.seed))
        out = self.average(noise.to(self.device))
        labels = to_labels(out["mask"].argmax(1), self.pair.label_set)
        images = torch.cat([self.pair.image[None].to(self.device), out["images"][-1]])
        labels = torch.cat([self.pair.labels[None].to(self.device), labels])
        path.parent.mkdir(parents=True, exist_ok=True)
        pair_grid(images, labels).save(path)


def train(cfg: OsmisConfig) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``."""
    cfg.validate()
    out = Path(cfg.out)
    trainer = Trainer(cfg, training_pair(cfg))
    if cfg.resume and (out / LAST).is_file():
        trainer.load(checkpoint.load(out / LAST, map_location=trainer.device))
        print(f"resuming {out / LAST} at step {trainer.step}")
    started, window = time.perf_counter(), []
    bar = tqdm(total=cfg.iterations, initial=trainer.step, desc="OSMIS", disable=not cfg.progress)
    while trainer.step < cfg.iterations:
        window.append(trainer.train_step())
        bar.update(1)
        step = trainer.step
        if len(window) == LOG_EVERY or step == cfg.iterations:
            trainer.history.append({"step": step, **{k: sum(w[k] for w in window) / len(window) for k in window[0]}})
            bar.set_postfix(d=f"{trainer.history[-1]['d_real'] + trainer.history[-1]['d_fake']:.3f}",
                            g=f"{trainer.history[-1]['g_low-level']:.3f}")
            window = []
        if step % cfg.preview_every == 0 or step == cfg.iterations:
            trainer.preview(out / "previews" / f"step_{step:07d}.png")
        if step % cfg.checkpoint_every == 0 or step == cfg.iterations:
            checkpoint.save_atomically(trainer.state(), out / LAST)
    bar.close()
    save_loss_curves(trainer.history, out / "losses.png")
    summary = {"config": cfg.as_dict(), "label_set": list(trainer.pair.label_set), "steps": trainer.step,
               "seconds": round(time.perf_counter() - started, 1), "checkpoint": str(out / LAST),
               "final_losses": trainer.history[-1] if trainer.history else None}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def parser() -> argparse.ArgumentParser:
    d = OsmisConfig()
    p = argparse.ArgumentParser(prog="python -m panosis_models.osmis.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=d.out, help="run folder")
    p.add_argument("--image", default=None, help="the training image (PNG); default: a synthetic panorama")
    p.add_argument("--mask", default=None, help="its mask: index PNG (labels 0-7) or palette colours")
    p.add_argument("--pair-seed", type=int, default=d.pair_seed, help="synthetic pair: which world")
    p.add_argument("--size", type=size_arg, default=d.size, help="HxW trained and generated, e.g. 128x256")
    p.add_argument("--conv", choices=CONV_KINDS, default=d.conv, help="3x3 convolutions of G and D")
    p.add_argument("--panorama", action=argparse.BooleanOptionalAction, default=None,
                   help="treat the pair as a full panorama (default: when W == 2H)")
    p.add_argument("--iterations", type=int, default=d.iterations)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--channels-g", type=int, default=d.channels_g, help="generator base width")
    p.add_argument("--channels-d", type=int, default=d.channels_d, help="discriminator base width")
    p.add_argument("--diversity", type=float, default=d.diversity, help="diversity regulariser weight")
    p.add_argument("--augment", type=float, default=d.augment, help="differentiable augmentation probability")
    p.add_argument("--feature-augment", type=float, default=d.feature_augment)
    p.add_argument("--warmup", type=int, default=d.warmup, help="Bernoulli hard masks before this step")
    p.add_argument("--ema", type=float, default=d.ema)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--preview-every", type=int, default=d.preview_every)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt if it exists")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv=None) -> dict:
    return train(OsmisConfig(**vars(parser().parse_args(argv))))


if __name__ == "__main__":
    main()
