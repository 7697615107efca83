"""Functional form of the equirectangular convolution."""
import torch

from equiconv import _checks, _core, reference
from equiconv import _ops  # noqa: F401  (registers fake kernels and autograd)

BACKENDS = ("compiled", "reference")


def equi_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, backend="compiled"):
    """2-D convolution over an equirectangular image, sampling on the sphere.

    Arguments and output shape are those of :func:`torch.nn.functional.conv2d` (``padding``
    may also be ``'same'`` or ``'valid'``); each tap reads the input where the kernel, laid on
    the plane tangent to the sphere at its centre, lands (bilinear, wrapping in longitude and
    across the poles for a full panorama). ``lat_range=(top_deg, bottom_deg)`` and
    ``lon_span`` describe a partial panorama. ``backend='reference'`` selects the pure-PyTorch
    implementation.
    """
    if backend == "reference":
        return reference.equi_conv2d(input, weight, bias, stride, padding, dilation, groups,
                                     lat_range=lat_range, lon_span=lon_span)
    if backend != "compiled":
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    input, g, unbatched = _checks.conv_call(input, weight, bias, stride, padding, dilation, groups,
                                            lat_range, lon_span)
    _core.require()
    out = torch.ops.equiconv.equi_conv2d(input, weight, bias, list(g.stride), list(g.padding),
                                         list(g.dilation), groups, list(g.lat_range), g.lon_span)
    return out.squeeze(0) if unbatched else out
