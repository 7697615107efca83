"""Pixel solid angles: the weights of area-weighted losses and metrics on equirectangular images.

An equirectangular pixel near a pole covers a sliver of sphere, one at the equator a large
patch; counting each pixel by its solid angle makes a sum over pixels a sum over the sphere.
"""
import math

import torch

from equiconv import _checks


def row_bands(height, lat_range) -> torch.Tensor:
    """sin(upper) - sin(lower) of each of ``height`` equal rows over ``lat_range`` (degrees):
    a row's solid angle per radian of longitude, shape (height,). Torch ops on ``height`` only, so
    that a traced or exported caller follows the input's height."""
    top, bottom = (math.radians(v) for v in lat_range)
    edges = top + torch.arange(height + 1, dtype=torch.float64) * ((bottom - top) / height)
    return (edges[:-1].sin() - edges[1:].sin()).clamp_min(0)


def solid_angle(height, width, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN,
                dtype=torch.float64, device=None) -> torch.Tensor:
    """Per-row pixel solid angles in steradians, shape (height, 1), broadcasting over width.

    Row y spans latitudes [phi_top - (y+1) dphi, phi_top - y dphi] and dlambda of longitude, so
    its pixels cover dlambda * (sin(upper) - sin(lower)). Over a whole sphere they sum to 4 pi.

    Args:
        height: rows of the image.
        width: columns of the image.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        dtype: a floating-point dtype of the result (default float64).
        device: of the result.

    Returns:
        (height, 1) solid angles; multiply a per-pixel loss or metric by them (and divide by their
        sum times ``width``) for an area-weighted mean.

    Raises:
        TypeError: a non-integer size or a non-floating ``dtype``.
        ValueError: a size below 1 or a bad range.

    Example:
        >>> import math
        >>> w = equiconv.solid_angle(4, 8)
        >>> w.squeeze(1)
        tensor([0.2300, 0.5554, 0.5554, 0.2300], dtype=torch.float64)
        >>> round(float(w.sum() * 8 / math.pi), 6)  # the sphere's 4 pi steradians
        4.0
    """
    height = _checks.size(height, "height", minimum=1)
    width = _checks.size(width, "width", minimum=1)
    (top, bottom), lon_span = _checks.sphere_range(lat_range, lon_span)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    omega = math.radians(lon_span) / width * row_bands(height, (top, bottom))
    return omega.to(dtype=dtype, device=device).unsqueeze(1)
