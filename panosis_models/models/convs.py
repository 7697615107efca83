"""The one switch between standard and spherical 3x3 convolutions that every reference model
is built from, so ``conv="equi"`` reaches each of them (the original's "equiconv" variant
silently never did)."""
from typing import Callable

from torch import nn

from equiconv import EquiConv2d

CONV_KINDS = ("std", "equi")


def conv3x3_factory(kind: str) -> Callable[[int, int], nn.Module]:
    """``(in_channels, out_channels) -> module`` for a padded 3x3 convolution of ``kind``."""
    if kind == "std":
        return lambda c_in, c_out: nn.Conv2d(c_in, c_out, 3, padding=1)
    if kind == "equi":
        return lambda c_in, c_out: EquiConv2d(c_in, c_out, 3, padding=1)
    raise ValueError(f"conv must be one of {CONV_KINDS}, got {kind!r}")
