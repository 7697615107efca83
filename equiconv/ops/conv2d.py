"""equi_conv2d: the convolution on the sphere. Its functional form, and the Python-side
registrations of the compiled op (csrc/ops/equi_conv2d/): the fake (meta) kernel for
torch.compile, torch.export and meta tensors, and autograd.

The convolution is bilinear in (input, weight), so its backward is linear in each of its tensor
arguments and is itself made of the two compiled ops. Registering autograd for the backward op
in those terms gives gradients of every order (gradient penalties, gradgradcheck).
"""
import torch

from equiconv import _checks, _core, reference
from equiconv import onnx as onnx_export
from equiconv.triton import dispatch


def equi_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, backend="compiled"):
    """2-D convolution over an equirectangular image, sampling on the sphere.

    Arguments and output shape are those of :func:`torch.nn.functional.conv2d` (``padding``
    may also be ``'same'`` or ``'valid'``); each tap reads the input where the kernel, laid on
    the plane tangent to the sphere at its centre, lands (bilinear, wrapping in longitude and
    across the poles for a full panorama; docs/geometry.md).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), floating point.
        weight: (out_channels, C / groups, kH, kW).
        bias: (out_channels,) or None.
        stride: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'``; it moves the output grid only.
        dilation: an int or a pair.
        groups: as in ``F.conv2d``.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        backend: ``'compiled'`` (the C++/CUDA core, Triton kernels on CUDA where Triton imports),
            ``'triton'`` or ``'reference'`` (pure PyTorch, slow: for tests and comparison).

    Returns:
        (N, out_channels, Ho, Wo) with ``F.conv2d``'s Ho, Wo (unbatched in, unbatched out), in the
        input's memory format.

    Raises:
        ValueError: wrong rank, channel or group mismatch, an input smaller than the dilated kernel,
            tensors on different devices, or a bad ``lat_range``/``lon_span``.
        TypeError: an integer input or a non-integer size.
        RuntimeError: the compiled core is not built (``backend='reference'`` still works).

    Example:
        >>> _ = torch.manual_seed(0)
        >>> x, w = torch.randn(1, 3, 16, 32), torch.randn(8, 3, 3, 3)
        >>> equi_conv2d(x, w, padding=1).shape
        torch.Size([1, 8, 16, 32])
        >>> equi_conv2d(x[0], w, padding="same").shape  # unbatched
        torch.Size([8, 16, 32])
        >>> torch.allclose(equi_conv2d(x, w, padding=1), equi_conv2d(x, w, padding=1, backend="reference"),
        ...                atol=1e-5)
        True
    """
    if _checks.backend(backend) == "reference":
        return reference.equi_conv2d(input, weight, bias, stride, padding, dilation, groups,
                                     lat_range=lat_range, lon_span=lon_span)
    input, g, unbatched = _checks.conv_call(input, weight, bias, stride, padding, dilation, groups,
                                            lat_range, lon_span)
    _core.require()
    triton = dispatch.use_triton(input, backend)
    if triton:
        input, weight, bias = _checks.autocast_cast(input, weight, bias)
    op = onnx_export.traceable(torch.ops.equiconv_triton.conv2d if triton else torch.ops.equiconv.equi_conv2d)
    out = op(input, weight, bias, list(g.stride), list(g.padding), list(g.dilation), groups, list(g.lat_range),
             g.lon_span)
    return out.squeeze(0) if unbatched else out


if _core.AVAILABLE:
    from equiconv.triton import ops as _triton_ops  # noqa: F401  (registers equiconv_triton::*)

    def _equi_conv2d_fake(input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span):
        sizes = _checks.output_size(input.shape[2:], weight.shape[2:], stride, padding, dilation)
        return _checks.empty_like_layout(input, (input.shape[0], weight.shape[0], *sizes), input)

    def _equi_conv2d_backward_fake(grad_output, input, weight, stride, padding, dilation, groups,
                                   lat_range, lon_span, output_mask):
        empty = input.new_empty((0,))
        return (_checks.empty_like_layout(input, input.shape, input) if output_mask[0] else empty,
                weight.new_empty(weight.shape) if output_mask[1] else empty,
                grad_output.new_empty((weight.shape[0],)) if output_mask[2] else empty)

    for _name in ("equiconv::equi_conv2d", "equiconv_triton::conv2d"):
        torch.library.register_fake(_name)(_equi_conv2d_fake)
        torch.library.register_fake(f"{_name}_backward")(_equi_conv2d_backward_fake)

    def _backward_op(grad_output, input, weight, geometry, mask):
        """The compiled backward op with the geometry spread out (its callers keep it as a list)."""
        return torch.ops.equiconv.equi_conv2d_backward(grad_output, input, weight, *geometry, mask)

    def _register_autograd(conv):
        """Autograd of the forward op ``conv`` ('namespace::name') and of its backward op (the
        compiled pair or the Triton pair, which share schemas), each in terms of the pair itself."""
        namespace, name = conv.split("::")
        forward = getattr(getattr(torch.ops, namespace), name)
        backward = getattr(getattr(torch.ops, namespace), f"{name}_backward")

        def run_backward(grad_output, input, weight, geometry, mask):
            return backward(grad_output, input, weight, *geometry, mask)

        def _setup_context(ctx, inputs, output):
            input, weight, bias, *geometry = inputs
            ctx.save_for_backward(input, weight)
            ctx.geometry = geometry
            ctx.has_bias = bias is not None

        def _backward(ctx, grad_output):
            input, weight = ctx.saved_tensors
            mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
            grads = run_backward(grad_output, input, weight, ctx.geometry, mask)
            return (*(g if needed else None for g, needed in zip(grads, mask)),) + (None,) * len(ctx.geometry)

        torch.library.register_autograd(conv, _backward, setup_context=_setup_context)

        def _setup_backward_context(ctx, inputs, output):
            grad_output, input, weight, *geometry, mask = inputs
            ctx.save_for_backward(grad_output, input, weight)
            ctx.geometry, ctx.mask = geometry, mask

        def _backward_backward(ctx, gg_input, gg_weight, gg_bias):
            """Gradients of (grad_input, grad_weight, grad_bias) = backward(grad_output, input, weight).

            grad_input is conv's adjoint in grad_output with weight fixed, grad_weight its adjoint
            with input fixed, grad_bias a sum: each term below is one of the two ops again."""
            grad_output, input, weight = ctx.saved_tensors
            geometry = ctx.geometry
            gg_input = gg_input if ctx.mask[0] else None
            gg_weight = gg_weight if ctx.mask[1] else None
            gg_bias = gg_bias if ctx.mask[2] else None
            d_grad_output = d_input = d_weight = None
            if ctx.needs_input_grad[0]:
                terms = []
                if gg_input is not None:
                    terms.append(forward(gg_input, weight, None, *geometry))
                if gg_weight is not None:
                    terms.append(forward(input, gg_weight, None, *geometry))
                if gg_bias is not None:
                    terms.append(gg_bias.view(1, -1, 1, 1).expand_as(grad_output))
                d_grad_output = sum(terms[1:], terms[0]) if terms else None
            if ctx.needs_input_grad[1] and gg_weight is not None:  # <grad_weight(go, x), ggw> = <go, conv(x, ggw)>
                d_input = run_backward(grad_output, input, gg_weight, geometry, [True, False, False])[0]
            if ctx.needs_input_grad[2] and gg_input is not None:  # <grad_input(go, w), ggi> = <go, conv(ggi, w)>
                d_weight = run_backward(grad_output, gg_input, weight, geometry, [False, True, False])[1]
            return (d_grad_output, d_input, d_weight) + (None,) * (len(geometry) + 1)

        torch.library.register_autograd(f"{conv}_backward", _backward_backward,
                                        setup_context=_setup_backward_context)

    _register_autograd("equiconv::equi_conv2d")
    _register_autograd("equiconv_triton::conv2d")
