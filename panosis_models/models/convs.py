"""The one switch between standard and spherical operators that every reference model is built
from, so ``conv="equi"`` reaches each of them (the original's "equiconv" variant silently never
did): 3x3 (and any k x k, strided or dilated) convolutions, and for models that pool and resample
(PSPNet) max-pooling and bilinear resizing."""
from dataclasses import dataclass
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import nn

import equiconv
from equiconv import EquiConv2d, EquiMaxPool2d
from panosis_models.errors import InputError

CONV_KINDS = ("std", "equi")
# equiconv's rule on a map of the whole sphere: a pixel must span less than 90 degrees, so an equi
# layer needs at least 3 rows (180/3 = 60 degrees) and 5 columns (360/5 = 72 degrees)
EQUI_SMALLEST = (3, 5)


def _check(kind: str) -> str:
    if kind not in CONV_KINDS:
        raise ValueError(f"conv must be one of {CONV_KINDS}, got {kind!r}")
    return kind


def conv3x3_factory(kind: str) -> Callable[[int, int], nn.Module]:
    """``(in_channels, out_channels) -> module`` for a padded 3x3 convolution of ``kind``."""
    conv = operators(kind).conv
    return lambda c_in, c_out: conv(c_in, c_out, 3)


@dataclass(frozen=True)
class Operators:
    """The layers of one kind. ``conv(c_in, c_out, k, stride=1, dilation=1, bias=True)`` pads to keep
    the size at stride 1 (a 1x1 convolution is nn.Conv2d whatever the kind: it samples nothing);
    ``resize(x, size)`` is bilinear (align_corners=False)."""

    kind: str

    def conv(self, c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1, bias: bool = True) -> nn.Module:
        cls = EquiConv2d if self.kind == "equi" and k > 1 else nn.Conv2d
        return cls(c_in, c_out, k, stride=stride, padding=dilation * (k // 2), dilation=dilation, bias=bias)

    def max_pool(self, k: int, stride: int, padding: int = 0) -> nn.Module:
        return (EquiMaxPool2d if self.kind == "equi" else nn.MaxPool2d)(k, stride, padding)

    def resize(self, x: torch.Tensor, size) -> torch.Tensor:
        if self.kind == "equi":
            return equiconv.functional.interpolate(x, size=size, mode="bilinear")
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def operators(kind: str) -> Operators:
    return Operators(_check(kind))


@dataclass(frozen=True)
class InputSizes:
    """The H x W a network takes: multiples of ``multiple`` (its total downsampling: ``because``
    says what it is), at least ``smallest`` (``least_because``: why, if more than one multiple).
    What a command checks its ``--size`` against before any data are made, and what the
    network's forward checks."""

    multiple: int
    smallest: Tuple[int, int]
    because: str = ""
    least_because: str = ""

    def accepts(self, height: int, width: int) -> bool:
        return (height % self.multiple == 0 and width % self.multiple == 0 and height >= self.smallest[0]
                and width >= self.smallest[1])

    def __str__(self) -> str:
        because = f" ({self.because})" if self.because else ""
        least = (f", at least {self.smallest[0]}x{self.smallest[1]} ({self.least_because})"
                 if self.least_because else "")
        return f"H and W multiples of {self.multiple}{because}{least}"


def input_sizes(kind: str, multiple: int, because: str = "") -> InputSizes:
    """What a network whose ``kind`` layers go down to 1/``multiple`` of its input (``because``:
    how) takes: with equi layers, EQUI_SMALLEST pixels there."""
    if _check(kind) == "std":
        return InputSizes(multiple, (multiple, multiple), because)
    rows, cols = EQUI_SMALLEST
    return InputSizes(multiple, (rows * multiple, cols * multiple), because,
                      f"its equi convolutions at 1/{multiple} of the input need {rows}x{cols} pixels, "
                      "each under 90 degrees")


def check_network_size(cfg) -> None:
    """Refuses a ``cfg.size`` that its network, ``cfg.network()``, cannot take (see its
    ``input_sizes``), naming --size and what it must be. The network is built on the meta
    device: no memory, no time, and no data made yet."""
    if len(cfg.size) != 2 or min(cfg.size) < 1:
        raise InputError(f"size must be (H, W), both positive, got {cfg.size}")
    with torch.device("meta"):
        network = cfg.network()
    if not network.input_sizes.accepts(*cfg.size):
        raise InputError(f"--size {cfg.size[0]}x{cfg.size[1]} does not fit {type(network).__name__} with {cfg.conv} "
                         f"convolutions: size must be {network.input_sizes}")
