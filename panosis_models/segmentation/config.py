"""What defines a segmentation run (``TrainConfig``, saved in its checkpoints): the engine's
run fields, its data (``data.source.DataSource``), its network (``models.segmentation.
NetworkChoice``) and whether it augments."""
from dataclasses import dataclass

from panosis_models.data.source import DATA_DEFINING, DataSource
from panosis_models.engine.config import TrainingConfig, check_network_run
from panosis_models.errors import InputError
from panosis_models.segmentation.class_weight import check_class_weight
from panosis_models.models.segmentation import NETWORK_DEFINING, NetworkChoice, segmentation_network


def check_tilt(tilt: float) -> None:
    """The augmentation's largest pitch and roll, in degrees."""
    if not 0 <= tilt <= 90:
        raise InputError(f"tilt must lie in [0, 90] degrees, got {tilt!r}")


@dataclass
class TrainConfig(TrainingConfig, DataSource, NetworkChoice):
    """Everything that defines a run; saved in its checkpoints."""
    DEFINING = DATA_DEFINING + NETWORK_DEFINING + ("seed",)

    out: str = "runs/unet"
    augment: bool = True
    tilt: float = 0.0                 # augmentation: a random pitch and roll up to this many degrees
    class_weight: str = None          # None, or "balanced": the cross-entropy's class weights (segmentation.class_weight)

    def validate(self) -> None:
        check_tilt(self.tilt)
        if self.tilt and (self.view != "panorama" or not self.augment):
            raise InputError("--tilt turns whole panoramas while augmenting: it needs --view panorama and --augment")
        check_class_weight(self.class_weight)
        self.check_network(self.batch_size)
        self.check_data()
        check_network_run(self)

    def network(self):
        """Its network, untrained (what checks of its size build, on the meta device)."""
        return build_model(self)


def build_model(cfg: TrainConfig):
    return segmentation_network(cfg, cfg.label_level.num_outputs)
