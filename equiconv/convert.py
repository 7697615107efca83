"""Turn an existing network into a spherical one in a single call."""
import warnings

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

    A ``padding_mode`` other than ``'zeros'`` is replaced by the sphere's boundary rules
    (wrap in longitude, across the poles, zeros outside a partial panorama), with a
    ``UserWarning`` naming the module: on a full panorama this is the padding such modes
    approximate, elsewhere it changes what the layer reads at the edges.
    """
    return _convert(module, "", lat_range, lon_span, backend)


def _convert(module: nn.Module, path: str, lat_range, lon_span, backend) -> nn.Module:
    if _eligible(module):
        if module.padding_mode != "zeros":
            warnings.warn(
                f"equiconv.convert: {path or 'the module'!r} had padding_mode={module.padding_mode!r}; "
                "its EquiConv2d pads by the sphere's boundary rules instead", UserWarning, stacklevel=3)
        return EquiConv2d.from_conv2d(module, lat_range=lat_range, lon_span=lon_span, backend=backend)
    for name, child in module.named_children():
        converted = _convert(child, f"{path}.{name}" if path else name, lat_range, lon_span, backend)
        if converted is not child:
            setattr(module, name, converted)
    return module
