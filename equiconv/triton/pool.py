"""Host side of the pooling's Triton kernels. Extra memory: the layer's tables only."""
import torch

from equiconv import _checks
from equiconv.triton import config
from equiconv.triton.pool_kernels import pool_backward_kernel, pool_forward_kernel
from equiconv.triton.tables import tables


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _scale(taps: int, dtype: torch.dtype, device) -> torch.Tensor:
    """1/taps rounded to the accumulator dtype, as the CPU op computes it."""
    acc = config.table_dtype(dtype)
    return (torch.ones((), dtype=acc) / torch.tensor(float(taps), dtype=acc)).to(device)


def forward(input, g: _checks.Geometry, is_max: bool):
    """(out, winners) for max pooling (winners: int64 tap numbers), out for average pooling."""
    n, c = input.shape[:2]
    ho, wo = g.out_size
    taps = g.kernel_size[0] * g.kernel_size[1]
    out = _checks.empty_like_layout(input, (n, c, ho, wo), input)
    winners = _checks.empty_like_layout(input.new_empty((), dtype=torch.long), out.shape, input) if is_max else out
    if out.numel():
        t = tables(g, input.device, config.table_dtype(input.dtype))
        kernel, tiles = config.launcher(pool_forward_kernel, ["channels", "out_w"], input.dtype, input.device)
        tiles.pop("BLOCK_K")
        grid = lambda meta: (n * ho * _cdiv(wo, meta["BLOCK_M"]), _cdiv(c, meta["BLOCK_N"]))  # noqa: E731
        kernel[grid](input, out, winners, _scale(taps, input.dtype, input.device), t.rows, t.bases, t.weights,
                     c, g.width, ho, wo, taps, g.stride[1], *input.stride(), *out.stride(),
                     FULL_LON=t.full_lon, MAX=is_max, ACC=config.acc_dtype(input.dtype), **tiles)
    return (out, winners) if is_max else out


def backward(grad_output, winners, input_size, g: _checks.Geometry):
    """grad_input (grad_output's memory format) of max pooling (winners given) or average pooling."""
    n, c = grad_output.shape[:2]
    h, w = input_size
    taps = g.kernel_size[0] * g.kernel_size[1]
    grad = _checks.empty_like_layout(grad_output, (n, c, h, w), grad_output)
    if grad.numel() == 0:
        return grad
    t = tables(g, grad_output.device, config.table_dtype(grad_output.dtype))
    kernel, tiles = config.launcher(pool_backward_kernel, ["channels", "width"], grad_output.dtype,
                                    grad_output.device)
    tiles.pop("BLOCK_K")
    is_max = winners is not None
    winners = winners if is_max else grad_output
    grid = lambda meta: (n * h * _cdiv(w, meta["BLOCK_M"]), _cdiv(c, meta["BLOCK_N"]))  # noqa: E731
    kernel[grid](grad_output, winners, grad, _scale(taps, grad_output.dtype, grad_output.device), t.inv_start,
                 t.inv_row, t.inv_base, t.inv_weight, c, h, w, g.out_size[1], taps, g.stride[1], t.wraps,
                 *grad_output.stride(), *winners.stride(), *grad.stride(),
                 FULL_LON=t.full_lon, MAX=is_max, ACC=config.acc_dtype(grad_output.dtype), **tiles)
    return grad
