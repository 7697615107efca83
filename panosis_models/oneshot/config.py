"""What defines an OSLSM run (``OneShotConfig``, saved in its checkpoints) and what follows from
it: its training panoramas and the model (the held-out test panoramas are
``data.datasets.held_out_panoramas``)."""
from dataclasses import dataclass

from panosis_models.engine.config import TrainingConfig, check_at_least, check_network_run
from panosis_models.data import SyntheticPanoramas
from panosis_models.data.episodes import FOLDS
from panosis_models.errors import InputError
from panosis_models.models.oslsm import OSLSM


@dataclass
class OneShotConfig(TrainingConfig):
    """Everything that defines a run; saved in its checkpoints."""
    DEFINING = ("fold", "num", "data_seed", "size", "conv", "channels", "batch_norm", "episodes", "seed")

    out: str = "runs/oslsm"
    fold: int = 0                     # its classes are novel: never foreground in training
    conv: str = "std"
    size: tuple = (64, 128)           # (H, W) of the panoramas
    num: int = 200                    # training panoramas (worlds of data_seed)
    data_seed: int = 0
    channels: tuple = (16, 32, 64)    # the encoders' level widths
    batch_norm: bool = True
    episodes: int = 400               # training episodes per epoch
    epochs: int = 10
    batch_size: int = 8

    def validate(self) -> None:
        if self.fold not in range(len(FOLDS)):
            raise InputError(f"fold must be one of 0..{len(FOLDS) - 1}, got {self.fold!r}")
        check_at_least({"episodes": self.episodes})
        check_network_run(self)

    def network(self) -> OSLSM:
        """Its network, untrained (what checks of its size build, on the meta device)."""
        return build_model(self)


def training_panoramas(cfg: OneShotConfig) -> SyntheticPanoramas:
    return SyntheticPanoramas(cfg.num, *cfg.size, seed=cfg.data_seed, cache_dir=cfg.cache_dir, labels="fine")


def build_model(cfg: OneShotConfig) -> OSLSM:
    return OSLSM(cfg.channels, conv=cfg.conv, batch_norm=cfg.batch_norm)
