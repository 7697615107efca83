"""interpolate: resampling between two grids of the same sphere patch, pixel centres as in
docs/geometry.md ("Coordinates and pixel centres"; F.interpolate's align_corners=False). Bilinear reads
wrap in longitude and cross the poles, so a full panorama gets no seam. Pure PyTorch (a one-pixel pad by the
boundary rules, then index_selects), so it has no compiled core and no separate reference."""
import math

import torch
import torch.nn.functional as F

from equiconv import _boundary, _checks
from equiconv.ops.pad import pad

MODES = ("nearest", "nearest-exact", "bilinear")


def _options(size, scale_factor, mode, align_corners):
    """The checked arguments that do not depend on the input: (size, scales), one of them None."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if align_corners not in (None, False):
        raise ValueError(f"align_corners must be None or False, got {align_corners!r}: the sphere's pixel "
                         "centres sit half a pixel inside the patch's edges, as with align_corners=False")
    if (size is None) == (scale_factor is None):
        raise ValueError("exactly one of size and scale_factor must be given")
    if size is not None:
        return _checks.pair(size, "size", 1), None
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
    if len(scales) != 2 or not all(map(_checks._is_real, scales)):
        raise TypeError(f"scale_factor must be a number or a pair of numbers, got {scale_factor!r}")
    if not all(0 < s < math.inf for s in scales):
        raise ValueError(f"scale_factor must be positive and finite, got {scale_factor!r}")
    return None, tuple(map(float, scales))


def _output_size(height, width, size, scales):
    """``size``, or F.interpolate's floor(input size * scale factor). Under torch.jit.trace (sizes
    are 0-d tensors) and torch.export (symbolic sizes) it stays a function of the input's size,
    checked when the module runs on real sizes."""
    if size is not None:
        return size
    if isinstance(height, torch.Tensor):
        return tuple((n * s).floor().long() for n, s in zip((height, width), scales))
    out = tuple(math.floor(n * s) for n, s in zip((height, width), scales))
    if all(map(_checks._is_int, out)) and not 1 <= min(out) <= max(out) <= _checks.MAX_SIZE:
        raise ValueError(f"scale_factor {scales} turns the input's {height}x{width} into {out[0]}x{out[1]}")
    return out


def _corners(n_in, n_out, wraps):
    """Per output position along one axis: the two input positions it lies between, and the
    weight of the second. An axis that does not wrap clamps at its edges like F.interpolate."""
    src = (torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5
    if not wraps:
        src = src.clamp_min(0)
    low = src.floor()
    frac = src - low
    low = low.long()
    high = low + 1 if wraps else (low + 1).clamp_max(n_in - 1)
    return low, high, frac


def _bilinear(input, out_size, lat_range, lon_span):
    """One axis at a time, each a pair of gathers from the image padded by the boundary rules
    with one pixel on each axis that wraps (all that its reads can reach outside). Columns are
    gathered first when rows grow: column gathers are the slow ones, so do them on fewer rows."""
    wraps = (_boundary.full_sphere(lat_range, lon_span), _boundary.full_longitude(lon_span))
    ring = tuple(int(w) for w in wraps)
    image = pad(input, (ring[1], ring[1], ring[0], ring[0]), lat_range=lat_range, lon_span=lon_span)
    passes = list(zip((-2, -1), input.shape[-2:], out_size, wraps, ring))
    if _checks._is_int(out_size[0]) and _checks._is_int(input.shape[-2]) and out_size[0] > input.shape[-2]:
        passes.reverse()  # a speed choice, made on real sizes only: on symbolic ones it would be a guard
    for dim, n_in, n_out, wrap, offset in passes:
        low, high, frac = (t.to(input.device) for t in _corners(n_in, n_out, wrap))
        weight = (frac[:, None] if dim == -2 else frac).to(input.dtype)
        image = torch.lerp(image.index_select(dim, low + offset), image.index_select(dim, high + offset), weight)
    return image


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Resamples an equirectangular image to another grid of the same patch of sphere.

    ``size``, ``scale_factor`` and ``mode`` are F.interpolate's; the output always covers the
    input's patch (as with ``recompute_scale_factor=True``). 'bilinear' reads across +-180
    degrees on a full circle of longitude and across the poles on the whole sphere; on an axis
    that does not wrap it clamps at the edge, so a partial patch gives exactly F.interpolate's
    result. 'nearest' and 'nearest-exact' pick a pixel inside the image, as F.interpolate does.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        size: the output (height, width), or an int for both.
        scale_factor: a number or a pair, instead of ``size``.
        mode: ``'nearest'``, ``'nearest-exact'`` or ``'bilinear'``.
        align_corners: must be None or False (pixel centres sit half a pixel inside the edges).
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Returns:
        (N, C, height, width) in the input's memory format.

    Raises:
        ValueError: an unknown mode, ``align_corners=True``, both or neither of ``size`` and
            ``scale_factor``, or a scale that empties the image.
        TypeError: a ``scale_factor`` that is not a number or a pair of numbers.

    Example:
        The first output column reads across the seam (from the last input column):

        >>> x = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> interpolate(x, size=(1, 8), mode="bilinear", lat_range=(10.0, -10.0))
        tensor([[[[0.7500, 0.2500, 0.7500, 1.2500, 1.7500, 2.2500, 2.7500, 2.2500]]]])
        >>> torch.nn.functional.interpolate(x, size=(1, 8), mode="bilinear")
        tensor([[[[0.0000, 0.2500, 0.7500, 1.2500, 1.7500, 2.2500, 2.7500, 3.0000]]]])
    """
    input, unbatched = _checks.image(input)
    size, scales = _options(size, scale_factor, mode, align_corners)
    lat_range, lon_span = _checks.sphere_range(lat_range, lon_span)
    out_size = _output_size(*input.shape[-2:], size, scales)
    if mode == "bilinear" or input.numel() == 0:  # empty: no values to pick (F.interpolate refuses no channels)
        out = _bilinear(input, out_size, lat_range, lon_span)
    else:
        out = F.interpolate(input, size=size, scale_factor=scales, mode=mode,
                            recompute_scale_factor=None if scales is None else True)
    out = _checks.in_layout_of(out, input)
    return out.squeeze(0) if unbatched else out
