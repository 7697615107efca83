"""Public geometry API: where every tap of an equirectangular convolution samples the input."""
import functools
from typing import Tuple

import torch

from equiconv import _checks, _core


@functools.lru_cache(maxsize=256)
def _grid(geometry: _checks.Geometry) -> Tuple[torch.Tensor, torch.Tensor]:
    _core.require()
    g = geometry
    return torch.ops.equiconv.sampling_grid(g.height, g.width, list(g.kernel_size), list(g.stride),
                                            list(g.padding), list(g.dilation), list(g.lat_range), g.lon_span)


def sampling_grid(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
                  lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """Sample positions (rows, cols), float64 tensors of shape (Ho, kH, kW), in input pixels.

    ``rows[r, i, j]`` is the row that tap (i, j) of output row r reads; ``cols[r, i, j]`` is its
    column minus ``q * stride_w`` for output column q, the same for every q (row invariance).
    Computed by the compiled core and cached by the arguments (docs/geometry.md, "Tangent-plane taps").

    Args:
        height: rows of the input.
        width: columns of the input.
        kernel_size: an int or a pair.
        stride: an int or a pair.
        padding: an int or a pair (``'same'``/``'valid'`` too).
        dilation: an int or a pair.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Returns:
        (rows, cols), two float64 CPU tensors of shape (Ho, kH, kW).

    Raises:
        ValueError: a geometry the operators refuse (pixels of 90 degrees or more, an input
            smaller than the dilated kernel, a bad range).

    Example:
        Output row 1 of a 4 x 8 whole-sphere image: the kernel's outer columns spread in longitude.

        >>> rows, cols = sampling_grid(4, 8, 3, padding=1)
        >>> rows.shape
        torch.Size([4, 3, 3])
        >>> rows[1].round(decimals=2)
        tensor([[0.4100, 0.0000, 0.4100],
                [1.1500, 1.0000, 1.1500],
                [1.9000, 2.0000, 1.9000]], dtype=torch.float64)
        >>> cols[1].round(decimals=2)
        tensor([[-1.3700,  0.0000,  1.3700],
                [-1.0500,  0.0000,  1.0500],
                [-0.8300,  0.0000,  0.8300]], dtype=torch.float64)
    """
    rows, cols = _grid(_checks.geometry(height, width, kernel_size, stride, padding, dilation,
                                        lat_range=lat_range, lon_span=lon_span))
    return rows.clone(), cols.clone()


# Names of the tensors of torch.ops.equiconv.sampling_plan after its first ([ext_h, ext_w]), in the
# order of SamplingPlan::tables() in csrc/geometry.cpp.
PLAN_TABLES = ("tap_offset", "tap_weight", "ext_row_src", "ext_row_shift", "ext_col_src", "tap_rc",
               "src_row_start", "src_row_ext", "src_col_start", "src_col_ext", "entry_start", "entry")


def sampling_plan(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
                  lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN) -> dict:
    """The compiled core's cached sampling plan for one layer, for inspection: ``ext_h``,
    ``ext_w`` and its tables (CPU; int32 index tables, float64 weights). Its size is what the layer's geometry costs,
    whatever the batch or the channels.

    Args:
        height, width, kernel_size, stride, padding, dilation, lat_range, lon_span: as
            :func:`sampling_grid`.

    Returns:
        A dict of ``ext_h``, ``ext_w`` (ints) and the tables named in ``PLAN_TABLES``.

    Example:
        >>> plan = sampling_plan(16, 32, 3, padding=1)
        >>> plan["tap_weight"].dtype
        torch.float64
    """
    _core.require()
    g = _checks.geometry(height, width, kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    shape, *tables = torch.ops.equiconv.sampling_plan(
        g.height, g.width, list(g.kernel_size), list(g.stride), list(g.padding), list(g.dilation),
        list(g.lat_range), g.lon_span)
    if len(tables) != len(PLAN_TABLES):
        raise RuntimeError(f"compiled core returned {len(tables)} plan tables, expected {len(PLAN_TABLES)}")
    return {"ext_h": int(shape[0]), "ext_w": int(shape[1]), **dict(zip(PLAN_TABLES, tables))}


def deform_offsets(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
                   lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
    """The same geometry as offsets of shape (1, 2*kH*kW, Ho, Wo) in the layout of
    ``torchvision.ops.deform_conv2d`` (dy, dx per tap, relative to the regular grid).

    Expand the batch dimension to use them. A generic deformable convolution pads with zeros,
    so it agrees with EquiConv only where no tap wraps around in longitude or crosses a pole.

    Args:
        height, width, kernel_size, stride, padding, dilation, lat_range, lon_span: as
            :func:`sampling_grid`.

    Returns:
        float64 offsets (1, 2 * kH * kW, Ho, Wo): (dy, dx) of tap 0, then of tap 1, ...

    Example:
        >>> offsets = deform_offsets(4, 8, 3, padding=1)
        >>> offsets.shape
        torch.Size([1, 18, 4, 8])
        >>> offsets[0, :6, 1, 0].round(decimals=2)  # taps (0, 0), (0, 1), (0, 2) of output row 1
        tensor([ 0.4100, -0.3700,  0.0000,  0.0000,  0.4100,  0.3700], dtype=torch.float64)
    """
    g = _checks.geometry(height, width, kernel_size, stride, padding, dilation,
                         lat_range=lat_range, lon_span=lon_span)
    rows, cols = _grid(g)
    (kh, kw), (sh, _), (ph, pw), (dh, dw) = g.kernel_size, g.stride, g.padding, g.dilation
    ho, wo = g.out_size
    f64 = dict(dtype=torch.float64)
    regular_y = torch.arange(ho, **f64)[:, None, None] * sh - ph + torch.arange(kh, **f64)[None, :, None] * dh
    regular_x = -pw + torch.arange(kw, **f64)[None, None, :] * dw
    dy, dx = (rows - regular_y).expand(ho, kh, kw), (cols - regular_x).expand(ho, kh, kw)
    offsets = torch.stack((dy, dx), dim=-1).reshape(ho, 2 * kh * kw)  # (Ho, [dy0, dx0, dy1, ...])
    return offsets.t()[None, :, :, None].expand(1, 2 * kh * kw, ho, wo).contiguous()
