"""Pixel solid angles: the weights of area-weighted losses and metrics on equirectangular images.

An equirectangular pixel near a pole covers a sliver of sphere, one at the equator a large
patch; counting each pixel by its solid angle makes a sum over pixels a sum over the sphere.
"""
import math

import torch

from equiconv import _checks


def solid_angle(height, width, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN,
                dtype=torch.float64, device=None) -> torch.Tensor:
    """Per-row pixel solid angles in steradians, shape (height, 1), broadcasting over width.

    Row y spans latitudes [phi_top - (y+1) dphi, phi_top - y dphi] and dlambda of longitude, so
    its pixels cover dlambda * (sin(upper) - sin(lower)). Over a whole sphere they sum to 4 pi.
    """
    height = _checks.size(height, "height", minimum=1)
    width = _checks.size(width, "width", minimum=1)
    (top, bottom), lon_span = _checks.sphere_range(lat_range, lon_span)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    edges = torch.linspace(math.radians(top), math.radians(bottom), height + 1, dtype=torch.float64)
    dlam = math.radians(lon_span) / width
    omega = dlam * (edges[:-1].sin() - edges[1:].sin())
    return omega.clamp_min(0).to(dtype=dtype, device=device).unsqueeze(1)
