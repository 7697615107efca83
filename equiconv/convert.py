"""Turn an existing network into a spherical one in a single call."""
from torch import nn

from equiconv import _checks
from equiconv.nn import EquiConv2d


def _eligible(module: nn.Module) -> bool:
    # Exact type: subclasses of Conv2d (QAT, weight-standardised, ...) carry behaviour we would lose.
    return type(module) is nn.Conv2d and tuple(module.kernel_size) != (1, 1)


def convert(module: nn.Module, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN,
            backend="compiled") -> nn.Module:
    """Replaces, in place, every ``nn.Conv2d`` with a kernel larger than 1x1 by an
    :class:`EquiConv2d` that shares its parameters; returns the module (the new one if
    ``module`` itself is such a convolution). 1x1 convolutions sample nothing and stay.
    """
    if _eligible(module):
        return EquiConv2d.from_conv2d(module, lat_range=lat_range, lon_span=lon_span, backend=backend)
    for name, child in module.named_children():
        converted = convert(child, lat_range=lat_range, lon_span=lon_span, backend=backend)
        if converted is not child:
            setattr(module, name, converted)
    return module
