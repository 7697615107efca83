"""Python-side registrations of the compiled operators: fake (meta) kernels for torch.compile
and torch.export, and autograd. The operators themselves are declared in csrc/register.cpp."""
import torch

from equiconv import _checks, _core

if _core.AVAILABLE:

    @torch.library.register_fake("equiconv::equi_conv2d")
    def _equi_conv2d_fake(input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span):
        sizes = _checks.output_size(input.shape[2:], weight.shape[2:], stride, padding, dilation)
        return input.new_empty((input.shape[0], weight.shape[0], *sizes))

    @torch.library.register_fake("equiconv::equi_conv2d_backward")
    def _equi_conv2d_backward_fake(grad_output, input, weight, stride, padding, dilation, groups,
                                   lat_range, lon_span, output_mask):
        def grad_like(needed, t, shape):
            return t.new_empty(shape) if needed else t.new_empty((0,))

        return (grad_like(output_mask[0], input, input.shape),
                grad_like(output_mask[1], weight, weight.shape),
                grad_like(output_mask[2], grad_output, (weight.shape[0],)))

    def _setup_context(ctx, inputs, output):
        input, weight, bias, *geometry = inputs
        ctx.save_for_backward(input, weight)
        ctx.geometry = geometry
        ctx.has_bias = bias is not None

    def _backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
        grads = torch.ops.equiconv.equi_conv2d_backward(grad_output, input, weight, *ctx.geometry, mask)
        return (*(g if needed else None for g, needed in zip(grads, mask)),) + (None,) * len(ctx.geometry)

    torch.library.register_autograd("equiconv::equi_conv2d", _backward, setup_context=_setup_context)
