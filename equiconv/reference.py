"""Pure-PyTorch reference of the EquiConv contract (DESIGN.md "Geometry").

Independent of the compiled core: it is the oracle the tests compare against, and it runs
(slowly, with per-pixel index tensors) where the core is not built. Differentiable by autograd.
"""
import math

import torch

from equiconv import _checks


def sampling_grid(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
                  lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Same result as :func:`equiconv.sampling_grid`, computed with torch ops."""
    return _grid(_checks.geometry(height, width, kernel_size, stride, padding, dilation,
                                  lat_range=lat_range, lon_span=lon_span))


def _grid(g: _checks.Geometry):
    f64 = dict(dtype=torch.float64)
    (kh, kw), (sh, _), (ph, pw), (dh, dw) = g.kernel_size, g.stride, g.padding, g.dilation
    top = math.radians(g.lat_range[0])
    dphi = math.radians(g.lat_range[0] - g.lat_range[1]) / g.height
    dlam = math.radians(g.lon_span) / g.width
    ho = g.out_size[0]
    centre_y = torch.arange(ho, **f64) * sh - ph + dh * (kh - 1) / 2
    phi_c = top - (centre_y + 0.5) * dphi
    phi0 = phi_c.clamp(-math.pi / 2, math.pi / 2)
    row0 = torch.where(phi0 == phi_c, centre_y, (top - phi0) / dphi - 0.5)[:, None, None]
    phi0 = phi0[:, None, None]
    s0, c0 = phi0.sin(), phi0.cos()
    b = ((torch.arange(kh, **f64) - (kh - 1) / 2) * dh * math.tan(dphi))[None, :, None]
    a = ((torch.arange(kw, **f64) - (kw - 1) / 2) * dw * math.tan(dlam))[None, None, :]
    # The tap's direction (x, a, z)/n: x towards the centre's meridian, z up. Its latitude is
    # phi0 plus the angle from the centre within the meridian plane, taken by atan2 in a form
    # free of cancellation (asin near 1 loses half the digits when pixels are tiny).
    x, z = c0 + b * s0, s0 - b * c0
    x, a = torch.broadcast_tensors(x, a)
    rho = torch.hypot(x, a)
    excess = torch.where(x >= 0, a * a / (rho + x), rho - x)  # rho - x
    rows = row0 - torch.atan2(-b - s0 * excess, rho * c0 + z * s0) / dphi
    cols = -pw + dw * (kw - 1) / 2 + torch.atan2(a, x) / dlam
    return rows, cols


def _on_grid(positions):
    """Positions within 1e-10 pixels of a pixel centre, moved onto it (as the compiled core does):
    a tap on the grid reads one pixel, whatever the last bit of atan."""
    nearest = positions.round()
    return torch.where((positions - nearest).abs() < 1e-10, nearest, positions)


def _full_longitude(g: _checks.Geometry) -> bool:
    return abs(g.lon_span - 360.0) < 1e-9


def _read(image, y, x, g: _checks.Geometry):
    """image[..., y, x] under the spherical boundary rules, for integer index tensors y, x."""
    h, w = g.height, g.width
    full_lon = _full_longitude(g)
    if full_lon and abs(g.lat_range[0] - 90.0) < 1e-9 and abs(g.lat_range[1] + 90.0) < 1e-9:
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


def equi_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Reference of :func:`equiconv.functional.equi_conv2d` (same arguments and result)."""
    input, g, unbatched = _checks.conv_call(input, weight, bias, stride, padding, dilation, groups,
                                            lat_range, lon_span)
    rows, cols = _grid(g)
    wo = g.out_size[1]
    # Positions far outside the image read zeros: clamped next to it, the integer casts below
    # cannot overflow (on a full sphere nothing moves; full-longitude columns wrap instead).
    ys = _on_grid(rows[..., None].clamp(-2, g.height))                                     # (Ho, kH, kW, 1)
    xs = _on_grid(cols[..., None]) + torch.arange(wo, dtype=torch.float64) * g.stride[1]   # (Ho, kH, kW, Wo)
    if not _full_longitude(g):
        xs = xs.clamp(-2, g.width)
    y0, x0 = ys.floor(), xs.floor()
    wy, wx = ys - y0, xs - x0
    y0, x0 = y0.long(), x0.long()
    samples = 0
    for dy, fy in ((0, 1 - wy), (1, wy)):
        for dx, fx in ((0, 1 - wx), (1, wx)):
            share = (fy * fx).to(device=input.device, dtype=input.dtype)  # float64, rounded once
            value = _read(input, (y0 + dy).to(input.device), (x0 + dx).to(input.device), g)
            # A corner of weight zero is not read (0 * NaN would spread a NaN it never sampled).
            samples = samples + torch.where(share != 0, share * value, 0)
    n, c = input.shape[:2]
    samples = samples.view(n, groups, c // groups, *samples.shape[2:])          # (N, G, C/G, Ho, kH, kW, Wo)
    w = weight.view(groups, weight.shape[0] // groups, *weight.shape[1:])       # (G, O/G, C/G, kH, kW)
    out = torch.einsum("ngcrijq,gocij->ngorq", samples, w).reshape(n, weight.shape[0], *g.out_size)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
