"""What defines a one-shot run (``OneShotConfig``, saved in its checkpoints) and what follows from
it: its training and validation panoramas and the model (the held-out test panoramas are
``data.datasets.held_out_panoramas``)."""
from dataclasses import dataclass

from panosis_models.data import SyntheticPanoramas
from panosis_models.data import datasets
from panosis_models.data.episodes import FOLDS
from panosis_models.engine.config import TrainingConfig, check_at_least, check_network_run
from panosis_models.errors import InputError
from panosis_models.models.episodic import EpisodicNet
from panosis_models.models.oslsm import GENERATORS, OSLSM
from panosis_models.models.prototype import PrototypeNet

METHODS = ("prototype", "oslsm")
NOVEL = ("ignore", "background")  # what a training query's novel-class pixels are
# what a checkpoint written before these fields existed was trained with
LEGACY = {"method": "oslsm", "generator": "learned", "novel": "background", "validation": 0, "latitude": False,
          "cues": False, "align": 0.0}


@dataclass
class OneShotConfig(TrainingConfig):
    """Everything that defines a run; saved in its checkpoints."""
    DEFINING = ("fold", "num", "data_seed", "size", "conv", "channels", "batch_norm", "episodes", "seed", "method",
                "generator", "novel", "pretrained", "validation", "latitude", "cues", "align")

    out: str = "runs/oneshot"
    method: str = "prototype"         # prototype (PANet-style) or oslsm
    fold: int = 0                     # its classes are novel: never foreground in training
    conv: str = "std"
    size: tuple = (64, 128)           # (H, W) of the panoramas
    num: int = 200                    # training panoramas (worlds of data_seed)
    data_seed: int = 0
    channels: tuple = (16, 32, 64)    # the encoders' level widths
    batch_norm: bool = True
    latitude: bool = True             # the encoders also read each row's latitude
    cues: bool = True                 # the colour and row cues join the logit by learned weights (on, as
                                      # fold-0 novel-class validation chose for each method)
    align: float = None               # prototype: weight of PANet's prototype alignment loss (0: none;
                                      # None: 1 for prototype, as fold-0 novel-class validation chose; 0 for oslsm)
    episodes: int = 400               # training episodes per epoch
    epochs: int = 20                  # base-class validation mIoU still rose from 10 to 20 (fold 0, 3 seeds)
    batch_size: int = 8
    novel: str = "ignore"             # novel-class pixels of training queries: ignored, or background (ablation)
    generator: str = "hashed"         # oslsm: w and b from fixed weight hashing, or learned layers (first build)
    pretrained: str = None            # oslsm: a prototype run's checkpoint (same fold) its encoders start from
    condition_lr: float = 0.1         # oslsm from ``pretrained``: the conditioning branch's share of lr
    validation: int = 40              # base-class validation panoramas (other worlds) choosing the threshold; 0: none
    val_episodes: int = 200

    def __post_init__(self):
        if self.align is None:
            self.align = 1.0 if self.method == "prototype" else 0.0

    @classmethod
    def from_dict(cls, d: dict):
        return super().from_dict({**LEGACY, **d})

    def validate(self) -> None:
        if self.fold not in range(len(FOLDS)):
            raise InputError(f"fold must be one of 0..{len(FOLDS) - 1}, got {self.fold!r}")
        for name, value, allowed in (("method", self.method, METHODS), ("novel", self.novel, NOVEL),
                                     ("generator", self.generator, GENERATORS)):
            if value not in allowed:
                raise InputError(f"{name} must be one of {allowed}, got {value!r}")
        if self.align and self.method != "prototype":
            raise InputError(f"align is for --method prototype, got it with --method {self.method}")
        if self.align < 0:
            raise InputError(f"align must be 0 or more, got {self.align}")
        if self.pretrained is not None and self.method != "oslsm":
            raise InputError(f"pretrained is for --method oslsm, got it with --method {self.method}")
        if not 0 < self.condition_lr <= 1:
            raise InputError(f"condition_lr must be in (0, 1], got {self.condition_lr}")
        check_at_least({"episodes": self.episodes, "val_episodes": self.val_episodes})
        check_at_least({"validation": self.validation}, minimum=0)
        check_network_run(self)

    def network(self) -> EpisodicNet:
        """Its network, untrained (what checks of its size build, on the meta device)."""
        return build_model(self)


def training_panoramas(cfg: OneShotConfig) -> SyntheticPanoramas:
    return SyntheticPanoramas(cfg.num, *cfg.size, seed=cfg.data_seed, cache_dir=cfg.cache_dir, labels="fine")


def validation_panoramas(cfg: OneShotConfig) -> SyntheticPanoramas:
    """Panoramas of worlds apart from the training ones and the held-out test ones."""
    return datasets.validation_panoramas(cfg.validation, cfg.size, cfg.data_seed, cfg.cache_dir, labels="fine")


def build_model(cfg: OneShotConfig) -> EpisodicNet:
    if cfg.method == "prototype":
        return PrototypeNet(cfg.channels, conv=cfg.conv, batch_norm=cfg.batch_norm, latitude=cfg.latitude,
                            cues=cfg.cues)
    return OSLSM(cfg.channels, conv=cfg.conv, batch_norm=cfg.batch_norm, generator=cfg.generator,
                 latitude=cfg.latitude, cues=cfg.cues)
