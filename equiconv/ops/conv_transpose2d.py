"""equi_conv_transpose2d: the adjoint of equi_conv2d in its input (nn.ConvTranspose2d on the
sphere). Its functional form and the registrations of the compiled op
(csrc/ops/equi_conv_transpose2d/): fake kernel and autograd.

Its weight (in, out/groups, kH, kW), read as a convolution's (out, in/groups, kH, kW), is the
convolution it is the adjoint of. So its gradients are that convolution (for the input) and the
convolution's grad weight with the roles of input and output swapped; both are compiled ops with
autograd of their own, which gives gradients of every order.
"""
import torch
import torch.nn.functional as F

from equiconv import _checks, _core, reference
from equiconv import onnx as onnx_export
from equiconv.triton import dispatch
from equiconv.ops.conv2d import _backward_op as _conv2d_backward


def equi_conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                          dilation=1, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN,
                          backend="compiled"):
    """Transposed convolution over an equirectangular image, the adjoint of
    :func:`equiconv.functional.equi_conv2d`.

    Arguments, weight layout and output size are those of
    :func:`torch.nn.functional.conv_transpose2d`; ``lat_range``/``lon_span`` describe the output
    (fine) grid's panorama. For every y of the output's shape,
    ``<equi_conv2d(y, weight), input> == <y, equi_conv_transpose2d(input, weight)>``.
    ``backend='reference'`` selects the pure-PyTorch implementation, ``'triton'`` the Triton
    kernels (as :func:`equiconv.functional.equi_conv2d`'s).

    Args:
        input: (N, in_channels, H, W) or unbatched (in_channels, H, W).
        weight: (in_channels, out_channels / groups, kH, kW), ``F.conv_transpose2d``'s layout.
        bias: (out_channels,) or None.
        stride: an int or a pair.
        padding: an int or a pair.
        output_padding: an int or a pair, each smaller than the stride or the dilation.
        groups: as in ``F.conv_transpose2d``.
        dilation: an int or a pair.
        lat_range: (top, bottom) latitudes of the *output's* edges in degrees (default (90, -90)).
        lon_span: longitude the output's width covers in degrees (default 360).
        backend: ``'compiled'``, ``'triton'`` or ``'reference'``.

    Returns:
        (N, out_channels, H_out, W_out) with ``F.conv_transpose2d``'s output size.

    Raises:
        ValueError: wrong rank, channel or group mismatch, or an ``output_padding`` too large.
        TypeError: an integer input or a non-integer size.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> x, w = torch.randn(1, 8, 8, 16), torch.randn(8, 4, 3, 3)
        >>> up = equi_conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        >>> up.shape
        torch.Size([1, 4, 16, 32])

        It is the adjoint of the convolution with the same weight:

        >>> y = torch.randn(1, 4, 16, 32)
        >>> from equiconv.functional import equi_conv2d
        >>> lhs = (equi_conv2d(y, w, stride=2, padding=1) * x).sum()
        >>> torch.allclose(lhs, (y * up).sum(), rtol=1e-4)
        True
    """
    if _checks.backend(backend) == "reference":
        return reference.equi_conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                               dilation, lat_range=lat_range, lon_span=lon_span)
    input, t, unbatched = _checks.conv_transpose_call(input, weight, bias, stride, padding, output_padding,
                                                      groups, dilation, lat_range, lon_span)
    _core.require()
    g = t.fine
    if dispatch.use_triton(input, backend):
        out = _triton(*_checks.autocast_cast(input, weight, bias), g, groups)
        return out.squeeze(0) if unbatched else out
    out = onnx_export.traceable(torch.ops.equiconv.equi_conv_transpose2d)(
        input, weight, bias, list(g.stride), list(g.padding), list(t.output_padding), list(g.dilation), groups,
        list(g.lat_range), g.lon_span)
    return out.squeeze(0) if unbatched else out


def _triton(input, weight, bias, g, groups):
    """The transposed convolution through the Triton convolution's input-gradient op, which is
    the adjoint by construction; that op's autograd (the Triton forward and weight-gradient ops)
    gives this one gradients of every order. The convolution's input enters only through its
    shape, as a zero-stride placeholder that costs no memory."""
    conv_out = _checks.output_size((g.height, g.width), weight.shape[2:], g.stride, g.padding, g.dilation)
    fine = input.new_zeros(()).expand(input.shape[0], weight.shape[1] * groups, g.height, g.width)
    out = torch.ops.equiconv_triton.conv2d_backward(
        _fine_padded(input, *conv_out), fine, weight, list(g.stride), list(g.padding), list(g.dilation), groups,
        list(g.lat_range), g.lon_span, [True, False, False])[0]
    out = _checks.in_layout_of(out, input)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _fine_padded(x, height, width):
    """x zero-padded at the bottom and right to the fine grid's convolution output (height, width):
    with output_padding >= stride that convolution has more outputs than x has pixels."""
    return F.pad(x, (0, width - x.shape[-1], 0, height - x.shape[-2]))


if _core.AVAILABLE:

    @torch.library.register_fake("equiconv::equi_conv_transpose2d")
    def _fake(input, weight, bias, stride, padding, output_padding, dilation, groups, lat_range, lon_span):
        sizes = _checks.transposed_size(input.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)
        return _checks.empty_like_layout(input, (input.shape[0], weight.shape[1] * groups, *sizes), input)

    def _setup_context(ctx, inputs, output):
        input, weight, bias, stride, padding, output_padding, dilation, groups, lat_range, lon_span = inputs
        ctx.save_for_backward(input, weight)
        ctx.conv = (stride, padding, dilation, groups, lat_range, lon_span)
        ctx.has_bias = bias is not None

    def _backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = torch.ops.equiconv.equi_conv2d(grad_output, weight, None, *ctx.conv)
            grad_input = grad_input[..., :input.shape[-2], :input.shape[-1]]
        if ctx.needs_input_grad[1]:
            conv_out = _checks.output_size(grad_output.shape[2:], weight.shape[2:], *ctx.conv[:3])
            grad_weight = _conv2d_backward(_fine_padded(input, *conv_out), grad_output, weight, ctx.conv,
                                           [False, True, False])[1]
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum((0, 2, 3))
        return (grad_input, grad_weight, grad_bias) + (None,) * 7

    torch.library.register_autograd("equiconv::equi_conv_transpose2d", _backward, setup_context=_setup_context)
