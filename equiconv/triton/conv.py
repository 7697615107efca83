"""Host side of equi_conv2d's Triton kernels: operands, grids and the fixed-order sums.

Extra memory per call (beyond the op's inputs and outputs): two weight-sized copies in (groups,
taps, K, N) order, the layer's tables (out_h * taps entries, plus 4 per corner for the inverse),
and for the weight gradient ``parts`` float32 copies of the weight (parts <= 4 x the device's SMs).
Nothing scales with batch x taps x channels x pixels.
"""
import torch

from equiconv import _checks
from equiconv.triton import config
from equiconv.triton.conv_kernels import conv_forward_kernel, conv_input_grad_kernel, conv_weight_grad_kernel
from equiconv.triton.tables import tables


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _weights_kn(weight: torch.Tensor, groups: int, k_first: bool) -> torch.Tensor:
    """weight (O, C/g, kH, kW) as (groups, taps, C/g, O/g) (k_first: the forward's B) or
    (groups, taps, O/g, C/g) (the input gradient's B), contiguous."""
    o, c_g, kh, kw = weight.shape
    w = weight.reshape(groups, o // groups, c_g, kh * kw)
    return (w.permute(0, 3, 2, 1) if k_first else w.permute(0, 3, 1, 2)).contiguous()


def _statics(dtype: torch.dtype, full_lon: bool) -> dict:
    return dict(FULL_LON=full_lon, DOT=config.dot_dtype(dtype), ACC=config.acc_dtype(dtype),
                PRECISION=config.precision(dtype))


def forward(input, weight, bias, g: _checks.Geometry, groups: int) -> torch.Tensor:
    n, c = input.shape[:2]
    o = weight.shape[0]
    ho, wo = g.out_size
    t = tables(g, input.device, config.table_dtype(input.dtype))
    out = _checks.empty_like_layout(input, (n, o, ho, wo), input)
    if out.numel() == 0:
        return out
    kernel, tiles = config.launcher(conv_forward_kernel, ["c_g", "o_g", "out_w"], input.dtype, input.device,
                                    k_extent=c // groups)
    grid = lambda meta: (n * ho * _cdiv(wo, meta["BLOCK_M"]), _cdiv(o // groups, meta["BLOCK_N"]), groups)  # noqa: E731
    taps = g.kernel_size[0] * g.kernel_size[1]
    kernel[grid](input, _weights_kn(weight, groups, True), bias if bias is not None else input, out,
                 t.rows, t.bases, t.weights, c // groups, o // groups, g.width, ho, wo, taps, g.stride[1],
                 *input.stride(), *out.stride(), HAS_BIAS=bias is not None, **_statics(input.dtype, t.full_lon),
                 **tiles)
    return out


def input_grad(grad_output, weight, input_shape, layout_of, g: _checks.Geometry, groups: int) -> torch.Tensor:
    n, c, h, w = input_shape
    o = weight.shape[0]
    grad = _checks.empty_like_layout(grad_output, input_shape, layout_of)
    if grad.numel() == 0:
        return grad
    if grad_output.numel() == 0:
        return grad.zero_()
    t = tables(g, grad_output.device, config.table_dtype(grad_output.dtype))
    kernel, tiles = config.launcher(conv_input_grad_kernel, ["c_g", "o_g", "width"], grad_output.dtype,
                                    grad_output.device, k_extent=o // groups)
    grid = lambda meta: (n * h * _cdiv(w, meta["BLOCK_M"]), _cdiv(c // groups, meta["BLOCK_N"]), groups)  # noqa: E731
    taps = g.kernel_size[0] * g.kernel_size[1]
    kernel[grid](grad_output, _weights_kn(weight, groups, False), grad, t.inv_start, t.inv_row, t.inv_base,
                 t.inv_weight, c // groups, o // groups, h, w, g.out_size[1], taps, g.stride[1], t.wraps,
                 *grad_output.stride(), *grad.stride(), **_statics(grad_output.dtype, t.full_lon), **tiles)
    return grad


def _parts(device: torch.device, programs: int, rows: int) -> int:
    """How many parts the weight gradient's pixels are split into: enough programs to fill the
    device (4 per SM) without more parts than (image, output row) pairs. Fixed by the shapes and
    the device, so the sum over parts has the same order on every run."""
    if device.type == "cuda":
        sms = torch.cuda.get_device_properties(device).multi_processor_count
    else:
        sms = 2
    return max(1, min(rows, _cdiv(4 * sms, max(programs, 1))))


def weight_grad(grad_output, input, weight_shape, g: _checks.Geometry, groups: int) -> torch.Tensor:
    n, c = input.shape[:2]
    o, c_g, kh, kw = weight_shape
    o_g, taps = o // groups, kh * kw
    ho, wo = g.out_size
    acc = torch.float64 if input.dtype == torch.float64 else torch.float32
    if grad_output.numel() == 0:
        return torch.zeros(weight_shape, dtype=input.dtype, device=input.device)
    t = tables(g, input.device, config.table_dtype(input.dtype))
    kernel, tiles = config.launcher(conv_weight_grad_kernel, ["c_g", "o_g", "out_w"], input.dtype, input.device)
    m, nb = (tiles["BLOCK_M"], tiles["BLOCK_N"]) if "BLOCK_M" in tiles else (64, 64)
    parts = _parts(input.device, taps * _cdiv(o_g, m) * _cdiv(c_g, nb) * groups, n * ho)
    partial = torch.empty((parts, groups, taps, o_g, c_g), dtype=acc, device=input.device)
    grid = lambda meta: (taps * _cdiv(o_g, meta["BLOCK_M"]) * _cdiv(c_g, meta["BLOCK_N"]), groups, parts)  # noqa: E731
    kernel[grid](grad_output, input, partial, t.rows, t.bases, t.weights, c_g, o_g, g.width, ho, wo, taps,
                 g.stride[1], n * ho, _cdiv(n * ho, parts), *grad_output.stride(), *input.stride(),
                 **_statics(input.dtype, t.full_lon), **tiles)
    total = partial.sum(0)                                    # (groups, taps, O/g, C/g), a fixed order
    return total.permute(0, 2, 3, 1).reshape(weight_shape).to(input.dtype)


def backward(grad_output, input, weight, g: _checks.Geometry, groups: int, mask):
    """(grad_input, grad_weight, grad_bias) as the compiled backward op: empty where mask is False."""
    empty = lambda: input.new_empty((0,))  # noqa: E731  (one each: a custom op's results never alias)
    gi = input_grad(grad_output, weight, input.shape, input, g, groups) if mask[0] else empty()
    gw = weight_grad(grad_output, input, weight.shape, g, groups) if mask[1] else empty()
    gb = grad_output.sum((0, 2, 3), dtype=torch.float64 if input.dtype == torch.float64 else torch.float32) \
        .to(grad_output.dtype) if mask[2] else empty()
    return gi, gw, gb
