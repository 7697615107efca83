"""What defines a panoptic run (``PanopticConfig``, saved in its checkpoints) and its network.
A panoptic run has a segmentation run's fields (the engine's, the data's, the trunk's) plus its
heads and loss; its data are panoramas with fine labels and instance ids
(``data.source.split(cfg, instances=True)``), turned into the ``level`` it learns."""
from dataclasses import dataclass

from panosis_models.data.source import DATA_DEFINING, DataSource
from panosis_models.engine.config import TrainingConfig, check_network_run
from panosis_models.errors import InputError
from panosis_models.models.panoptic import PanopticNet
from panosis_models.models.segmentation import NETWORK_DEFINING, NetworkChoice
from panosis_models.panoptic.levels import PanopticLevel, level_named


@dataclass
class PanopticConfig(TrainingConfig, DataSource, NetworkChoice):
    """Everything that defines a run; saved in its checkpoints. Panoramas with fine labels
    (``view`` and ``labels`` are fixed), learnt at ``level`` ("fine" or "category"); the loss
    is Panoptic-DeepLab's: cross-entropy over the ``hard_pixels`` share of pixels that cost
    most, the pixels of thing classes weighing ``thing_weight`` times and those of small
    instances ``small_instance_weight`` times more, +
    ``center_weight`` x MSE of the heatmap + ``offset_weight`` x L1 of the offsets on thing
    pixels (0.2, 3, 200 and 0.01 in the paper)."""
    DEFINING = DATA_DEFINING + NETWORK_DEFINING + ("seed", "level", "head_channels")

    out: str = "runs/panoptic"
    labels: str = "fine"
    level: str = "fine"
    head_channels: int = 32
    hard_pixels: float = 0.2
    small_instance_weight: float = 3.0
    thing_weight: float = 1.0
    center_weight: float = 200.0
    offset_weight: float = 0.01
    augment: bool = True

    def validate(self) -> None:
        if self.view != "panorama" or self.labels != "fine" or self.colour_masks:
            raise InputError(f"panoptic runs take panoramas with fine labels and instance ids, got view={self.view!r}, "
                             f"labels={self.labels!r}, colour_masks={self.colour_masks!r}")
        level_named(self.level)
        if self.head_channels < 1 or self.center_weight < 0 or self.offset_weight < 0:
            raise InputError(f"head_channels must be positive and the loss weights non-negative, got head_channels="
                             f"{self.head_channels}, center_weight={self.center_weight}, "
                             f"offset_weight={self.offset_weight}")
        for name in ("small_instance_weight", "thing_weight"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.hard_pixels <= 1:
            raise InputError(f"hard_pixels must lie in (0, 1], got {self.hard_pixels}")
        self.check_network(self.batch_size)
        self.check_data()
        check_network_run(self)  # last: its check of the size builds the network, which needs the fields above

    def network(self) -> PanopticNet:
        return build_model(self)

    @property
    def panoptic_level(self) -> PanopticLevel:
        return level_named(self.level)


def build_model(cfg: PanopticConfig) -> PanopticNet:
    return PanopticNet(cfg.model, cfg.conv, cfg.panoptic_level.num_classes, cfg.head_channels, cfg.channels,
                       cfg.batch_norm, cfg.preset)
