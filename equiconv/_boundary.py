"""The sphere's boundary rules as a gather (docs/geometry.md, "Bilinear taps and the boundary rules"):
what an equirectangular image holds at integer positions outside it. Shared by the pure-PyTorch
operators and the reference."""
import torch

from equiconv import _checks


def full_longitude(lon_span: float) -> bool:
    return abs(lon_span - 360.0) < 1e-9


def full_sphere(lat_range, lon_span: float) -> bool:
    return full_longitude(lon_span) and abs(lat_range[0] - 90.0) < 1e-9 and abs(lat_range[1] + 90.0) < 1e-9


def source(y: torch.Tensor, x: torch.Tensor, height: int, width: int, lat_range, lon_span: float):
    """(flat index y * width + x of the pixel that integer position (y, x) reads, whether it is
    inside): columns wrap on a full circle of longitude; on the whole sphere a row y < 0 is row
    -1-y turned by half a revolution (likewise below the last row), one crossing at most. A
    position outside otherwise gets the nearest pixel's index and False."""
    h, w = height, width
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
    return y.clamp(0, h - 1) * w + x.clamp(0, w - 1), valid


def read(image: torch.Tensor, y: torch.Tensor, x: torch.Tensor, lat_range=_checks.FULL_LAT_RANGE,
         lon_span=_checks.FULL_LON_SPAN) -> torch.Tensor:
    """image[..., y, x] under the boundary rules (see source), for broadcastable integer index
    tensors y, x on image's device; outside the panorama reads zero."""
    index, valid = source(y, x, *image.shape[-2:], lat_range, lon_span)
    return torch.where(valid, image.flatten(-2)[..., index], 0)  # not 0 * pixel: it may be NaN

