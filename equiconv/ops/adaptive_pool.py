"""equi_adaptive_avg_pool2d: nn.AdaptiveAvgPool2d's bins with every pixel counted by its solid
angle, so that a bin holds the mean over the patch of sphere it covers (PSPNet's pyramid pooling
on a panorama). Pure PyTorch (two small matrices, one per axis, applied with matmul), so it has
no compiled core and no separate reference."""
import contextlib

import torch

from equiconv import _checks
from equiconv.area import row_bands


def _output_size(output_size):
    """(h, w) from an int or a pair whose None entries keep the input's size, as in torch."""
    if _checks._is_int(output_size):
        output_size = (output_size, output_size)
    if not (isinstance(output_size, (tuple, list)) and len(output_size) == 2):
        raise TypeError(f"output_size must be an int or a pair of ints or None, got {output_size!r}")
    return tuple(None if n is None else _checks.size(n, "output_size", minimum=1) for n in output_size)


def _bins(n_in, n_out, weight=None):
    """(n_out, n_in) float64 matrix: row i averages input positions floor(i*n_in/n_out) up to
    ceil((i+1)*n_in/n_out) - 1 (AdaptiveAvgPool2d's bins), each counted by ``weight`` (default
    1). Sizes enter only torch ops, so a traced or exported module follows the input's size."""
    i = torch.arange(n_out)
    start, end = i * n_in // n_out, -(-(i + 1) * n_in // n_out)
    j = torch.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    counted = inside.double() if weight is None else torch.where(inside, weight, 0)
    return counted / counted.sum(1, keepdim=True)


def equi_adaptive_avg_pool2d(input, output_size, *, lat_range=_checks.FULL_LAT_RANGE,
                             lon_span=_checks.FULL_LON_SPAN):
    """Adaptive average pooling over the sphere: ``nn.AdaptiveAvgPool2d``'s bins, each pixel
    weighted by its row's solid angle (:func:`equiconv.solid_angle`, proportional to the cosine
    of its latitude), so a bin's value is the mean over the patch of sphere it covers.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        output_size: an int or a pair (height, width); None in the pair keeps the input's size.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Returns:
        (N, C, height, width) in the input's dtype and memory format.

    Raises:
        TypeError: ``output_size`` of another form.

    Example:
        A panorama bright in its top row only: the polar row covers little of the sphere.

        >>> x = torch.zeros(1, 1, 4, 8)
        >>> x[:, :, 0] = 1.0
        >>> equi_adaptive_avg_pool2d(x, 1)
        tensor([[[[0.1464]]]])
        >>> torch.nn.functional.adaptive_avg_pool2d(x, 1)
        tensor([[[[0.2500]]]])
    """
    input, unbatched = _checks.image(input)
    size = _output_size(output_size)
    lat_range, lon_span = _checks.sphere_range(lat_range, lon_span)
    height, width = input.shape[-2:]
    out_h, out_w = (n if o is None else o for n, o in zip((height, width), size))
    rows = _bins(height, out_h, row_bands(height, lat_range))  # a row's solid angle, but for the constant dlambda
    cols = _bins(width, out_w)
    factory = dict(dtype=input.dtype, device=input.device)
    # In the input's dtype, as torch's adaptive pooling (autocast would run the matmuls in bfloat16).
    autocast_off = torch.autocast(input.device.type, enabled=False) if _checks._autocast(input.device) else None
    with autocast_off or contextlib.nullcontext():
        out = _checks.in_layout_of(rows.to(**factory) @ input @ cols.to(**factory).T, input)
    return out.squeeze(0) if unbatched else out
