"""Which segmentation network a run trains (``NetworkChoice``, fields of its saved config): the
U-Net or PSPNet, its size and its convolutions. The panoptic network puts its heads on the same
choice of trunk."""
from dataclasses import dataclass

from panosis_models.errors import InputError
from panosis_models.models.pspnet import PRESETS, PSPNet
from panosis_models.models.unet import UNet

MODELS = ("unet", "pspnet")
NETWORK_DEFINING = ("model", "preset", "conv", "channels", "batch_norm")  # what a resumed run must keep


@dataclass
class NetworkChoice:
    """The network's fields."""
    model: str = "unet"               # "unet" or "pspnet"
    preset: str = "small"             # PSPNet's size (models.pspnet.PRESETS)
    conv: str = "std"
    channels: tuple = (32, 64, 128, 256, 512)  # the U-Net's level widths
    batch_norm: bool = False

    def check_network(self, batch_size: int) -> None:
        """What the choice must hold, trained with batches of ``batch_size``."""
        if self.model not in MODELS:
            raise InputError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.preset not in PRESETS:
            raise InputError(f"preset must be one of {tuple(PRESETS)}, got {self.preset!r}")
        if self.model == "pspnet" and batch_size < 2:
            raise InputError("--batch-size must be at least 2 for PSPNet: BatchNorm cannot normalise one item "
                             f"in its 1x1 pyramid bin (got {batch_size})")


def segmentation_network(choice: NetworkChoice, num_classes: int):
    """The chosen network, untrained, with ``num_classes`` outputs."""
    if choice.model == "pspnet":
        return PSPNet(num_classes=num_classes, preset=choice.preset, conv=choice.conv)
    return UNet(num_classes=num_classes, conv=choice.conv, channels=choice.channels, batch_norm=choice.batch_norm)
