"""Patches of sphere and a smooth field on them, shared by the pure resampling ops' tests (pad,
interpolate, adaptive pooling)."""
import torch

from tests.helpers.sphere_oracle import directions


EQUATOR = ((10.0, -10.0), 40.0)  # a small partial patch: no axis wraps


BAND = ((60.0, -30.0), 360.0)    # full longitude, partial latitude


def field(y, x, height, width, sphere):
    """A smooth function on the sphere (linear in the unit vector) at pixel positions y, x."""
    v = directions(y.double(), x.double(), height, width, *sphere)
    return v @ torch.tensor([0.8, -0.5, 0.6], dtype=torch.float64) + 0.3


def sampled(height, width, sphere):
    """The field on the pixel centres of a height x width grid, as a (1, 1, H, W) image."""
    return field(torch.arange(height)[:, None], torch.arange(width)[None, :], height, width, sphere)[None, None]


def kw(sphere):
    return dict(lat_range=sphere[0], lon_span=sphere[1])


X = torch.randn(1, 2, 4, 6)  # the input of the bad-input cases
