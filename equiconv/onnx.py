"""ONNX export of the compiled operators, with no argument for the user.

While ``torch.onnx.export`` runs (the default dynamo exporter, or the legacy one with
``dynamo=False``), the functional forms call the decompositions below instead of the compiled
ops, so the exported graph holds standard operators only: one Gather of the boundary-resolved
corners of every tap (the wrap in longitude, the pole crossing and the zeros outside a partial
panorama are all in the index table), a Mul by their bilinear weights and a ReduceSum over the
four corners, then a MatMul with the weight (convolution), a ReduceMax/ArgMax or ReduceMean
over the window (pooling), or the adjoint, a MatMul then ScatterElements with ``add``
(transposed convolution).

The tables are computed in float64 when the model is exported, for that export's height and
width: the exported graph takes any batch size (mark it dynamic with ``dynamic_shapes`` or
``dynamic_axes``), but only the height and width it was exported with.

(Registering these as decompositions of the ops, which the dynamo exporter would apply by
itself, does not work with torch 2.13: ``ExportedProgram.run_decompositions`` drops the tensor
constants that a decomposition creates. Decomposing before capture does not need that.)

The pure-PyTorch operators (pad, interpolate, adaptive pooling) need nothing: they are made of
standard ops already. ``torch.export`` and ``torch.compile`` outside an ONNX export keep the
compiled ops.
"""
import contextlib

import torch

from equiconv import _boundary, _checks
from equiconv.reference import sampling
from equiconv.reference.sampling import _grid, _on_grid


@contextlib.contextmanager
def _eager():
    """Real tensors, out of every tracer (torch.export's fake tensors and proxies, the legacy
    exporter's torch.jit tracer): the geometry tables are constants of the exported graph,
    computed in float64 (with atan2 and hypot, which ONNX lacks), not ops in it."""
    from torch._subclasses.fake_tensor import unset_fake_temporarily
    from torch.fx.experimental.proxy_tensor import disable_proxy_modes_tracing

    jit_state = torch._C._get_tracing_state()
    torch._C._set_tracing_state(None)
    try:
        with unset_fake_temporarily(), disable_proxy_modes_tracing():
            yield
    finally:
        torch._C._set_tracing_state(jit_state)


def _static(sizes, what):
    """Python ints from an export's sizes; a symbolic height or width is refused by name."""
    sizes = _checks._ints(*sizes)
    if not all(_checks._is_int(n) for n in sizes):
        raise ValueError(f"ONNX export of {what} needs a static height and width (the sampling tables are "
                         f"computed for them), got {sizes}: mark only the batch dimension as dynamic")
    return sizes


def _corners(g: _checks.Geometry, rows_out: int, cols_out: int):
    """For every tap of the first ``rows_out`` x ``cols_out`` outputs: the flat input index
    (y * W + x) of each bilinear corner under the boundary rules, and its weight (float64, zero
    where the corner lies outside a partial panorama), both (4, kH*kW, rows_out*cols_out):
    corners, taps in row-major order, outputs in row-major order. The positions are those of
    :func:`equiconv.reference.sampling.taps`."""
    with _eager():
        rows, cols = _grid(g)
        rows, cols = rows[:rows_out], cols[:rows_out]
        ys = _on_grid(rows[..., None].clamp(-2, g.height))
        xs = _on_grid(cols[..., None]) + torch.arange(cols_out, dtype=torch.float64) * g.stride[1]
        if not _boundary.full_longitude(g.lon_span):
            xs = xs.clamp(-2, g.width)
        y0, x0 = ys.floor(), xs.floor()
        wy, wx = ys - y0, xs - x0
        y0, x0 = y0.long(), x0.long()
        index, weight = [], []
        for dy, fy in ((0, 1 - wy), (1, wy)):
            for dx, fx in ((0, 1 - wx), (1, wx)):
                flat, valid = _boundary.source(y0 + dy, x0 + dx, g.height, g.width, g.lat_range, g.lon_span)
                share = torch.where(valid, fy * fx, 0)
                index.append(torch.where(share != 0, flat, 0))  # (Ho, kH, kW, Wo)
                weight.append(share)
        taps = g.kernel_size[0] * g.kernel_size[1]

        def layout(t):
            return torch.stack(t).permute(0, 2, 3, 1, 4).reshape(4, taps, rows_out * cols_out).contiguous()

        return layout(index), layout(weight)


def _window(input, g: _checks.Geometry):
    """Every tap's sample of ``input`` (N, C, H, W): (N, C, kH*kW, Ho*Wo), from one gather."""
    index, weight = _corners(g, *g.out_size)
    channels = input.shape[1]
    corners = input.reshape(-1, channels, g.height * g.width).index_select(2, index.flatten())
    corners = corners.reshape(-1, channels, *index.shape)
    return (corners * weight.to(input.dtype)).sum(2)


def equi_conv2d(input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span):
    """equiconv::equi_conv2d in standard ops: the window's samples times the weight (a MatMul)."""
    height, width = _static(input.shape[2:], "equi_conv2d")
    g = _checks.geometry(height, width, tuple(weight.shape[2:]), stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    samples = _window(input, g)  # (N, C, K, L)
    out_channels, channels, taps = weight.shape[0], input.shape[1], samples.shape[2]
    samples = samples.reshape(-1, groups, channels // groups * taps, samples.shape[-1])
    out = torch.matmul(weight.reshape(groups, out_channels // groups, -1), samples)
    out = out.reshape(-1, out_channels, *g.out_size)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def equi_max_pool2d(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
    """equiconv::equi_max_pool2d in standard ops: the largest sample of the window and its tap
    (the first on ties, as the compiled op)."""
    g = _checks.geometry(*_static(input.shape[2:], "equi_max_pool2d"), kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    out, winners = _window(input, g).max(2)
    return out.reshape(-1, input.shape[1], *g.out_size), winners.reshape(-1, input.shape[1], *g.out_size)


def equi_avg_pool2d(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
    """equiconv::equi_avg_pool2d in standard ops: the mean of the window's samples."""
    g = _checks.geometry(*_static(input.shape[2:], "equi_avg_pool2d"), kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    return _window(input, g).mean(2).reshape(-1, input.shape[1], *g.out_size)


def equi_conv_transpose2d(input, weight, bias, stride, padding, output_padding, dilation, groups, lat_range,
                          lon_span):
    """equiconv::equi_conv_transpose2d in standard ops: the convolution's adjoint, each input
    pixel's taps (a MatMul with the weight) added into the corners they read (ScatterElements)."""
    height, width = _static(input.shape[2:], "equi_conv_transpose2d")
    kernel_size = tuple(weight.shape[2:])
    fine = _checks.transposed_size((height, width), kernel_size, stride, padding, output_padding, dilation)
    g = _checks.geometry(*fine, kernel_size, stride, padding, dilation, lat_range=lat_range, lon_span=lon_span,
                         grid="output")
    # The fine grid's convolution has at least as many outputs as the input has pixels; the
    # others would carry zeros, so only the input's are spread.
    index, share = _corners(g, height, width)
    in_channels, out_group, taps = weight.shape[0], weight.shape[1], index.shape[1]
    out_channels = out_group * groups
    x = input.reshape(-1, groups, in_channels // groups, height * width)
    w = weight.reshape(groups, in_channels // groups, out_group * taps).transpose(1, 2)
    spread = torch.matmul(w, x).reshape(-1, out_channels, 1, taps, height * width)  # (N, O, 1, K, L)
    spread = (spread * share.to(input.dtype)).reshape(-1, out_channels, index.numel())
    flat = index.flatten().expand_as(spread)
    out = torch.zeros_like(spread[..., :1]).expand(-1, -1, g.height * g.width)
    out = out.scatter_add(2, flat, spread).reshape(-1, out_channels, g.height, g.width)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def nearest_pixels(taps, g: _checks.Geometry):
    """:func:`equiconv.reference.sampling.nearest_pixels` (max pooling's ``return_indices``);
    while an ONNX export runs, its answer for every tap is a constant table read by one gather."""
    if not exporting():
        return sampling.nearest_pixels(taps, g)
    ho, wo = g.out_size
    count = g.kernel_size[0] * g.kernel_size[1]
    with _eager():
        every_tap = torch.arange(count).view(1, count, 1, 1).expand(1, count, ho, wo)
        table = sampling.nearest_pixels(every_tap, g).reshape(count, ho * wo).to(taps.device)
    return table.gather(0, taps.reshape(-1, ho * wo)).reshape(taps.shape)


DECOMPOSITIONS = {
    "equi_conv2d": equi_conv2d,
    "triton_conv2d": equi_conv2d,
    "equi_conv_transpose2d": equi_conv_transpose2d,
    "equi_max_pool2d": equi_max_pool2d,
    "equi_avg_pool2d": equi_avg_pool2d,
}


def exporting() -> bool:
    """Whether torch.onnx.export is running (either exporter)."""
    return torch.onnx.is_in_onnx_export()


def traceable(op):
    """``op`` (a compiled ``torch.ops.equiconv`` op), or its decomposition above while an ONNX
    export runs: what the functional forms call."""
    if not exporting():
        return op
    return DECOMPOSITIONS[op._qualified_op_name.split("::")[1]]
