"""Turn an existing network into a spherical one in a single call."""
import warnings
from typing import Callable, Dict, Iterable, Optional

from torch import nn

from equiconv import _checks
from equiconv.nn import (EquiAdaptiveAvgPool2d, EquiAvgPool2d, EquiConv2d, EquiConvTranspose2d, EquiMaxPool2d,
                         EquiUpsample)


def _conv(m: nn.Conv2d, sphere: dict):
    if tuple(m.kernel_size) == (1, 1):  # samples nothing: stays
        return None
    if m.padding_mode != "zeros":
        return EquiConv2d.from_conv2d(m, **sphere), (
            f"had padding_mode={m.padding_mode!r}; its EquiConv2d pads by the sphere's boundary rules instead")
    return EquiConv2d.from_conv2d(m, **sphere)


def _conv_transpose(m: nn.ConvTranspose2d, sphere: dict):
    if tuple(m.kernel_size) == (1, 1):
        return None
    return EquiConvTranspose2d.from_conv_transpose2d(m, **sphere)


def _max_pool(m: nn.MaxPool2d, sphere: dict):
    if m.ceil_mode:
        return None, "has ceil_mode set, which EquiMaxPool2d does not take; left as it is"
    return EquiMaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices, **sphere)


def _avg_pool(m: nn.AvgPool2d, sphere: dict):
    if m.ceil_mode or not m.count_include_pad:
        return None, "has ceil_mode or count_include_pad=False, which EquiAvgPool2d does not take; left as it is"
    return EquiAvgPool2d(m.kernel_size, m.stride, m.padding, divisor_override=m.divisor_override, **sphere)


def _pure(sphere: dict) -> dict:
    """The sphere arguments of a pure-PyTorch module (it has no backend to choose)."""
    return {k: v for k, v in sphere.items() if k != "backend"}


def _adaptive_avg_pool(m: nn.AdaptiveAvgPool2d, sphere: dict):
    return EquiAdaptiveAvgPool2d(m.output_size, **_pure(sphere))


def _upsample(m: nn.Upsample, sphere: dict):
    if m.mode not in ("nearest", "nearest-exact", "bilinear") or m.align_corners:
        return None, (f"has mode={m.mode!r}, align_corners={m.align_corners!r}; EquiUpsample takes nearest, "
                      "nearest-exact or bilinear without align_corners; left as it is")
    return EquiUpsample(m.size, m.scale_factor, m.mode, **_pure(sphere))


# kind -> (the exact torch.nn types it converts, its converter). Exact types: subclasses (QAT,
# weight-standardised, ...) carry behaviour a conversion would lose; torch's own fixed-mode
# upsamplers are nn.Upsample with set arguments, so they are listed. A converter returns the new
# module, None (not eligible: stays), or (new module or None, what to warn about).
CONVERTERS: Dict[str, tuple] = {
    "conv": ((nn.Conv2d,), _conv),
    "conv_transpose": ((nn.ConvTranspose2d,), _conv_transpose),
    "max_pool": ((nn.MaxPool2d,), _max_pool),
    "avg_pool": ((nn.AvgPool2d,), _avg_pool),
    "adaptive_avg_pool": ((nn.AdaptiveAvgPool2d,), _adaptive_avg_pool),
    "upsample": ((nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d), _upsample),
}
KINDS = tuple(CONVERTERS)


def convert(module: nn.Module, *, kinds: Iterable[str] = KINDS, lat_range=_checks.FULL_LAT_RANGE,
            lon_span=_checks.FULL_LON_SPAN, backend="compiled") -> nn.Module:
    """Replaces, in place, every eligible ``torch.nn`` layer of the given ``kinds`` (default: all of
    ``equiconv.convert.KINDS``) by its spherical counterpart, sharing parameters; returns the module
    (the new one if ``module`` itself is converted).

    Convolutions (``'conv'``, ``'conv_transpose'``) with a 1x1 kernel sample nothing and stay. A
    ``padding_mode`` other than ``'zeros'`` is replaced by the sphere's boundary rules (wrap in
    longitude, across the poles, zeros outside a partial panorama), with a ``UserWarning`` naming
    the module: on a full panorama this is the padding such modes approximate, elsewhere it changes
    what the layer reads at the edges. A layer whose settings have no spherical counterpart (e.g.
    ``ceil_mode=True``) stays, with a ``UserWarning`` naming it.

    Args:
        module: the network (or a single layer) to convert.
        kinds: which layer kinds: any of ``'conv'`` (``nn.Conv2d`` larger than 1x1),
            ``'conv_transpose'``, ``'max_pool'``, ``'avg_pool'``, ``'adaptive_avg_pool'``,
            ``'upsample'``; exact types only (subclasses are left alone).
        lat_range: (top, bottom) latitudes of the network's input in degrees; every converted
            layer gets it (default (90, -90)).
        lon_span: longitude the input's width covers in degrees (default 360).
        backend: of the compiled layers: ``'compiled'``, ``'triton'`` or ``'reference'``.

    Returns:
        ``module``, changed in place, or its replacement if it is itself a convertible layer.

    Raises:
        ValueError: an unknown kind or a bad range.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        ...                           torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 4, 1))
        >>> weight = net[0].weight
        >>> net = convert(net)
        >>> net
        Sequential(
          (0): EquiConv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (1): ReLU()
          (2): EquiMaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
          (3): Conv2d(8, 4, kernel_size=(1, 1), stride=(1, 1))
        )
        >>> net[0].weight is weight  # the same parameters: an optimiser or state dict carries over
        True
        >>> net(torch.randn(1, 3, 16, 32)).shape
        torch.Size([1, 4, 8, 16])
        >>> convert(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.MaxPool2d(2)), kinds=["conv"])
        Sequential(
          (0): EquiConv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))
          (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        )
    """
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in CONVERTERS]
    if unknown:
        raise ValueError(f"kinds must be drawn from {KINDS}, got {unknown}")
    sphere = dict(lat_range=lat_range, lon_span=lon_span, backend=_checks.backend(backend))
    _checks.sphere_range(lat_range, lon_span)
    converters = {t: CONVERTERS[k][1] for k in kinds for t in CONVERTERS[k][0]}
    return _convert(module, "", converters, sphere)


# The package's ``equiconv.convert`` is this function, so the kinds hang on it as documented.
convert.KINDS = KINDS


def _convert(module: nn.Module, path: str, converters: Dict[type, Callable], sphere: dict) -> nn.Module:
    converter: Optional[Callable] = converters.get(type(module))
    if converter is not None:
        result = converter(module, sphere)
        if isinstance(result, tuple):
            result, message = result
            warnings.warn(f"equiconv.convert: {path or 'the module'!r} ({type(module).__name__}) {message}",
                          UserWarning, stacklevel=3)
        return module if result is None else result
    for name, child in module.named_children():
        converted = _convert(child, f"{path}.{name}" if path else name, converters, sphere)
        if converted is not child:
            setattr(module, name, converted)
    return module
