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
