"""pad: padding by the sphere's boundary rules, so that a standard convolution with padding=0
after it sees no seam at +-180 degrees or at the poles (HoHoNet's left-right padding,
generalised across the poles). Pure PyTorch: it is one gather (equiconv._boundary.read), so it
has no compiled core and no separate reference."""
import torch

from equiconv import _boundary, _checks


def _sides(padding):
    """(left, right, top, bottom) from an int, a pair (pad_h, pad_w) or F.pad's 4-tuple."""
    if _checks._is_int(padding):
        sides = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) in (2, 4) and all(map(_checks._is_int, padding)):
        sides = (padding[1], padding[1], padding[0], padding[0]) if len(padding) == 2 else tuple(padding)
    else:
        raise TypeError("padding must be an int, a pair (pad_h, pad_w) or a 4-tuple "
                        f"(left, right, top, bottom) of ints, got {padding!r}")
    return tuple(_checks.size(p, "padding") for p in sides)


def pad(input, padding, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Pads an equirectangular image with what the sphere holds around it.

    ``padding`` is an int, a pair (pad_h, pad_w) or ``F.pad``'s (left, right, top, bottom).
    Columns wrap on a full circle of longitude; on the whole sphere the rows above the top row
    are the top rows turned by half a revolution (across the pole), likewise at the bottom;
    everything else outside the image is zero (``F.pad``'s zeros on a partial panorama).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        padding: an int, a pair (pad_h, pad_w) or (left, right, top, bottom).
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Returns:
        (N, C, H + top + bottom, W + left + right) in the input's memory format.

    Raises:
        TypeError: ``padding`` of another form.
        ValueError: a negative padding, or more rows across a pole than the image has.

    Example:
        On the whole sphere the row above row 0 is row 0 turned by half a revolution:

        >>> x = torch.arange(8.0).reshape(1, 1, 2, 4)
        >>> pad(x, 1)
        tensor([[[[1., 2., 3., 0., 1., 2.],
                  [3., 0., 1., 2., 3., 0.],
                  [7., 4., 5., 6., 7., 4.],
                  [5., 6., 7., 4., 5., 6.]]]])
        >>> pad(x, 1, lon_span=90.0)  # a partial panorama: zeros, as F.pad
        tensor([[[[0., 0., 0., 0., 0., 0.],
                  [0., 0., 1., 2., 3., 0.],
                  [0., 4., 5., 6., 7., 0.],
                  [0., 0., 0., 0., 0., 0.]]]])
    """
    input, unbatched = _checks.image(input)
    left, right, top, bottom = _sides(padding)
    lat_range, lon_span = _checks.sphere_range(lat_range, lon_span)
    height, width = input.shape[-2:]
    if _boundary.full_sphere(lat_range, lon_span) and max(top, bottom) > height:
        raise ValueError(f"padding {padding!r} asks for more rows than the image's {height} across "
                         "a pole: a row past the pole would cross the sphere a second time")
    device = input.device
    y = torch.arange(-top, height + bottom, device=device)[:, None]
    x = torch.arange(-left, width + right, device=device)[None, :]
    out = _checks.in_layout_of(_boundary.read(input, y, x, lat_range, lon_span), input)
    return out.squeeze(0) if unbatched else out
