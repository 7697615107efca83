"""Train the PanOSIS U-Net: ``python -m panosis_models.train`` (or ``panosis-train``).

Synthetic street panoramas by default (``--data PATH`` for a CVRG-Pano folder), a seeded
disjoint train/val/test split, Adam, cross-entropy ignoring the unlabelled class, gradient
clipping, mixed precision on GPU, a checkpoint written atomically every epoch (``--resume``
continues from it) and the best model kept by validation mIoU. Under ``torchrun`` it trains with
DistributedDataParallel (gloo on CPU, nccl on GPU).
"""
import argparse
import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from panosis_models import checkpoint, distributed
from panosis_models.data import (NUM_CLASSES, PanoramaAugment, PanoramaFolder, SyntheticPanoramas, Transformed,
                                 split_indices)
from panosis_models.metrics import IGNORE_INDEX, confusion_matrix, scores
from panosis_models.unet import CONV_KINDS, UNet

LAST, BEST = "last.pt", "best.pt"


@dataclass
class TrainConfig:
    """Everything that defines a run; saved in its checkpoints."""
    out: str = "runs/unet"
    data: str = "synthetic"           # "synthetic" or a folder with rgb/ and mask/
    view: str = "panorama"            # synthetic data: "panorama" or "perspective"
    num: int = 200                    # synthetic data: number of rendered items
    data_seed: int = 0                # synthetic data: which worlds
    size: tuple = (128, 256)          # (H, W) of the network input
    fov: float = 90.0                 # perspective views: horizontal field of view
    conv: str = "std"
    channels: tuple = (32, 64, 128, 256, 512)
    batch_norm: bool = False
    epochs: int = 20
    batch_size: int = 4
    lr: float = 1e-3
    clip: float = 1.0
    split: tuple = (0.8, 0.1, 0.1)
    seed: int = 0
    augment: bool = True
    amp: bool = True                  # bfloat16 autocast on GPU (ignored on CPU)
    workers: int = 0
    device: str = field(default_factory=lambda: "cuda" if torch.cuda.is_available() else "cpu")
    cache_dir: str = None
    resume: bool = False
    progress: bool = True

    def validate(self) -> None:
        if self.conv not in CONV_KINDS:
            raise ValueError(f"conv must be one of {CONV_KINDS}, got {self.conv!r}")
        if self.view not in ("panorama", "perspective"):
            raise ValueError(f"view must be 'panorama' or 'perspective', got {self.view!r}")
        for name in ("epochs", "batch_size", "num"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        multiple = 2 ** (len(self.channels) - 1)
        if len(self.size) != 2 or any(s <= 0 or s % multiple for s in self.size):
            raise ValueError(f"size must be (H, W) with multiples of {multiple} for {len(self.channels)} "
                             f"levels, got {self.size}")
        if self.lr <= 0 or self.clip <= 0:
            raise ValueError(f"lr and clip must be positive, got lr={self.lr}, clip={self.clip}")

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})


def make_dataset(cfg: TrainConfig) -> Dataset:
    if cfg.data == "synthetic":
        return SyntheticPanoramas(cfg.num, *cfg.size, seed=cfg.data_seed, cache_dir=cfg.cache_dir,
                                  kind=cfg.view, fov_deg=cfg.fov)
    return PanoramaFolder(cfg.data, size=cfg.size)


def split(cfg: TrainConfig) -> tuple:
    """(train, val, test) subsets of the run's data: its seeded, disjoint split."""
    data = make_dataset(cfg)
    return tuple(Subset(data, part) for part in split_indices(len(data), cfg.split, seed=cfg.seed))


def build_model(cfg: TrainConfig) -> UNet:
    return UNet(conv=cfg.conv, channels=cfg.channels, batch_norm=cfg.batch_norm)


def autocast(device: torch.device, enabled: bool):
    """bfloat16 autocast on GPU when asked for; a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


@torch.no_grad()
def predict(model, images: torch.Tensor, amp: bool = False) -> torch.Tensor:
    with autocast(images.device, amp):
        return model(images).argmax(1)


def confusion_over(model, dataset: Dataset, ctx: distributed.Context, batch_size: int, amp: bool = False,
                   progress: bool = False, desc: str = "evaluating") -> torch.Tensor:
    """The confusion matrix of ``model`` over ``dataset``, shared out over the processes."""
    was_training = model.training
    model.eval()
    part = Subset(dataset, distributed.shard(range(len(dataset)), ctx))
    total = None
    for images, masks in tqdm(DataLoader(part, batch_size=batch_size), desc=desc, leave=False,
                              disable=not (progress and ctx.main)):
        c = confusion_matrix(predict(model, images.to(ctx.device), amp), masks.to(ctx.device))
        total = c if total is None else total + c
    model.train(was_training)
    if total is None:  # this process's shard was empty
        total = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.int64)
    return distributed.sum_over_processes(total, ctx)


def _state(cfg, model, optimizer, epoch, best, history) -> dict:
    return {"config": cfg.as_dict(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "epoch": epoch, "best_miou": best, "history": history}


def train(cfg: TrainConfig, train_set: Dataset = None, val_set: Dataset = None) -> dict:
    """Runs (or resumes) a training; returns the summary also written to ``out/summary.json``.
    Without explicit data sets, ``cfg`` names the data and its seeded split."""
    cfg.validate()
    ctx = distributed.setup(cfg.device)
    try:
        return _train(cfg, ctx, train_set, val_set)
    finally:
        distributed.teardown(ctx)


def _train(cfg, ctx, train_set, val_set) -> dict:
    out = Path(cfg.out)
    if train_set is None:
        train_set, val_set, _ = split(cfg)
    if cfg.augment:
        train_set = Transformed(train_set, PanoramaAugment(roll=cfg.view == "panorama"))
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start, best, history = 0, -math.inf, []
    if cfg.resume and (out / LAST).is_file():
        state = checkpoint.load(out / LAST, map_location=ctx.device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, best, history = state["epoch"] + 1, state["best_miou"], state["history"]
        if ctx.main:
            print(f"resuming {out / LAST} after epoch {state['epoch'] + 1}")
    net = DistributedDataParallel(model) if ctx.active else model

    for epoch in range(start, cfg.epochs):
        torch.manual_seed(cfg.seed * 100003 + epoch)  # shuffling, augmentation, dropout: resumable
        order = torch.randperm(len(train_set)).tolist()
        order = order[:len(order) - len(order) % ctx.world_size]  # equal shards: DDP steps in lockstep
        loader = DataLoader(Subset(train_set, distributed.shard(order, ctx)), batch_size=cfg.batch_size,
                            num_workers=cfg.workers, drop_last=False)
        net.train()
        started, losses = time.perf_counter(), []
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not (cfg.progress and ctx.main))
        for images, masks in bar:
            images, masks = images.to(ctx.device), masks.to(ctx.device)
            with autocast(ctx.device, cfg.amp):
                logits = net(images)
            loss = F.cross_entropy(logits.float(), masks, ignore_index=IGNORE_INDEX)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        result = scores(confusion_over(model, val_set, ctx, cfg.batch_size, cfg.amp)) if len(val_set) else None
        miou = result["miou"] if result else -math.inf
        history.append({"epoch": epoch + 1, "loss": sum(losses) / max(len(losses), 1),
                        "val_miou": None if result is None else miou,
                        "seconds": round(time.perf_counter() - started, 2)})
        improved = miou > best or (result is None and epoch == cfg.epochs - 1)
        best = max(best, miou)
        if ctx.main:
            state = _state(cfg, model, optimizer, epoch, best, history)
            if improved:
                checkpoint.save_atomically(state, out / BEST)
            checkpoint.save_atomically(state, out / LAST)
            print(f"epoch {epoch + 1}: loss {history[-1]['loss']:.4f}, val mIoU "
                  f"{'n/a' if result is None else f'{miou:.4f}'}{' (best)' if improved else ''}")
        distributed.barrier(ctx)

    summary = {"config": cfg.as_dict(), "best_val_miou": None if best == -math.inf else best,
               "history": history, "last": str(out / LAST), "best": str(out / BEST)}
    if ctx.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def size_arg(text: str) -> tuple:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 128x256, got {text!r}") from None
    return h, w


def channels_arg(text: str) -> tuple:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"channels must look like 32,64,128,256,512, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="panosis-train", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=d.out, help="run folder: checkpoints and summary.json")
    p.add_argument("--data", default=d.data, help="'synthetic' (default) or a CVRG-Pano folder (rgb/, mask/)")
    p.add_argument("--view", default=d.view, choices=["panorama", "perspective"], help="synthetic images")
    # not --num: torchrun would take it for an abbreviation of its --numa-binding
    p.add_argument("--items", dest="num", type=int, default=d.num, help="synthetic items (split into train/val/test)")
    p.add_argument("--data-seed", type=int, default=d.data_seed)
    p.add_argument("--size", type=size_arg, default=d.size, help="HxW of the network input")
    p.add_argument("--fov", type=float, default=d.fov)
    p.add_argument("--conv", default=d.conv, choices=CONV_KINDS)
    p.add_argument("--channels", type=channels_arg, default=d.channels)
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--clip", type=float, default=d.clip)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--no-amp", dest="amp", action="store_false")
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--device", default=d.device)
    p.add_argument("--cache-dir", default=None, help="synthetic data cache (default ~/.cache/equiconv)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt if it exists")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv=None) -> dict:
    args = vars(parser().parse_args(argv))
    return train(TrainConfig(**args))


if __name__ == "__main__":
    main()
