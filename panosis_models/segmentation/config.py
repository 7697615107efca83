"""What defines a segmentation run (``TrainConfig``, saved in its checkpoints): the engine's
run fields, its data (``data.source.DataSource``), its network (``models.segmentation.
NetworkChoice``) and whether it augments."""
from dataclasses import dataclass

from panosis_models.data.source import DATA_DEFINING, DataSource
from panosis_models.engine.config import TrainingConfig, check_network_run
from panosis_models.models.segmentation import NETWORK_DEFINING, NetworkChoice, segmentation_network


@dataclass
class TrainConfig(TrainingConfig, DataSource, NetworkChoice):
    """Everything that defines a run; saved in its checkpoints."""
    DEFINING = DATA_DEFINING + NETWORK_DEFINING + ("seed",)

    out: str = "runs/unet"
    augment: bool = True

    def validate(self) -> None:
        self.check_network(self.batch_size)
        self.check_data()
        check_network_run(self)

    def network(self):
        """Its network, untrained (what checks of its size build, on the meta device)."""
        return build_model(self)


def build_model(cfg: TrainConfig):
    return segmentation_network(cfg, cfg.label_level.num_outputs)
