"""Reference of equi_conv2d: every tap's sample times the weight, summed (an einsum)."""
import torch

from equiconv import _checks
from equiconv.reference.sampling import taps


def equi_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Reference of :func:`equiconv.functional.equi_conv2d` (same arguments and result).

    Every tap's bilinear sample, built with per-pixel index tensors, times the weight: slow and
    memory-hungry, but independent of the compiled core, so the tests can compare against it.

    Args:
        input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span: as
            :func:`equiconv.functional.equi_conv2d`.

    Returns:
        The convolution, differentiable by autograd.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> x, w = torch.randn(1, 3, 8, 16), torch.randn(4, 3, 3, 3)
        >>> torch.allclose(equi_conv2d(x, w, padding=1), equiconv.functional.equi_conv2d(x, w, padding=1),
        ...                atol=1e-5)
        True
    """
    input, g, unbatched = _checks.conv_call(input, weight, bias, stride, padding, dilation, groups,
                                            lat_range, lon_span)
    samples = taps(input, g)
    n, c = input.shape[:2]
    samples = samples.view(n, groups, c // groups, *samples.shape[2:])          # (N, G, C/G, Ho, kH, kW, Wo)
    w = weight.view(groups, weight.shape[0] // groups, *weight.shape[1:])       # (G, O/G, C/G, kH, kW)
    out = torch.einsum("ngcrijq,gocij->ngorq", samples, w).reshape(n, weight.shape[0], *g.out_size)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
