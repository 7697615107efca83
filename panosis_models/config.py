"""One configuration pattern for every job: a dataclass of everything that defines a run, saved
in its checkpoints, and the few conventions the jobs share (checkpoint names, the default
device, how a size is written)."""
import dataclasses
from typing import ClassVar, Tuple

import torch

from panosis_models.errors import InputError
from panosis_models.models.convs import CONV_KINDS

LAST, BEST = "last.pt", "best.pt"


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def parse_size(text: str) -> tuple:
    """``"128x256"`` -> (128, 256); both sides positive."""
    try:
        height, width = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like 128x256 (HxW), got {text!r}") from None
    if height < 1 or width < 1:
        raise InputError(f"size must be positive, got {text!r}")
    return height, width


def check_at_least(values: dict, minimum: int = 1) -> None:
    """Refuses any of ``values`` ({name: number}) below ``minimum``, naming it."""
    for name, value in values.items():
        if value < minimum:
            raise InputError(f"{name} must be at least {minimum}, got {value}")


def check_network_run(cfg, multiple: int, why: str) -> None:
    """What every network-training config (fields conv, channels, size, epochs, batch_size,
    num, workers, lr, clip) must hold; ``size`` in multiples of ``multiple``, ``why`` says why."""
    if cfg.conv not in CONV_KINDS:
        raise InputError(f"conv must be one of {CONV_KINDS}, got {cfg.conv!r}")
    check_at_least({name: getattr(cfg, name) for name in ("epochs", "batch_size", "num")})
    check_at_least({"workers": cfg.workers}, minimum=0)
    if len(cfg.channels) < 2 or min(cfg.channels) < 1:
        raise InputError(f"channels must be at least two positive widths, got {cfg.channels}")
    if len(cfg.size) != 2 or any(s <= 0 or s % multiple for s in cfg.size):
        raise InputError(f"size must be (H, W) with multiples of {multiple} for {why}, got {cfg.size}")
    if cfg.lr <= 0 or cfg.clip <= 0:
        raise InputError(f"lr and clip must be positive, got lr={cfg.lr}, clip={cfg.clip}")


def preset_settings(presets: dict, job, names=("epochs", "num_train")) -> dict:
    """``presets[job.preset]`` with the job's fields ``names`` that are set (not None) laid over it."""
    if job.preset not in presets:
        raise InputError(f"preset must be one of {sorted(presets)}, got {job.preset!r}")
    overrides = {k: getattr(job, k) for k in names if getattr(job, k) is not None}
    check_at_least(overrides)
    return {**presets[job.preset], **overrides}


class JobConfig:
    """Base of the jobs' dataclasses. ``DEFINING`` names the fields that make a run what it is
    (model, data, size, split): a resumed run must keep every one of them."""
    DEFINING: ClassVar[Tuple[str, ...]] = ()

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})

    def check_resumable(self, saved: dict, path) -> None:
        """Refuses to continue the run saved at ``path`` (its config ``saved``) with another
        model, data, size or split, naming every field that differs."""
        before = type(self).from_dict(saved)
        changed = [f"{name}={getattr(before, name)!r} (now {getattr(self, name)!r})"
                   for name in self.DEFINING if getattr(before, name) != getattr(self, name)]
        if changed:
            raise InputError(f"cannot resume {path}: it was trained with " + ", ".join(changed) +
                             "; start a new run (another --out) or keep the saved settings")
