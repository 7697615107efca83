"""The Triton kernels as torch.library custom ops, ``equiconv_triton::*``, with the compiled ops'
names and schemas (so that the fake kernels and the autograd rules of equiconv/ops/ serve both;
they are registered there). Their own namespace keeps ``equiconv::*`` the compiled core's.
Triton is imported on the first call, never at import.

Each op falls back to its compiled twin when a Triton kernel fails to compile on a GPU (see
equiconv.triton.dispatch.guarded).
"""
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from equiconv import _checks
from equiconv.triton import dispatch


def _geometry(image: Tensor, kernel_size, stride, padding, dilation, lat_range, lon_span) -> _checks.Geometry:
    """The geometry the public entry points already checked, rebuilt from the op's arguments."""
    return _checks.Geometry(image.shape[2], image.shape[3], tuple(kernel_size), tuple(stride), tuple(padding),
                            tuple(dilation), tuple(lat_range), lon_span)


def _same_device(reference_name: str, reference: Tensor, **tensors: Optional[Tensor]) -> None:
    """Every tensor argument on ``reference``'s device (the kernels take raw pointers), naming the
    first one that is not: direct callers of the ops get this, not a Triton pointer error."""
    for name, t in tensors.items():
        if t is not None and t.device != reference.device:
            raise RuntimeError(f"{name} is on {t.device} but {reference_name} is on {reference.device}")


@torch.library.custom_op("equiconv_triton::conv2d", mutates_args=())
def conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor], stride: List[int], padding: List[int],
           dilation: List[int], groups: int, lat_range: List[float], lon_span: float) -> Tensor:
    from equiconv.triton import conv
    _same_device("input", input, weight=weight, bias=bias)
    g = _geometry(input, weight.shape[2:], stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: conv.forward(input, weight, bias, g, groups),
        lambda: torch.ops.equiconv.equi_conv2d(input, weight, bias, stride, padding, dilation, groups,
                                               lat_range, lon_span), input.device)


@torch.library.custom_op("equiconv_triton::conv2d_backward", mutates_args=())
def conv2d_backward(grad_output: Tensor, input: Tensor, weight: Tensor, stride: List[int], padding: List[int],
                    dilation: List[int], groups: int, lat_range: List[float], lon_span: float,
                    output_mask: List[bool]) -> Tuple[Tensor, Tensor, Tensor]:
    from equiconv.triton import conv
    _same_device("input", input, grad_output=grad_output, weight=weight)
    g = _geometry(input, weight.shape[2:], stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: conv.backward(grad_output, input, weight, g, groups, output_mask),
        lambda: torch.ops.equiconv.equi_conv2d_backward(grad_output, input, weight, stride, padding, dilation,
                                                        groups, lat_range, lon_span, output_mask), input.device)


def _pool_geometry(image_size, kernel_size, stride, padding, dilation, lat_range, lon_span) -> _checks.Geometry:
    return _checks.Geometry(image_size[0], image_size[1], tuple(kernel_size), tuple(stride), tuple(padding),
                            tuple(dilation), tuple(lat_range), lon_span)


@torch.library.custom_op("equiconv_triton::max_pool2d", mutates_args=())
def max_pool2d(input: Tensor, kernel_size: List[int], stride: List[int], padding: List[int], dilation: List[int],
               lat_range: List[float], lon_span: float) -> Tuple[Tensor, Tensor]:
    from equiconv.triton import pool
    g = _pool_geometry(input.shape[2:], kernel_size, stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: pool.forward(input, g, True),
        lambda: torch.ops.equiconv.equi_max_pool2d(input, kernel_size, stride, padding, dilation, lat_range,
                                                   lon_span), input.device)


@torch.library.custom_op("equiconv_triton::max_pool2d_backward", mutates_args=())
def max_pool2d_backward(grad_output: Tensor, indices: Tensor, input_size: List[int], kernel_size: List[int],
                        stride: List[int], padding: List[int], dilation: List[int], lat_range: List[float],
                        lon_span: float) -> Tensor:
    from equiconv.triton import pool
    _same_device("grad_output", grad_output, indices=indices)
    g = _pool_geometry(input_size, kernel_size, stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: pool.backward(grad_output, indices, input_size, g),
        lambda: torch.ops.equiconv.equi_max_pool2d_backward(grad_output, indices, input_size, kernel_size, stride,
                                                            padding, dilation, lat_range, lon_span),
        grad_output.device)


@torch.library.custom_op("equiconv_triton::avg_pool2d", mutates_args=())
def avg_pool2d(input: Tensor, kernel_size: List[int], stride: List[int], padding: List[int], dilation: List[int],
               lat_range: List[float], lon_span: float) -> Tensor:
    from equiconv.triton import pool
    g = _pool_geometry(input.shape[2:], kernel_size, stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: pool.forward(input, g, False),
        lambda: torch.ops.equiconv.equi_avg_pool2d(input, kernel_size, stride, padding, dilation, lat_range,
                                                   lon_span), input.device)


@torch.library.custom_op("equiconv_triton::avg_pool2d_backward", mutates_args=())
def avg_pool2d_backward(grad_output: Tensor, input_size: List[int], kernel_size: List[int], stride: List[int],
                        padding: List[int], dilation: List[int], lat_range: List[float], lon_span: float) -> Tensor:
    from equiconv.triton import pool
    g = _pool_geometry(input_size, kernel_size, stride, padding, dilation, lat_range, lon_span)
    return dispatch.guarded(
        lambda: pool.backward(grad_output, None, input_size, g),
        lambda: torch.ops.equiconv.equi_avg_pool2d_backward(grad_output, input_size, kernel_size, stride, padding,
                                                            dilation, lat_range, lon_span), grad_output.device)
