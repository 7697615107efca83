"""Residual blocks of the OSMIS networks. Every convolution is spectrally normalised; the 3x3
ones come from the model's convolution factory (standard or spherical), the 1x1 ones sample
nothing and stay standard."""
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SLOPE = 0.2  # LeakyReLU


def normalised(module: nn.Module) -> nn.Module:
    return spectral_norm(module)


def pointwise(c_in: int, c_out: int, bias: bool = True) -> nn.Module:
    return normalised(nn.Conv2d(c_in, c_out, 1, bias=bias))


class UpBlock(nn.Module):
    """LeakyReLU, nearest 2x upsampling (unless first), 3x3 conv, LeakyReLU, 3x3 conv; plus
    an upsampled 1x1 shortcut."""

    def __init__(self, conv3x3, c_in: int, c_out: int, upsample: bool):
        super().__init__()
        middle = min(c_in, c_out)
        self.upsample = upsample
        self.conv1, self.conv2 = normalised(conv3x3(c_in, middle)), normalised(conv3x3(middle, c_out))
        self.shortcut = pointwise(c_in, c_out, bias=False)

    def _up(self, x):
        return F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x

    def forward(self, x):
        h = self.conv1(self._up(F.leaky_relu(x, SLOPE)))
        h = self.conv2(F.leaky_relu(h, SLOPE))
        return h + self.shortcut(self._up(x))


class DownBlock(nn.Module):
    """(LeakyReLU unless first,) conv, LeakyReLU, conv, 2x2 average pooling (if ``downsample``);
    plus a pooled 1x1 shortcut. ``conv3x3=None`` makes both convolutions 1x1: the content
    branch, which works on pooled vectors."""

    def __init__(self, conv3x3, c_in: int, c_out: int, downsample: bool, first: bool = False):
        super().__init__()
        middle = min(c_in, c_out)
        make = (lambda a, b: normalised(conv3x3(a, b))) if conv3x3 else pointwise
        self.first, self.downsample = first, downsample
        self.conv1, self.conv2 = make(c_in, middle), make(middle, c_out)
        self.shortcut = pointwise(c_in, c_out, bias=False) if (c_in != c_out or downsample) else nn.Identity()

    def _down(self, x):
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x):
        h = x if self.first else F.leaky_relu(x, SLOPE)
        h = self.conv2(F.leaky_relu(self.conv1(h), SLOPE))
        return self._down(h) + self._down(self.shortcut(x))
