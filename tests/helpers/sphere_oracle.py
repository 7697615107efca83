"""Independent statement of the geometry contract for the tests.

Built from 3-D vectors at the true longitude of every kernel centre (a different derivation
from the closed form of the core and the reference): the kernel lies on the tangent plane,
spanned by unit east/north vectors, and each tap is projected back to the unit sphere.
"""
import math

import torch


def tap_positions(height, width, kernel, stride, padding, dilation, lat_range, lon_span, r, q):
    """[(y_s, x_s, cos(latitude of the sample))] for every tap (i, j), row-major, of output (r, q)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    top = math.radians(lat_range[0])
    dphi = math.radians(lat_range[0] - lat_range[1]) / height
    dlam = math.radians(lon_span) / width
    yc = r * sh - ph + dh * (kh - 1) / 2
    xc = q * sw - pw + dw * (kw - 1) / 2
    phi0 = min(max(top - (yc + 0.5) * dphi, -math.pi / 2), math.pi / 2)
    lam0 = (xc + 0.5) * dlam - math.pi
    centre = (math.cos(phi0) * math.cos(lam0), math.cos(phi0) * math.sin(lam0), math.sin(phi0))
    east = (-math.sin(lam0), math.cos(lam0), 0.0)
    north = (-math.sin(phi0) * math.cos(lam0), -math.sin(phi0) * math.sin(lam0), math.cos(phi0))
    taps = []
    for i in range(kh):
        b = (i - (kh - 1) / 2) * dh * math.tan(dphi)  # towards the south
        for j in range(kw):
            a = (j - (kw - 1) / 2) * dw * math.tan(dlam)
            p = [c + a * e - b * n for c, e, n in zip(centre, east, north)]
            norm = math.sqrt(sum(v * v for v in p))
            x, y, z = (v / norm for v in p)
            phi = math.asin(max(-1.0, min(1.0, z)))
            dlon = math.atan2(y, x) - lam0
            dlon = math.atan2(math.sin(dlon), math.cos(dlon))  # wrapped into (-pi, pi]
            taps.append(((top - phi) / dphi - 0.5, xc + dlon / dlam, math.cos(phi)))
    return taps


def angle_gap(x1, x2, width, lon_span):
    """Distance between two column positions as a longitude difference modulo 360 degrees."""
    d = math.radians((x1 - x2) * lon_span / width)
    return abs(math.atan2(math.sin(d), math.cos(d)))


def directions(y, x, height, width, lat_range, lon_span):
    """Unit 3-D vectors (..., 3) at float64 pixel positions y, x (tensors), from the latitude and
    longitude of "Geometry" taken literally: a row above the top of the whole sphere has a
    latitude over 90 degrees, which is the point across the pole, half a revolution around."""
    top = math.radians(lat_range[0])
    phi = top - (y + 0.5) * math.radians(lat_range[0] - lat_range[1]) / height
    lam = (x + 0.5) * math.radians(lon_span) / width - math.pi
    phi, lam = torch.broadcast_tensors(phi, lam)
    return torch.stack((phi.cos() * lam.cos(), phi.cos() * lam.sin(), phi.sin()), -1)


def sphere_extended(x, margin):
    """The boundary rules built by hand: rows beyond a pole are the mirrored rows turned by
    half a revolution (row -1, column x reads row 0, column x + W//2), then columns wrap."""
    w = x.shape[-1]
    north = torch.roll(x[..., :margin, :].flip(-2), -(w // 2), dims=-1)
    south = torch.roll(x[..., -margin:, :].flip(-2), -(w // 2), dims=-1)
    tall = torch.cat([north, x, south], dim=-2)
    return torch.cat([tall[..., -w:], tall, tall[..., :w]], dim=-1)  # margin of a whole turn
