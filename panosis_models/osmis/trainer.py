"""One OSMIS run's networks, optimisers and training step: the discriminator and generator
updates, the generator's moving average, its checkpointed state and its previews."""
import copy
from pathlib import Path

import torch

from panosis_models.data.datasets import derive_seed
from panosis_models.errors import InputError
from panosis_models.models.osmis.attention import straight_through
from panosis_models.models.osmis.discriminator import Discriminator
from panosis_models.models.osmis.generator import Generator
from panosis_models.osmis.config import OsmisConfig
from panosis_models.osmis.diff_augment import JointAugment
from panosis_models.osmis.ema import ema_decay, update_ema
from panosis_models.osmis.losses import adversarial, diversity, reconstruction
from panosis_models.osmis.pair import TrainingPair, to_labels
from panosis_models.osmis.previews import pair_grid

PREVIEW_SAMPLES = 6


def generator_args(cfg: OsmisConfig, num_classes: int) -> dict:
    """Constructor arguments of the generator, saved so ``generate`` can rebuild it."""
    return dict(num_classes=num_classes, size=list(cfg.size), base_channels=cfg.channels_g,
                noise_dim=cfg.noise_dim, conv=cfg.conv, panorama=cfg.is_panorama)


def anchor_noise(generator: Generator, seed: int) -> torch.Tensor:
    """The noise held to reproduce the pair: drawn from the run's seed (a resumed run has it
    too), apart from the noise of the previews and of ``generate``."""
    return generator.noise(1, generator=torch.Generator().manual_seed(derive_seed("osmis-anchor", seed)))


class Trainer:
    """The networks, optimisers and step of one run."""

    def __init__(self, cfg: OsmisConfig, pair: TrainingPair):
        self.cfg, self.pair = cfg, pair
        self.device = torch.device(cfg.device)
        classes = len(pair.label_set)
        torch.manual_seed(cfg.seed)
        one_hot = pair.one_hot()
        shares = one_hot.mean((1, 2))
        self.generator = Generator(**generator_args(cfg, classes)).to(self.device)
        self.generator.start_from_shares(shares.to(self.device))
        self.discriminator = Discriminator(classes, cfg.size, cfg.channels_d, cfg.conv, cfg.feature_augment,
                                           cfg.is_panorama).to(self.device)
        self.average = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.augment = JointAugment(cfg.is_panorama, cfg.augment)
        batch = cfg.batch_size
        pyramid = [s.to(self.device) for s in pair.pyramid(len(self.generator.blocks))]
        self.real_images = [s.expand(batch, -1, -1, -1) for s in pyramid]
        self.real_mask = one_hot.to(self.device)[None].expand(batch, -1, -1, -1)
        # the anchor noise and the one pair it must reproduce
        self.anchor = anchor_noise(self.generator, cfg.seed).to(self.device)
        self.anchor_target = (pyramid, self.real_mask[0])
        self.label_shares = shares.tolist()  # saved, for generate's statistics
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
        rebuilt = torch.zeros((), device=self.device)
        if self.cfg.reconstruction > 0:
            rebuilt = self.cfg.reconstruction * reconstruction(self.generator(self.anchor), *self.anchor_target)
        loss_g = sum(g_terms.values()) + regulariser + rebuilt
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        update_ema(self.average, self.generator, ema_decay(self.step, self.cfg.ema))
        self.step += 1
        return {"d_real": sum(d_real.values()).item(), "d_fake": sum(d_fake.values()).item(),
                **{f"g_{k}": v.item() for k, v in g_terms.items()}, "diversity": regulariser.item(),
                "reconstruction": rebuilt.item()}

    def state(self) -> dict:
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {"kind": "osmis", "config": self.cfg.as_dict(), "label_set": list(self.pair.label_set),
                "label_shares": self.label_shares,
                "generator_args": generator_args(self.cfg, len(self.pair.label_set)),
                "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "ema": self.average.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "step": self.step, "history": self.history, "rng": rng}

    def load(self, state: dict) -> None:
        """Continues from ``state`` (a checkpoint already checked against the run's config)."""
        if tuple(state["label_set"]) != self.pair.label_set:
            raise InputError(f"cannot resume: the checkpoint's labels {state['label_set']} differ from the "
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
