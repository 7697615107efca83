"""The sampling every reference operator shares: the row table of docs/geometry.md ("Tangent-plane taps") computed
with torch ops, and the bilinear samples of every tap under the boundary rules."""
import math

import torch

from equiconv import _boundary, _checks


def sampling_grid(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
                  lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Same result as :func:`equiconv.sampling_grid`, computed with torch ops.

    Args:
        height, width, kernel_size, stride, padding, dilation, lat_range, lon_span: as
            :func:`equiconv.sampling_grid`.

    Returns:
        (rows, cols), float64 tensors of shape (Ho, kH, kW).

    Example:
        >>> rows, cols = sampling_grid(4, 8, 3, padding=1)
        >>> all(torch.allclose(a, b) for a, b in zip((rows, cols), equiconv.sampling_grid(4, 8, 3, padding=1)))
        True
    """
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


def taps(input: torch.Tensor, g: _checks.Geometry) -> torch.Tensor:
    """Every tap's bilinear sample of every output pixel: (N, C, Ho, kH, kW, Wo)."""
    rows, cols = _grid(g)
    wo = g.out_size[1]
    full_lon = _boundary.full_longitude(g.lon_span)
    # Positions far outside the image read zeros: clamped next to it, the integer casts below
    # cannot overflow (on a full sphere nothing moves; full-longitude columns wrap instead).
    ys = _on_grid(rows[..., None].clamp(-2, g.height))                                     # (Ho, kH, kW, 1)
    xs = _on_grid(cols[..., None]) + torch.arange(wo, dtype=torch.float64) * g.stride[1]   # (Ho, kH, kW, Wo)
    if not full_lon:
        xs = xs.clamp(-2, g.width)
    y0, x0 = ys.floor(), xs.floor()
    wy, wx = ys - y0, xs - x0
    y0, x0 = y0.long(), x0.long()
    samples = 0
    for dy, fy in ((0, 1 - wy), (1, wy)):
        for dx, fx in ((0, 1 - wx), (1, wx)):
            share = (fy * fx).to(device=input.device, dtype=input.dtype)  # float64, rounded once
            value = _boundary.read(input, (y0 + dy).to(input.device), (x0 + dx).to(input.device),
                                   g.lat_range, g.lon_span)
            # A corner of weight zero is not read (0 * NaN would spread a NaN it never sampled).
            samples = samples + torch.where(share != 0, share * value, 0)
    return samples


def nearest_pixels(taps: torch.Tensor, g: _checks.Geometry) -> torch.Tensor:
    """For each output of a window operator, the flat index (y * width + x) of the input pixel
    nearest the tap it chose: what nn.MaxPool2d's return_indices holds, so nn.MaxUnpool2d can
    use it. ``taps`` (N, C, Ho, Wo) holds tap numbers (row-major, 0 .. kH*kW-1). A tap outside a
    partial panorama takes the nearest pixel inside. The grid comes from torch ops, so that both
    backends give the same indices and torch.compile / torch.export trace it (the core's
    sampling_grid op has no fake kernel)."""
    ho, wo = taps.shape[-2:]
    h, w = g.height, g.width
    rows, cols = (t.reshape(ho, -1).to(taps.device) for t in _grid(g))
    out_row = torch.arange(ho, device=taps.device)[:, None]
    y = rows[out_row, taps]
    x = cols[out_row, taps] + torch.arange(wo, device=taps.device, dtype=cols.dtype) * g.stride[1]
    # Clamped first so that the integer casts cannot overflow; no pixel moves (one pole crossing at most).
    y = (y.clamp(-h, 2 * h - 1) + 0.5).floor().long()
    x = (x.clamp(-w, 2 * w - 1) + 0.5).floor().long()
    return _boundary.source(y, x, h, w, g.lat_range, g.lon_span)[0]
