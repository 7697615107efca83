"""The PanOSIS U-Net, built from the 3x3 convolution factory so that ``conv="equi"`` puts the
sphere into every 3x3 convolution."""
import torch
from torch import nn

from panosis_models.models.convs import CONV_KINDS, InputSizes, conv3x3_factory, input_sizes
from panosis_models.data.palette import NUM_CLASSES

__all__ = ["CONV_KINDS", "DoubleConv", "UNet"]


class DoubleConv(nn.Sequential):
    """Two [3x3 conv (+ BatchNorm) + ReLU], optionally followed by dropout."""

    def __init__(self, conv, c_in, c_out, batch_norm, dropout=0.0):
        layers = []
        for a, b in ((c_in, c_out), (c_out, c_out)):
            layers.append(conv(a, b))
            if batch_norm:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.ReLU(inplace=True))
        if dropout:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)


class UNet(nn.Module):
    """Encoder of ``len(channels)`` double-conv blocks with 2x2 max-pooling between them
    (dropout on the two deepest), decoder of 2x2 transposed convolutions, skip concatenation
    and double-convs, head 3x3 conv + ReLU + 1x1 conv. Input sides must be multiples of
    ``2 ** (len(channels) - 1)`` (and, equi, large enough at the deepest level): ``input_sizes``."""

    def __init__(self, in_channels=3, num_classes=NUM_CLASSES, channels=(32, 64, 128, 256, 512),
                 conv="std", batch_norm=False, dropout=0.3):
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"channels needs at least two levels, got {channels!r}")
        make = conv3x3_factory(conv)
        self.conv_kind, self.channels = conv, tuple(channels)
        deep = len(channels) - 2  # index of the first of the two deepest blocks
        self.down = nn.ModuleList()
        previous = in_channels
        for i, c in enumerate(channels):
            self.down.append(DoubleConv(make, previous, c, batch_norm, dropout if i >= deep else 0.0))
            previous = c
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for c_deep, c in zip(channels[:0:-1], channels[-2::-1]):
            self.up.append(nn.ConvTranspose2d(c_deep, c, 2, stride=2))
            self.merge.append(DoubleConv(make, 2 * c, c, batch_norm))
        self.head = nn.Sequential(make(channels[0], channels[0]), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels[0], num_classes, 1))

    @property
    def input_sizes(self) -> InputSizes:
        levels = len(self.channels)
        return input_sizes(self.conv_kind, 2 ** (levels - 1), f"{levels} levels, 2x2 pooling between them")

    @property
    def feature_channels(self) -> int:
        return self.channels[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's last features (N, channels[0], H, W), before the head: what other heads
        (the panoptic ones) build on."""
        if x.dim() != 4 or not self.input_sizes.accepts(*x.shape[-2:]):
            raise ValueError(f"input must be (N, C, H, W) with {self.input_sizes}, got shape {tuple(x.shape)}")
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, skips[-2::-1]):
            x = merge(torch.cat([up(x), skip], dim=1))
        return x
