"""ONNX export of the compiled operators, with no argument for the user.

While ``torch.onnx.export`` runs (the default dynamo exporter, or the legacy one with
``dynamo=False``), the functional forms call the decompositions below instead of the compiled
ops, so the exported graph holds standard operators only. A window (convolution, pooling) is
one Gather of the four bilinear corners of every tap from a constant index table (the wrap in
longitude, the pole crossing and the zeros outside a partial panorama are all in it) and one
MatMul with their weights; then a MatMul with the layer's weight (convolution) or a
ReduceMax/ArgMax or ReduceMean over the taps (pooling). A transposed convolution, the adjoint,
is a MatMul with the weight and then, per output pixel, a Gather of the taps that land on it
and a MatMul with their weights. Measured in onnxruntime on CPU, this is 2 to 5 times faster
than a Mul and ReduceSum over the corners or ScatterElements for the adjoint; GridSample was
slower still, and off by up to 3e-4 at 512x1024 (its float32 coordinates). NaN inputs are not
covered: max pooling's NaN rule is the compiled op's only.

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
import functools

import torch
import torch.nn.functional as F

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


_SHARED = {"owner": None, "tables": {}}


def _shared(tables):
    """``tables`` computed once per export and geometry: layers of one geometry (a U-Net's double
    convolution) then use the same tensors, which the exporter stores once. The tables of an
    earlier export are not reused: the exporter would store them once per use. Keyed by the
    export's fake tensor mode (torch.export) or tracing state (the legacy exporter)."""
    @functools.wraps(tables)
    def shared(*geometry):
        from torch._guards import detect_fake_mode

        owner = id(detect_fake_mode() or torch._C._get_tracing_state())
        if _SHARED["owner"] != owner:
            _SHARED.update(owner=owner, tables={})
        key = (tables.__name__, *geometry)
        if key not in _SHARED["tables"]:
            _SHARED["tables"][key] = tables(*geometry)
        return _SHARED["tables"][key]

    return shared


@_shared
def _corners(g: _checks.Geometry, rows_out: int, cols_out: int):
    """The taps of the first ``rows_out`` x ``cols_out`` outputs (the positions of
    :func:`equiconv.reference.sampling.taps`) as (index, weight). ``index`` (rows_out, kH*kW, 4,
    cols_out): the flat input pixel (y * W + x) of each bilinear corner under the boundary rules,
    or H*W, a zero pixel, for a corner outside a partial panorama or of weight zero (as the
    reference, it is not read). ``weight`` (rows_out, kH*kW, 4), float64: by the row invariance a
    corner's weight depends on the output row and the tap, not the column."""
    with _eager():
        rows, cols = _grid(g)
        rows, cols = _on_grid(rows[:rows_out].clamp(-2, g.height)), _on_grid(cols[:rows_out])
        y0, x0 = rows.floor(), cols.floor()
        wy, wx = rows - y0, cols - x0                                           # (Ho, kH, kW)
        xs = x0[..., None] + torch.arange(cols_out, dtype=torch.float64) * g.stride[1]
        if not _boundary.full_longitude(g.lon_span):
            xs = xs.clamp(-3, g.width)  # far outside reads zero; keeps the integers small
        y0, x0 = y0.long()[..., None], xs.long()                               # (Ho, kH, kW, 1 or Wo)
        index, weight = [], []
        for dy, fy in ((0, 1 - wy), (1, wy)):
            for dx, fx in ((0, 1 - wx), (1, wx)):
                flat, valid = _boundary.source(y0 + dy, x0 + dx, g.height, g.width, g.lat_range, g.lon_span)
                share = fy * fx
                index.append(torch.where(valid & (share != 0)[..., None], flat, g.height * g.width))
                weight.append(share)
        taps = g.kernel_size[0] * g.kernel_size[1]
        index = torch.stack(index, 3).reshape(rows_out, taps, 4, cols_out)
        return index.contiguous(), torch.stack(weight, 3).reshape(rows_out, taps, 4)


@_shared
def _window_tables(g: _checks.Geometry, device: torch.device):
    """``_corners`` of every output as ``_window`` uses them, on the input's device: the index
    flat, the weights (Ho, K, 1, 4). Ready as they are, so that every layer's Gather reads the one
    shared constant."""
    index, weight = _corners(g, *g.out_size)
    with _eager():  # int32: half the file of int64, and Gather takes either
        return index.flatten().int().to(device), weight.unsqueeze(2).to(device)


def _pixels_first(image):
    """(N, C, H, W) as (H*W + 1, N*C): one pixel of the whole batch per row, and a zero pixel
    last. A gather then copies whole rows (N*C values at a time), which is what makes it fast in
    onnxruntime."""
    pixels = image.permute(2, 3, 0, 1).reshape(image.shape[2] * image.shape[3], -1)
    return F.pad(pixels, (0, 0, 0, 1))


def _window(input, g: _checks.Geometry):
    """Every tap's sample of ``input`` (N, C, H, W): (Ho, kH*kW, Wo, N, C), from one Gather of
    the four corners of every tap and one MatMul with their weights (per output row and tap,
    (1 x 4) @ (4 x Wo*N*C): faster in onnxruntime than Mul and ReduceSum over the corners). The
    Gather is an embedding lookup, which the exporter writes as a Gather of the table itself:
    index_select's would reshape and cast it per layer, storing it once per layer."""
    ho, wo = g.out_size
    index, weight = _window_tables(g, input.device)
    taps, channels = weight.shape[1], input.shape[1]
    corners = F.embedding(index, _pixels_first(input)).reshape(ho, taps, 4, -1)
    samples = torch.matmul(weight.to(input.dtype), corners)                    # (Ho, K, 1, Wo*N*C)
    return samples.reshape(ho, taps, wo, -1, channels)


def _channels_first(pixels, height, width):
    """(N, H, W, C) or (N, H*W, C) back to (N, C, H, W)."""
    return pixels.reshape(-1, height, width, pixels.shape[-1]).permute(0, 3, 1, 2)


def equi_conv2d(input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span):
    """equiconv::equi_conv2d in standard ops: the window's samples times the weight (a MatMul)."""
    height, width = _static(input.shape[2:], "equi_conv2d")
    g = _checks.geometry(height, width, tuple(weight.shape[2:]), stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    (ho, wo), samples = g.out_size, _window(input, g)                          # (Ho, K, Wo, N, C)
    out_channels, group_in, taps = weight.shape[0], weight.shape[1], samples.shape[1]
    group_out = out_channels // groups
    if groups == 1:  # a 5-D transpose: onnxruntime's 6-D one, with a group axis of 1, is slower
        samples = samples.permute(3, 0, 2, 1, 4)
    else:
        samples = samples.reshape(ho, taps, wo, -1, groups, group_in).permute(3, 4, 0, 2, 1, 5)
    samples = samples.reshape(-1, groups, ho * wo, taps * group_in)
    w = weight.reshape(groups, group_out, group_in, taps).permute(0, 3, 2, 1).reshape(groups, taps * group_in,
                                                                                      group_out)
    out = torch.matmul(samples, w).permute(0, 1, 3, 2).reshape(-1, out_channels, ho, wo)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def equi_max_pool2d(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
    """equiconv::equi_max_pool2d in standard ops: the largest sample of the window and its tap
    (the first on ties, as the compiled op)."""
    g = _checks.geometry(*_static(input.shape[2:], "equi_max_pool2d"), kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    out, winners = _window(input, g).max(1)                                   # (Ho, Wo, N, C)
    return out.permute(2, 3, 0, 1), winners.permute(2, 3, 0, 1)


def equi_avg_pool2d(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
    """equiconv::equi_avg_pool2d in standard ops: the mean of the window's samples."""
    g = _checks.geometry(*_static(input.shape[2:], "equi_avg_pool2d"), kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    return _window(input, g).mean(1).permute(2, 3, 0, 1)


@_shared
def _adjoint(g: _checks.Geometry, rows_out: int, cols_out: int, device: torch.device):
    """The transpose of ``_corners``' gather, as a gather: for each pixel of ``g``'s grid, the
    (output pixel, tap) pairs whose corners read it, as rows of a (rows_out*cols_out*kH*kW + 1)-row
    table (the last row zero), padded with that row to the largest count; and their weights.
    Returns (index (H*W*most,), weight (H*W, 1, most)); adding into a pixel becomes a gather and
    a MatMul, with no ScatterElements (serial in onnxruntime)."""
    index, weight = _corners(g, rows_out, cols_out)
    with _eager():
        taps = index.shape[1]
        target = index.permute(0, 3, 1, 2).reshape(-1)                        # (Ho, Wo, K, 4)
        source = (torch.arange(rows_out * cols_out * taps).view(rows_out, cols_out, taps, 1)
                  .expand(-1, -1, -1, 4).reshape(-1))
        share = weight[:, None].expand(-1, cols_out, -1, -1).reshape(-1)
        pixels = g.height * g.width
        read = target < pixels
        target, source, share = target[read], source[read], share[read]
        order = torch.argsort(target, stable=True)
        target, source, share = target[order], source[order], share[order]
        counts = torch.bincount(target, minlength=pixels)
        slot = torch.arange(len(target)) - (torch.cumsum(counts, 0) - counts)[target]
        most = max(int(counts.max()), 1)
        table = torch.full((pixels, most), rows_out * cols_out * taps, dtype=torch.long)
        shares = torch.zeros((pixels, most), dtype=torch.float64)
        table[target, slot] = source
        shares[target, slot] = share
        return table.flatten().to(device), shares.unsqueeze(1).to(device)


def equi_conv_transpose2d(input, weight, bias, stride, padding, output_padding, dilation, groups, lat_range,
                          lon_span):
    """equiconv::equi_conv_transpose2d in standard ops, as the convolution's adjoint: each input
    pixel times the weight (a MatMul) gives its taps' values, and each output pixel gathers those
    whose corners it is, with their weights (a Gather and a MatMul)."""
    height, width = _static(input.shape[2:], "equi_conv_transpose2d")
    kernel_size = tuple(weight.shape[2:])
    fine = _checks.transposed_size((height, width), kernel_size, stride, padding, output_padding, dilation)
    g = _checks.geometry(*fine, kernel_size, stride, padding, dilation, lat_range=lat_range, lon_span=lon_span,
                         grid="output")
    # The fine grid's convolution has at least as many outputs as the input has pixels; the
    # others would carry zeros, so only the input's are spread.
    index, share = _adjoint(g, height, width, input.device)
    in_channels, group_out = weight.shape[:2]
    group_in, taps, out_channels = in_channels // groups, kernel_size[0] * kernel_size[1], group_out * groups
    x = input.reshape(-1, groups, group_in, height * width).transpose(2, 3)  # (N, G, L, Cg)
    w = weight.reshape(groups, group_in, group_out, taps).transpose(2, 3).reshape(groups, group_in, taps * group_out)
    spread = torch.matmul(x, w).reshape(-1, groups, height * width * taps, group_out)
    spread = spread.permute(0, 2, 1, 3).reshape(-1, height * width * taps, out_channels)
    spread = F.pad(spread, (0, 0, 0, 1))
    gathered = spread.index_select(1, index).reshape(-1, *share.shape[::2], out_channels)
    out = torch.matmul(share.to(input.dtype), gathered)                          # (N, P, 1, O)
    out = _channels_first(out, *fine)
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


DECOMPOSITIONS = {  # by qualified name: the compiled core's ops and their Triton twins (same schemas)
    "equiconv::equi_conv2d": equi_conv2d,
    "equiconv::equi_conv_transpose2d": equi_conv_transpose2d,
    "equiconv::equi_max_pool2d": equi_max_pool2d,
    "equiconv::equi_avg_pool2d": equi_avg_pool2d,
    "equiconv_triton::conv2d": equi_conv2d,
    "equiconv_triton::max_pool2d": equi_max_pool2d,
    "equiconv_triton::avg_pool2d": equi_avg_pool2d,
}


def exporting() -> bool:
    """Whether torch.onnx.export is running (either exporter).

    Example:
        >>> exporting()
        False
    """
    return torch.onnx.is_in_onnx_export()


def traceable(op):
    """``op`` (a compiled ``torch.ops.equiconv`` op), or its decomposition above while an ONNX
    export runs: what the functional forms call.

    Example:
        >>> traceable(torch.ops.equiconv.equi_conv2d) is torch.ops.equiconv.equi_conv2d  # not exporting
        True
    """
    if not exporting():
        return op
    return DECOMPOSITIONS[op._qualified_op_name]
