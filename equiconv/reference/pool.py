"""References of equi_max_pool2d and equi_avg_pool2d: every tap's sample, reduced over the window.
Max pooling picks the winner with argmax (the first on ties) and gathers it, so that its
gradient, like the compiled op's, reaches the winning tap's corners only."""
import torch

from equiconv import _checks
from equiconv.reference.sampling import nearest_pixels, taps


def _window_samples(input, g):
    samples = taps(input, g)                                          # (N, C, Ho, kH, kW, Wo)
    n, c, ho, kh, kw, wo = samples.shape
    return samples.permute(0, 1, 2, 5, 3, 4).reshape(n, c, ho, wo, kh * kw)


def equi_max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, *,
                    lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, return_indices=False):
    """Reference of :func:`equiconv.functional.equi_max_pool2d` (same arguments and result;
    ``return_indices`` also gives the input pixels nearest the winning taps).

    Args:
        input, kernel_size, stride, padding, dilation, lat_range, lon_span, return_indices: as
            :func:`equiconv.functional.equi_max_pool2d`.

    Returns:
        The pooled tensor, and with ``return_indices`` the int64 input positions.

    Example:
        >>> x = torch.randn(1, 2, 8, 16)
        >>> torch.allclose(equi_max_pool2d(x, 2), equiconv.functional.equi_max_pool2d(x, 2), atol=1e-6)
        True
    """
    input, g, unbatched = _checks.pool_call(input, kernel_size, stride, padding, dilation, lat_range, lon_span)
    samples = _window_samples(input, g)
    # As the compiled op: the first NaN wins if there is one (NaN propagates), else the first largest.
    nan = samples.isnan()
    largest = torch.where(nan, -float("inf"), samples).argmax(-1, keepdim=True)
    winner = torch.where(nan.any(-1, keepdim=True), nan.byte().argmax(-1, keepdim=True), largest)
    out = samples.gather(-1, winner).squeeze(-1)
    winner = nearest_pixels(winner.squeeze(-1), g)
    if unbatched:
        out, winner = out.squeeze(0), winner.squeeze(0)
    return (out, winner) if return_indices else out


def equi_avg_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, *,
                    lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Reference of :func:`equiconv.functional.equi_avg_pool2d` (same arguments and result).

    Args:
        input, kernel_size, stride, padding, dilation, lat_range, lon_span: as
            :func:`equiconv.functional.equi_avg_pool2d`.

    Returns:
        The pooled tensor.

    Example:
        >>> x = torch.randn(1, 2, 8, 16)
        >>> torch.allclose(equi_avg_pool2d(x, 2), equiconv.functional.equi_avg_pool2d(x, 2), atol=1e-6)
        True
    """
    input, g, unbatched = _checks.pool_call(input, kernel_size, stride, padding, dilation, lat_range, lon_span)
    out = _window_samples(input, g).mean(-1)
    return out.squeeze(0) if unbatched else out
