"""The per-(output row, tap) tables the Triton kernels read, derived from the compiled core's
sampling plan (so both backends sample exactly the same positions with the same weights) and
cached per (geometry, device, dtype) like the plan itself: the 256 most recently used, plus every
one a CUDA graph captured (its replays read them, so they are never evicted). During a capture
nothing can be built (a host-to-device copy): a cold layer is then a clear error.

Forward table, one entry per (output row r, tap t): for the tap's upper and lower corner rows,
the source row and the column of output column 0 (the half-turn of a pole crossing already
added, wrapped into [0, W) on a full circle of longitude), and the four bilinear weights (zero
for a row outside a partial panorama). Output column q reads column ``base + dx + q * stride``,
wrapped modulo W on a full circle, zero outside [0, W) otherwise.

Inverse table (for the gathers of the input gradient and the pooling backward), a CSR list per
(input row y, tap t) of every (output row, column base, weight) whose corner reads row y: input
column x is read by output column q when ``base + q * stride`` equals x (modulo W on a full
circle). Its order is fixed, so every gather sums in the same order on every run.
"""
from collections import OrderedDict
from dataclasses import dataclass

import torch

from equiconv import _boundary, _checks
from equiconv.geometry import sampling_plan


@dataclass(frozen=True)
class Tables:
    """Device tables of one layer (see the module docstring); sizes out_h * taps, not images."""

    rows: torch.Tensor      # int32 (out_h * taps, 2): source rows of the upper and lower corners
    bases: torch.Tensor     # int32 (out_h * taps, 2): their columns for output column 0
    weights: torch.Tensor   # (out_h * taps, 4): bilinear weights (upper-left, upper-right, lower-left, lower-right)
    inv_start: torch.Tensor  # int32 (height * taps + 1): CSR offsets per (input row, tap)
    inv_row: torch.Tensor    # int32: output row of each entry
    inv_base: torch.Tensor   # int32: column base of each entry (dx included)
    inv_weight: torch.Tensor  # weight of each entry
    full_lon: bool
    wraps: int               # how many times the output columns can wrap onto one input column


def _host_tables(g: _checks.Geometry):
    """Forward and inverse tables on the CPU (integer / float64), from the compiled plan."""
    plan = sampling_plan(g.height, g.width, g.kernel_size, g.stride, g.padding, g.dilation,
                         lat_range=g.lat_range, lon_span=g.lon_span)
    ext_w, width = plan["ext_w"], g.width
    full_lon = _boundary.full_longitude(g.lon_span)
    col_src = plan["ext_col_src"][:ext_w]
    inside = (col_src >= 0).nonzero()
    # The image column of extended column 0 (modulo W on a full circle); any column inside tells it.
    x_first = int(col_src[inside[0, 0]] - inside[0, 0]) if len(inside) else -ext_w - 2 * width
    ey, ex = plan["tap_offset"] // ext_w, plan["tap_offset"] % ext_w
    corner_rows = torch.stack((ey, ey + 1), dim=1)                        # (n, 2) extended rows
    rows = plan["ext_row_src"][corner_rows]
    shift = plan["ext_row_shift"][corner_rows]
    bases = (x_first + ex)[:, None] + shift * (width // 2)
    if full_lon:
        bases = bases.remainder(width)
    weights = plan["tap_weight"].view(-1, 4).clone()
    weights.view(-1, 2, 2).masked_fill_((rows < 0)[:, :, None], 0.0)
    rows = rows.clamp(min=0)
    return rows, bases, weights, _inverse(g, rows, bases, weights, full_lon)


def _inverse(g: _checks.Geometry, rows, bases, weights, full_lon):
    """CSR per (input row, tap) of (output row, column base, weight), entries in (output row, corner) order."""
    taps = g.kernel_size[0] * g.kernel_size[1]
    n = rows.shape[0]
    k = torch.arange(n)
    out_row, tap = (k // taps).repeat_interleave(4), (k % taps).repeat_interleave(4)
    corner = torch.arange(4).repeat(n)
    dy, dx = corner // 2, corner % 2
    src_row = rows.repeat_interleave(4, dim=0).gather(1, dy[:, None]).squeeze(1)
    base = bases.repeat_interleave(4, dim=0).gather(1, dy[:, None]).squeeze(1) + dx
    if full_lon:
        base = base.remainder(g.width)
    w = weights.reshape(-1)
    keep = w != 0  # a corner of weight zero reads nothing (and must not spread a NaN)
    key = (src_row * taps + tap)[keep]
    order = torch.sort(key, stable=True).indices
    start = torch.zeros(g.height * taps + 1, dtype=torch.long)
    start[1:] = torch.bincount(key, minlength=g.height * taps).cumsum(0)
    return start, out_row[keep][order], base[keep][order], w[keep][order]


_CAPACITY = 256
_cache: "OrderedDict[tuple, Tables]" = OrderedDict()  # most recently used last
_kept = {}  # tables used while a CUDA graph was captured


def tables(g: _checks.Geometry, device: torch.device, dtype: torch.dtype) -> Tables:
    """The layer's tables on ``device``, weights in ``dtype`` (float32 for half inputs: the
    kernels blend in float32)."""
    key = (g, device, dtype)
    if key in _kept:
        return _kept[key]
    capturing = device.type == "cuda" and torch.cuda.is_current_stream_capturing()
    if key in _cache:
        _cache.move_to_end(key)
        if capturing:
            _kept[key] = _cache.pop(key)
            return _kept[key]
        return _cache[key]
    if capturing:
        raise RuntimeError(f"equiconv: this layer (input {g.height}x{g.width}, kernel {g.kernel_size[0]}x"
                           f"{g.kernel_size[1]}, {dtype}) has no tables on {device} yet, and they cannot be built "
                           "while a CUDA graph is being captured; run the layer once before the capture (a warm-up)")
    _cache[key] = _build(g, device, dtype)
    if len(_cache) > _CAPACITY:
        _cache.popitem(last=False)
    return _cache[key]


def _build(g: _checks.Geometry, device: torch.device, dtype: torch.dtype) -> Tables:
    rows, bases, weights, (start, inv_row, inv_base, inv_weight) = _host_tables(g)
    full_lon = _boundary.full_longitude(g.lon_span)
    span = (g.out_size[1] - 1) * g.stride[1] + 1
    wraps = -(-span // g.width) if full_lon else 1
    i32 = dict(dtype=torch.int32, device=device)
    return Tables(rows.to(**i32), bases.to(**i32), weights.to(device=device, dtype=dtype),
                  start.to(**i32), inv_row.to(**i32), inv_base.to(**i32),
                  inv_weight.to(device=device, dtype=dtype), full_lon, wraps)
