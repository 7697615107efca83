"""One configuration pattern for every job: a dataclass of everything that defines a run, saved
in its checkpoints, built on ``RunConfig`` (where a run writes, its seed, its device, how it
resumes and reports) and, for the jobs the engine trains epoch by epoch, ``TrainingConfig`` (the
loop's fields); and the few conventions the jobs share (checkpoint names, the default device,
how a size is written)."""
import dataclasses
import math
from dataclasses import dataclass, field
from typing import ClassVar, Tuple

import torch

from panosis_models.errors import InputError
from panosis_models.models.convs import CONV_KINDS, check_network_size

LAST, BEST = "last.pt", "best.pt"


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(text: str) -> str:
    """``text`` as the name of a device this machine has (cpu, cuda, cuda:N), or an InputError
    saying why not: before any work, not as a traceback from deep inside the first tensor."""
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise InputError(f"device must be cpu, cuda or cuda:N, got {text!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU build"
        raise InputError(f"device {text!r}: no CUDA device is available (torch {torch.__version__}, {build}); "
                         "use cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"device {text!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                         f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return str(device)


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


def check_network_run(cfg) -> None:
    """What every network-training config (fields conv, channels, size, epochs, batch_size,
    num, workers, lr, clip; ``network()``) must hold; ``size`` one its network takes."""
    if cfg.conv not in CONV_KINDS:
        raise InputError(f"conv must be one of {CONV_KINDS}, got {cfg.conv!r}")
    check_at_least({name: getattr(cfg, name) for name in ("epochs", "batch_size", "num")})
    check_at_least({"workers": cfg.workers}, minimum=0)
    if len(cfg.channels) < 2 or min(cfg.channels) < 1:
        raise InputError(f"channels must be at least two positive widths, got {cfg.channels}")
    check_network_size(cfg)
    if not (0 < cfg.lr < math.inf and 0 < cfg.clip < math.inf):
        raise InputError(f"lr and clip must be positive and finite, got lr={cfg.lr}, clip={cfg.clip}")


def preset_settings(presets: dict, job, names=("epochs", "num_train")) -> dict:
    """``presets[job.preset]`` with the job's fields ``names`` that are set (not None) laid over it."""
    if job.preset not in presets:
        raise InputError(f"preset must be one of {sorted(presets)}, got {job.preset!r}")
    overrides = {k: getattr(job, k) for k in names if getattr(job, k) is not None}
    check_at_least(overrides)
    return {**presets[job.preset], **overrides}


class JobConfig:
    """Base of the jobs' and experiments' dataclasses: saved with a run, read back, compared on
    resume. ``DEFINING`` names the fields that make a run what it is
    (model, data, size, split): a resumed run must keep every one of them. ``RUNTIME`` names
    those a resumed run may change (where and how long it runs, how it reports); any other
    field, such as the learning rate, must keep its saved value too, since the optimiser and the
    record continue the saved run."""
    DEFINING: ClassVar[Tuple[str, ...]] = ()
    RUNTIME: ClassVar[Tuple[str, ...]] = ("out", "device", "workers", "progress", "resume", "overwrite", "cache_dir",
                                          "epochs")

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
        changed = [f"--{f.name.replace('_', '-')} {getattr(self, f.name)!r} (it was trained with "
                   f"{getattr(before, f.name)!r})" for f in dataclasses.fields(self)
                   if f.name not in self.RUNTIME and getattr(before, f.name) != getattr(self, f.name)]
        if changed:
            raise InputError(f"cannot resume {path} with " + ", ".join(changed) + ": the run continues with its "
                             "saved settings; pass them as before, or start a new run (another --out)")


@dataclass
class RunConfig(JobConfig):
    """The fields every job's run has."""
    out: str = "runs/run"             # the run folder
    seed: int = 0                     # initialisation, data order and augmentation
    device: str = field(default_factory=default_device)
    resume: bool = False              # continue the run in ``out``
    overwrite: bool = False           # replace the run in ``out``
    progress: bool = True             # progress bars


@dataclass
class TrainingConfig(RunConfig):
    """A run the engine trains epoch by epoch (``engine.trainer``): the loop's fields."""
    epochs: int = 20
    batch_size: int = 4               # items (episodes) per step
    lr: float = 1e-3                  # Adam's learning rate
    clip: float = 1.0                 # gradient norm clipping
    amp: bool = True                  # bfloat16 autocast on GPU (ignored on CPU)
    workers: int = 0                  # data loader processes
    cache_dir: str = None             # where rendered data are cached
