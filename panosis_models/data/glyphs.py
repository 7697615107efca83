"""Glyphs on the sphere (SphereNet's Omni-MNIST idea on this project's terms): one of a few
shapes, drawn on the sphere at a chosen latitude and longitude and seen in an equirectangular
panorama, for the latitude-generalisation experiment. A glyph is defined on the plane tangent to
the sphere at its centre (gnomonic projection, north up), so it is the same pattern on the sphere
wherever it lies, while its panorama image stretches by 1 / cos(latitude) towards the poles."""
import math

import torch
from torch.utils.data import Dataset

from panosis_models.data._checks import check_int
from panosis_models.data.render import panorama_directions

GLYPHS = ("disk", "ring", "square", "cross", "triangle")
RADIUS_DEG = 16.0   # angular radius of a glyph of scale 1
SUPERSAMPLE = 2     # rays per pixel side, for smooth edges
BACKGROUND, INK, NOISE = 0.2, 0.6, 0.05


def _inside(kind: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Whether tangent-plane points (u, v) (glyph radius 1) lie in glyph ``kind`` (B, 1)."""
    r = (u ** 2 + v ** 2).sqrt()
    shapes = torch.stack([
        r < 1.0,                                                                    # disk
        (r > 0.55) & (r < 1.0),                                                     # ring
        torch.maximum(u.abs(), v.abs()) < 0.8,                                      # square
        ((u.abs() < 0.25) & (v.abs() < 0.95)) | ((v.abs() < 0.25) & (u.abs() < 0.95)),  # cross
        (v > -0.7) & (u.abs() < 0.9 * (0.9 - v) / 1.6),                            # triangle
    ])
    return shapes.gather(0, kind.expand_as(u)[None])[0]


def draw(kinds: torch.Tensor, latitudes: torch.Tensor, longitudes: torch.Tensor, scales: torch.Tensor,
         height: int, width: int) -> torch.Tensor:
    """(B, 1, H, W) float32 panoramas of glyph ``kinds`` (B,) centred at ``latitudes`` and
    ``longitudes`` (degrees), ``scales`` times ``RADIUS_DEG`` in radius, ink in [0, 1] (the
    share of each pixel's sub-rays inside the glyph)."""
    dirs = panorama_directions(height * SUPERSAMPLE, width * SUPERSAMPLE).reshape(1, -1, 3)
    phi, lam = latitudes.deg2rad()[:, None], longitudes.deg2rad()[:, None]
    centre = torch.stack([phi.cos() * lam.sin(), phi.cos() * lam.cos(), phi.sin()], dim=-1)
    east = torch.stack([lam.cos(), -lam.sin(), torch.zeros_like(lam)], dim=-1)
    north = torch.stack([-phi.sin() * lam.sin(), -phi.sin() * lam.cos(), phi.cos()], dim=-1)
    cos_c = (dirs * centre).sum(-1)
    size = math.tan(math.radians(RADIUS_DEG)) * scales[:, None]
    ahead = cos_c.clamp(min=1e-6)
    u, v = (dirs * east).sum(-1) / ahead / size, (dirs * north).sum(-1) / ahead / size
    ink = (_inside(kinds[:, None], u, v) & (cos_c > 0)).float()
    ink = ink.view(-1, 1, height * SUPERSAMPLE, width * SUPERSAMPLE)
    return torch.nn.functional.avg_pool2d(ink, SUPERSAMPLE)


class SphereGlyphs(Dataset):
    """``num`` panoramas (H x W, one channel) each holding one glyph at a latitude whose
    absolute value is uniform in ``latitudes`` = (lo, hi) degrees (either hemisphere), any
    longitude, scale 0.8-1.2, with a little pixel noise; items ``(image (1, H, W), class)``.
    Everything follows from ``seed``; the set is drawn at once and held in memory."""

    def __init__(self, num: int, height: int, width: int, latitudes=(0.0, 15.0), seed: int = 0,
                 chunk: int = 128):
        num, height, width = check_int("num", num, minimum=0), check_int("height", height), check_int("width", width)
        lo, hi = latitudes
        if not 0 <= lo <= hi <= 90:
            raise ValueError(f"latitudes must be (lo, hi) with 0 <= lo <= hi <= 90 degrees, got {latitudes!r}")
        generator = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(len(GLYPHS), (num,), generator=generator)
        sign = torch.randint(2, (num,), generator=generator) * 2 - 1
        self.latitudes = sign * (lo + (hi - lo) * torch.rand(num, generator=generator, dtype=torch.float64))
        longitudes = torch.rand(num, generator=generator, dtype=torch.float64) * 360 - 180
        scales = 0.8 + 0.4 * torch.rand(num, generator=generator, dtype=torch.float64)
        noise = torch.randn(num, 1, height, width, generator=generator) * NOISE
        ink = torch.cat([draw(*(t[i:i + chunk] for t in (self.labels, self.latitudes, longitudes, scales)),
                              height, width) for i in range(0, num, chunk)]) if num else noise
        self.images = (BACKGROUND + INK * ink + noise).clamp(0, 1)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], int(self.labels[index])
