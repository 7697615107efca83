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
    phi0 = (top - (centre_y + 0.5) * dphi).clamp(-math.pi / 2, math.pi / 2)[:, None, None]
    b = ((torch.arange(kh, **f64) - (kh - 1) / 2) * dh * math.tan(dphi))[None, :, None]
    a = ((torch.arange(kw, **f64) - (kw - 1) / 2) * dw * math.tan(dlam))[None, None, :]
    norm = torch.sqrt(1 + a * a + b * b)
    phi = torch.asin(((phi0.sin() - b * phi0.cos()) / norm).clamp(-1, 1))
    dlon = torch.atan2(a.expand_as(norm), phi0.cos() + b * phi0.sin())
    rows = (top - phi) / dphi - 0.5
    cols = -pw + dw * (kw - 1) / 2 + dlon / dlam
    return rows, cols


def _read(image, y, x, g: _checks.Geometry):
    """image[..., y, x] under the spherical boundary rules, for integer index tensors y, x."""
    h, w = g.height, g.width
    full_lon = abs(g.lon_span - 360.0) < 1e-9
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
    return image.flatten(-2)[..., index] * valid.to(image.dtype)


def equi_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Reference of :func:`equiconv.functional.equi_conv2d` (same arguments and result)."""
    input, g, unbatched = _checks.conv_call(input, weight, bias, stride, padding, dilation, groups,
                                            lat_range, lon_span)
    rows, cols = _grid(g)
    wo = g.out_size[1]
    ys = rows[..., None]                                                         # (Ho, kH, kW, 1)
    xs = cols[..., None] + torch.arange(wo, dtype=torch.float64) * g.stride[1]   # (Ho, kH, kW, Wo)
    y0, x0 = ys.floor(), xs.floor()
    wy, wx = (ys - y0).to(input.dtype), (xs - x0).to(input.dtype)
    y0, x0 = y0.long(), x0.long()
    samples = 0
    for dy, fy in ((0, 1 - wy), (1, wy)):
        for dx, fx in ((0, 1 - wx), (1, wx)):
            samples = samples + (fy * fx).to(input.device) * _read(input, (y0 + dy).to(input.device),
                                                                  (x0 + dx).to(input.device), g)
    n, c = input.shape[:2]
    samples = samples.view(n, groups, c // groups, *samples.shape[2:])          # (N, G, C/G, Ho, kH, kW, Wo)
    w = weight.view(groups, weight.shape[0] // groups, *weight.shape[1:])       # (G, O/G, C/G, kH, kW)
    out = torch.einsum("ngcrijq,gocij->ngorq", samples, w).reshape(n, weight.shape[0], *g.out_size)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
