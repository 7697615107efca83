"""equi_max_pool2d and equi_avg_pool2d: pooling over windows of tangent-plane taps. Functional
forms and the registrations of the compiled ops (csrc/ops/equi_pool2d/): fake kernels and
autograd.

A window is the kernel_size x kernel_size taps of an equi_conv2d with the same kernel, stride,
padding and dilation, each a bilinear sample under the boundary rules; max pooling keeps the
largest (its gradient goes through the winning tap's corners only; ties: the first tap in
row-major order), average pooling the mean over the taps. Outside a partial panorama a tap
reads zero, for max pooling too (nn.MaxPool2d pads with -inf; on a full sphere nothing is outside).
"""
import torch

from equiconv import _checks, _core, reference
from equiconv import onnx as onnx_export
from equiconv.triton import dispatch


def _call_args(g):
    return (list(g.kernel_size), list(g.stride), list(g.padding), list(g.dilation), list(g.lat_range), g.lon_span)


def equi_max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, *,
                    lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, return_indices=False,
                    backend="compiled"):
    """Max pooling on the sphere; arguments and output shape as :func:`torch.nn.functional.max_pool2d`
    (``ceil_mode=False``). ``return_indices=True`` also returns, per output element, the flat
    index (``y * W + x``) of the input pixel nearest the winning tap, as ``F.max_pool2d`` does, so
    that ``nn.MaxUnpool2d`` puts each maximum back where it was read (the winning tap is a
    bilinear sample between pixels; unpooling places it on the nearest one).

    The window is the kernel_size taps an :func:`equiconv.functional.equi_conv2d` with the same
    kernel, stride, padding and dilation reads; outside a partial panorama a tap reads 0 (not
    -inf). The gradient goes to the winning tap's four bilinear corners (ties: the first tap).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size: an int or a pair.
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair; it moves the output grid only.
        dilation: an int or a pair.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        return_indices: also return the flat input positions of the maxima.
        backend: ``'compiled'``, ``'triton'`` or ``'reference'``.

    Returns:
        (N, C, Ho, Wo) with ``F.max_pool2d``'s Ho, Wo; with ``return_indices``, also the int64
        positions of the same shape.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(1, 2, 16, 32)
        >>> equi_max_pool2d(x, 2).shape
        torch.Size([1, 2, 8, 16])

        On a small patch at the equator it is ``F.max_pool2d``:

        >>> band = torch.randn(1, 2, 8, 8)
        >>> pooled = equi_max_pool2d(band, 2, lat_range=(0.5, -0.5), lon_span=1.0)
        >>> torch.allclose(pooled, torch.nn.functional.max_pool2d(band, 2), atol=1e-3)
        True
    """
    if _checks.backend(backend) == "reference":
        return reference.equi_max_pool2d(input, kernel_size, stride, padding, dilation, lat_range=lat_range,
                                         lon_span=lon_span, return_indices=return_indices)
    input, g, unbatched = _checks.pool_call(input, kernel_size, stride, padding, dilation, lat_range, lon_span)
    _core.require()
    triton = dispatch.use_triton(input, backend)
    op = onnx_export.traceable(torch.ops.equiconv_triton.max_pool2d if triton else torch.ops.equiconv.equi_max_pool2d)
    out, winners = op(input, *_call_args(g))
    if return_indices:
        winners = onnx_export.nearest_pixels(winners, g)
    if unbatched:
        out, winners = out.squeeze(0), winners.squeeze(0)
    return (out, winners) if return_indices else out


def equi_avg_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, *,
                    lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, backend="compiled"):
    """Average pooling on the sphere: the mean of the window's taps; arguments and output shape as
    :func:`torch.nn.functional.avg_pool2d` (``ceil_mode=False``, ``count_include_pad=True``),
    with ``dilation`` as in max pooling. Every tap counts, also one outside a partial panorama
    (it reads zero).

    Args:
        input, kernel_size, stride, padding, dilation, lat_range, lon_span, backend: as
            :func:`equi_max_pool2d`.

    Returns:
        (N, C, Ho, Wo) with ``F.avg_pool2d``'s Ho, Wo.

    Example:
        >>> equi_avg_pool2d(torch.randn(2, 16, 32), 2).shape  # unbatched
        torch.Size([2, 8, 16])
        >>> ones = torch.ones(1, 1, 16, 32)
        >>> equi_avg_pool2d(ones, 3, stride=1, padding=1).unique()  # nothing is outside the sphere
        tensor([1.])
    """
    if _checks.backend(backend) == "reference":
        return reference.equi_avg_pool2d(input, kernel_size, stride, padding, dilation, lat_range=lat_range,
                                         lon_span=lon_span)
    input, g, unbatched = _checks.pool_call(input, kernel_size, stride, padding, dilation, lat_range, lon_span)
    _core.require()
    triton = dispatch.use_triton(input, backend)
    op = onnx_export.traceable(torch.ops.equiconv_triton.avg_pool2d if triton else torch.ops.equiconv.equi_avg_pool2d)
    out = op(input, *_call_args(g))
    return out.squeeze(0) if unbatched else out


if _core.AVAILABLE:
    from equiconv.triton import ops as _triton_ops  # noqa: F401  (registers equiconv_triton::*)

    def _out_shape(input, kernel_size, stride, padding, dilation):
        return (*input.shape[:2], *_checks.output_size(input.shape[2:], kernel_size, stride, padding, dilation))

    def _max_fake(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
        shape = _out_shape(input, kernel_size, stride, padding, dilation)
        return (_checks.empty_like_layout(input, shape, input),
                _checks.empty_like_layout(input.new_empty((), dtype=torch.long), shape, input))

    def _grad_input_fake(grad_output, input_size):
        """The pooling backward ops give grad_input in grad_output's memory format."""
        return _checks.empty_like_layout(grad_output, (*grad_output.shape[:2], *input_size), grad_output)

    def _max_backward_fake(grad_output, indices, input_size, *geometry):
        return _grad_input_fake(grad_output, input_size)

    def _avg_fake(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
        return _checks.empty_like_layout(input, _out_shape(input, kernel_size, stride, padding, dilation), input)

    def _avg_backward_fake(grad_output, input_size, *geometry):
        return _grad_input_fake(grad_output, input_size)

    for _prefix in ("equiconv::equi_", "equiconv_triton::"):
        torch.library.register_fake(f"{_prefix}max_pool2d")(_max_fake)
        torch.library.register_fake(f"{_prefix}max_pool2d_backward")(_max_backward_fake)
        torch.library.register_fake(f"{_prefix}avg_pool2d")(_avg_fake)
        torch.library.register_fake(f"{_prefix}avg_pool2d_backward")(_avg_backward_fake)

    def _winning_taps(image, winners, kernel_size, stride, padding, dilation, lat_range, lon_span):
        """Each output's winning tap sampled from ``image``: max pooling with its winners held
        fixed, linear in ``image``. Every tap of the windows comes from one equi_conv2d with a
        one-hot kernel per tap (the windows are that convolution's taps), then the winner's is
        gathered; equi_conv2d has gradients of every order, so this does too."""
        n, c = image.shape[:2]
        taps = kernel_size[0] * kernel_size[1]
        one_hot = torch.eye(taps, dtype=image.dtype, device=image.device).view(taps, 1, *kernel_size)
        every_tap = torch.ops.equiconv.equi_conv2d(image.reshape(n * c, 1, *image.shape[2:]), one_hot, None, stride,
                                                   padding, dilation, 1, lat_range, lon_span)
        chosen = every_tap.gather(1, winners.reshape(n * c, 1, *winners.shape[2:]))
        return chosen.view(winners.shape)

    def _register_autograd(prefix):
        """Autograd of the pooling ops named ``prefix``max_pool2d etc. (the compiled ones,
        'equiconv::equi_', or the Triton ones, 'equiconv_triton::': the same schemas), in terms of
        the same set of ops."""
        namespace, stem = prefix.split("::")
        ops = getattr(torch.ops, namespace)
        max_backward_op = getattr(ops, f"{stem}max_pool2d_backward")
        avg_backward_op = getattr(ops, f"{stem}avg_pool2d_backward")
        avg_op = getattr(ops, f"{stem}avg_pool2d")

        def _setup_max(ctx, inputs, output):
            input, *geometry = inputs
            ctx.mark_non_differentiable(output[1])
            ctx.save_for_backward(output[1])
            ctx.input_size, ctx.geometry = list(input.shape[2:]), geometry

        def _max_backward(ctx, grad_output, _grad_indices):
            (winners,) = ctx.saved_tensors
            grad = max_backward_op(grad_output, winners, ctx.input_size, *ctx.geometry)
            return (grad,) + (None,) * len(ctx.geometry)

        torch.library.register_autograd(f"{prefix}max_pool2d", _max_backward, setup_context=_setup_max)

        def _setup_max_backward(ctx, inputs, output):
            _grad_output, winners, _input_size, *geometry = inputs
            ctx.save_for_backward(winners)
            ctx.geometry = geometry

        def _max_backward_backward(ctx, gg_input):
            """The max pooling's backward is linear in grad_output; its adjoint samples the winning taps."""
            (winners,) = ctx.saved_tensors
            return (_winning_taps(gg_input, winners, *ctx.geometry), None, None) + (None,) * len(ctx.geometry)

        torch.library.register_autograd(f"{prefix}max_pool2d_backward", _max_backward_backward,
                                        setup_context=_setup_max_backward)

        def _setup_avg(ctx, inputs, output):
            input, *geometry = inputs
            ctx.input_size, ctx.geometry = list(input.shape[2:]), geometry

        def _avg_backward(ctx, grad_output):
            grad = avg_backward_op(grad_output, ctx.input_size, *ctx.geometry)
            return (grad,) + (None,) * len(ctx.geometry)

        torch.library.register_autograd(f"{prefix}avg_pool2d", _avg_backward, setup_context=_setup_avg)

        def _setup_avg_backward(ctx, inputs, output):
            _grad_output, _input_size, *geometry = inputs
            ctx.geometry = geometry

        def _avg_backward_backward(ctx, gg_input):
            """The average pooling's backward is linear in grad_output; its adjoint is the pooling itself."""
            return (avg_op(gg_input, *ctx.geometry), None) + (None,) * len(ctx.geometry)

        torch.library.register_autograd(f"{prefix}avg_pool2d_backward", _avg_backward_backward,
                                        setup_context=_setup_avg_backward)

    _register_autograd("equiconv::equi_")
    _register_autograd("equiconv_triton::")
