"""The sphere's boundary rules as a gather (DESIGN.md "Geometry"): what an equirectangular image
holds at integer positions outside it. Shared by the pure-PyTorch operators and the reference."""
import torch

from equiconv import _checks


def full_longitude(lon_span: float) -> bool:
    return abs(lon_span - 360.0) < 1e-9


def full_sphere(lat_range, lon_span: float) -> bool:
    return full_longitude(lon_span) and abs(lat_range[0] - 90.0) < 1e-9 and abs(lat_range[1] + 90.0) < 1e-9


def read(image: torch.Tensor, y: torch.Tensor, x: torch.Tensor, lat_range=_checks.FULL_LAT_RANGE,
         lon_span=_checks.FULL_LON_SPAN) -> torch.Tensor:
    """image[..., y, x] under the boundary rules, for broadcastable integer index tensors y, x on
    image's device: columns wrap on a full circle of longitude; on the whole sphere a row
    y < 0 is row -1-y turned by half a revolution (likewise below the last row), one crossing
    at most; elsewhere outside reads zero."""
    h, w = image.shape[-2:]
    full_lon = full_longitude(lon_span)
    y, x = torch.broadcast_tensors(y, x)
    if full_sphere(lat_range, lon_span):
        north, south = y < 0, y >= h
        x = torch.where(north | south, x + w // 2, x)
        y = torch.where(north, -1 - y, torch.where(south, 2 * h - 1 - y, y))
    valid = (y >= 0) & (y < h)
    if full_lon:
        x = torch.remainder(x, w)
    else:
        valid = valid & (x >= 0) & (x < w)
    index = y.clamp(0, h - 1) * w + x.clamp(0, w - 1)
    return torch.where(valid, image.flatten(-2)[..., index], 0)  # not 0 * pixel: it may be NaN
