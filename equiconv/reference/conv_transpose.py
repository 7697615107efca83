"""Reference of equi_conv_transpose2d, by its definition: the adjoint (vector-Jacobian product)
of the reference convolution on the fine grid, taken by autograd."""
import torch
import torch.nn.functional as F

from equiconv import _checks
from equiconv.reference.conv import equi_conv2d


def equi_conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                          *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Reference of :func:`equiconv.functional.equi_conv_transpose2d` (same arguments and result).

    Args:
        input, weight, bias, stride, padding, output_padding, groups, dilation, lat_range, lon_span:
            as :func:`equiconv.functional.equi_conv_transpose2d`.

    Returns:
        The transposed convolution, differentiable in ``input`` and ``weight``.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> x, w = torch.randn(1, 4, 4, 8), torch.randn(4, 2, 2, 2)
        >>> torch.allclose(equi_conv_transpose2d(x, w, stride=2),
        ...                equiconv.functional.equi_conv_transpose2d(x, w, stride=2), atol=1e-5)
        True
    """
    input, t, unbatched = _checks.conv_transpose_call(input, weight, bias, stride, padding, output_padding,
                                                      groups, dilation, lat_range, lon_span)
    g = t.fine
    out_h, out_w = g.out_size
    x = F.pad(input, (0, out_w - input.shape[-1], 0, out_h - input.shape[-2]))  # the cropped rows' adjoint
    differentiable = torch.is_grad_enabled()
    with torch.enable_grad():
        y = input.new_zeros((input.shape[0], weight.shape[1] * groups, g.height, g.width), requires_grad=True)
        conv = equi_conv2d(y, weight, None, g.stride, g.padding, g.dilation, groups,
                           lat_range=g.lat_range, lon_span=g.lon_span)
        # create_graph: the result stays differentiable in input and weight (it is linear in each).
        (out,) = torch.autograd.grad(conv, y, x, create_graph=True)
    if not differentiable:
        out = out.detach()
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
