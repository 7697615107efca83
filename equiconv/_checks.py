"""Argument checks and normalisation at the public boundary.

Every public entry point (functional op, reference, module, geometry API) goes through these,
so bad input gets the same clear error, naming the argument, whichever path runs.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Sequence, Tuple, Union

import torch
from torch._prims_common import suggest_memory_format

FULL_LAT_RANGE = (90.0, -90.0)
FULL_LON_SPAN = 360.0
# Pixels finer than this (in degrees) are refused: far below any camera, and near the limits of
# float64 positions. Keep in step with kMinPixelDeg in csrc/geometry.cpp.
MIN_PIXEL_DEG = 1e-10
# Sizes and geometry integers stay below 2**31, so that no product of them overflows int64.
MAX_SIZE = 2**31 - 1
# Every operator with a compiled core also has a pure-PyTorch reference (equiconv.reference) and,
# for the convolution and pooling, Triton kernels (equiconv.triton).
BACKENDS = ("compiled", "reference", "triton")

Pair = Tuple[int, int]
IntOrPair = Union[int, Sequence[int]]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _traced_size(value) -> bool:
    """A size as torch.jit.trace hands it over (a 0-d integer tensor that records where it came
    from, an input's shape): kept as it is, so that the trace follows it like torch's own ops."""
    return (torch.jit.is_tracing() and isinstance(value, torch.Tensor) and value.dim() == 0
            and not value.is_floating_point())


def size(value, name: str, minimum: int = 0) -> int:
    """An int (of any integral type, or a symbolic size under torch.export or torch.jit.trace) in
    [minimum, MAX_SIZE]."""
    if isinstance(value, torch.SymInt) or _traced_size(value):
        return value
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not minimum <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be in [{minimum}, {MAX_SIZE}], got {value!r}")
    return int(value)


def backend(value) -> str:
    """The backend name, checked."""
    if value not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {value!r}")
    return value


def empty_like_layout(t: torch.Tensor, shape, layout_of: torch.Tensor) -> torch.Tensor:
    """An empty tensor of ``shape`` in the memory format the compiled ops give ``layout_of``'s
    (for fake kernels: channels_last in, channels_last out, like nn.Conv2d)."""
    return t.new_empty(shape).contiguous(memory_format=suggest_memory_format(layout_of))


def in_layout_of(t: torch.Tensor, layout_of: torch.Tensor) -> torch.Tensor:
    """``t`` in the memory format torch's image ops give ``layout_of`` (channels_last stays
    channels_last, as through nn.ZeroPad2d, nn.AdaptiveAvgPool2d and nn.Upsample); no copy when it is.
    Strides rather than suggest_memory_format, whose size checks fail under torch.jit.trace."""
    channels_last = layout_of.dim() == 4 and layout_of.is_contiguous(memory_format=torch.channels_last) \
        and not layout_of.is_contiguous()
    return t.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def pair(value: IntOrPair, name: str, minimum: int) -> Pair:
    """(h, w) from an int or a 1- or 2-sequence of ints, each at least ``minimum``."""
    if _is_int(value):
        result = (int(value), int(value))
    elif isinstance(value, (tuple, list, torch.Size)) and len(value) in (1, 2) and all(map(_is_int, value)):
        result = (int(value[0]), int(value[-1]))
    elif isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(map(_traced_size, value)):
        return (value[0], value[-1])  # an input's sizes under torch.jit.trace
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(result) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if max(result) > MAX_SIZE:
        raise ValueError(f"{name} must be <= {MAX_SIZE}, got {value!r}")
    return result


def padding_pair(padding: Union[str, IntOrPair], kernel_size: Pair, stride: Pair, dilation: Pair) -> Pair:
    """Numeric padding; 'valid' is 0 and 'same' keeps the size (stride 1, symmetric kernels)."""
    if not isinstance(padding, str):
        return pair(padding, "padding", 0)
    if padding == "valid":
        return (0, 0)
    if padding != "same":
        raise ValueError(f"padding must be an int, a pair of ints, 'same' or 'valid', got {padding!r}")
    if stride != (1, 1):
        raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
    span = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
    if any(s % 2 for s in span):
        raise ValueError(
            f"padding='same' needs dilation*(kernel_size-1) even on both axes, got {tuple(span)} "
            "(the kernel centre must fall on a pixel centre)")
    return (span[0] // 2, span[1] // 2)


def sphere_range(lat_range: Sequence[float], lon_span: float) -> Tuple[Tuple[float, float], float]:
    """Validated (lat_range, lon_span) in degrees, as plain floats."""
    if not (isinstance(lat_range, (tuple, list)) and len(lat_range) == 2 and all(map(_is_real, lat_range))):
        raise TypeError(f"lat_range must be a pair of numbers (top_deg, bottom_deg), got {lat_range!r}")
    top, bottom = float(lat_range[0]), float(lat_range[1])
    if not (90.0 >= top > bottom >= -90.0):
        raise ValueError(f"lat_range must satisfy 90 >= top > bottom >= -90, got {lat_range!r}")
    if not _is_real(lon_span):
        raise TypeError(f"lon_span must be a number of degrees, got {lon_span!r}")
    if not 0.0 < float(lon_span) <= 360.0:
        raise ValueError(f"lon_span must be in (0, 360], got {lon_span!r}")
    return (top, bottom), float(lon_span)


def output_size(sizes, kernel_size, stride, padding, dilation) -> tuple:
    """The output grid of nn.Conv2d along each axis (works on SymInts too)."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(sizes, kernel_size, stride, padding, dilation))


@dataclass(frozen=True)
class Geometry:
    """A layer's full geometric description: what the row table is computed from."""

    height: int
    width: int
    kernel_size: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    lat_range: Tuple[float, float]
    lon_span: float

    @property
    def out_size(self) -> Pair:
        return output_size((self.height, self.width), self.kernel_size, self.stride, self.padding,
                           self.dilation)  # type: ignore[return-value]


def geometry(height, width, kernel_size, stride=1, padding=0, dilation=1, *,
             lat_range=FULL_LAT_RANGE, lon_span=FULL_LON_SPAN, grid="input") -> Geometry:
    """Checks a layer's geometry against the size of the grid it samples and returns it normalised.
    ``grid`` names that grid in errors: a transposed convolution's is its output."""
    kernel_size = pair(kernel_size, "kernel_size", 1)
    stride = pair(stride, "stride", 1)
    dilation = pair(dilation, "dilation", 1)
    padding = padding_pair(padding, kernel_size, stride, dilation)
    lat_range, lon_span = sphere_range(lat_range, lon_span)
    height, width = size(height, "height"), size(width, "width")
    if height < 1 or width < 1:
        raise ValueError(f"{grid} height and width must be positive, got {height}x{width}")
    for name, value, span, pixels, axis in (("lat_range", lat_range, lat_range[0] - lat_range[1], height, "height"),
                                            ("lon_span", lon_span, lon_span, width, "width")):
        if span / pixels < MIN_PIXEL_DEG:
            raise ValueError(f"{name} {value} over {axis} {pixels} gives pixels under {MIN_PIXEL_DEG} "
                             "degrees, too fine to compute")
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel_size)]
    if height + 2 * padding[0] < extent[0] or width + 2 * padding[1] < extent[1]:
        raise ValueError(
            f"{grid} ({height}x{width}, padding {padding}) is smaller than the dilated kernel "
            f"({extent[0]}x{extent[1]})")
    if (lat_range[0] - lat_range[1]) / height >= 90.0:
        raise ValueError(f"{grid} height {height} is too small for lat_range {lat_range}: "
                         "a pixel must span less than 90 degrees")
    if lon_span / width >= 90.0:
        raise ValueError(f"{grid} width {width} is too small for lon_span {lon_span}: "
                         "a pixel must span less than 90 degrees")
    return Geometry(height, width, kernel_size, stride, padding, dilation, lat_range, lon_span)


def _autocast(device: torch.device) -> bool:
    """Whether autocast is on for the device's type (meta and other types have none)."""
    return device.type in ("cpu", "cuda") and torch.is_autocast_enabled(device.type)


def autocast_cast(*tensors):
    """The compiled ops' autocast rule (csrc/autocast.h), for the Triton path, which the
    dispatcher's autocast kernels do not reach: under autocast for the tensors' device type, each
    floating tensor but a float64 one in the autocast dtype; unchanged otherwise."""
    device = tensors[0].device
    if not _autocast(device):
        return tensors
    dtype = torch.get_autocast_dtype(device.type)
    return tuple(t.to(dtype) if t is not None and t.is_floating_point() and t.dtype != torch.float64 else t
                 for t in tensors)


def _tensors(input, weight, bias) -> None:
    """Types, ranks, dtypes and devices of a convolution's tensors."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError(f"bias must be a torch.Tensor or None, got {type(bias).__name__}")
    if input.dim() != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {tuple(input.shape)}")
    if weight.dim() != 4:
        raise ValueError(f"weight must be 4-D, got shape {tuple(weight.shape)}")
    if not input.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor, got {input.dtype}")
    if not _autocast(input.device):  # under autocast the op casts them itself
        if weight.dtype != input.dtype:
            raise TypeError(f"weight dtype {weight.dtype} differs from input dtype {input.dtype}")
        if bias is not None and bias.dtype != input.dtype:
            raise TypeError(f"bias dtype {bias.dtype} differs from input dtype {input.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.device != input.device:
            raise RuntimeError(f"{name} is on {t.device} but input is on {input.device}")


def _channels(input, weight, bias, groups, transposed: bool) -> None:
    """Channel counts against groups: weight (out, in/groups, kH, kW) for a convolution,
    (in, out/groups, kH, kW) for a transposed one."""
    size(groups, "groups", minimum=1)
    outer, inner = weight.shape[:2]
    in_channels, out_channels = (outer, inner * groups) if transposed else (inner * groups, outer)
    if outer % groups:
        name = "in_channels" if transposed else "out_channels"
        raise ValueError(f"{name} ({outer}) must be divisible by groups ({groups})")
    if input.shape[1] != in_channels:
        layout = f"in_channels={outer}" if transposed else f"in_channels/groups={inner} x groups={groups}"
        raise ValueError(f"input has {input.shape[1]} channels but weight expects {in_channels} ({layout})")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"bias must have shape ({out_channels},), got {tuple(bias.shape)}")


def conv_tensors(input, weight, bias, groups) -> None:
    """Checks the tensors of a convolution call (ranks, dtypes, devices, channels, groups)."""
    _tensors(input, weight, bias)
    _channels(input, weight, bias, groups, transposed=False)


def _batched(input):
    """(input with a batch dimension, whether it had none): unbatched (C, H, W) input is taken like nn.Conv2d's."""
    unbatched = isinstance(input, torch.Tensor) and input.dim() == 3
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _ints(*sizes):
    """Python ints from sizes: torch.jit.trace hands them over as 0-d tensors (the geometry is fixed
    at trace time)."""
    return tuple(int(n) if isinstance(n, torch.Tensor) else n for n in sizes)


def conv_call(input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span):
    """The prologue of every convolution entry point: accepts unbatched (C, H, W) input like
    ``nn.Conv2d``, checks everything, and returns (batched input, geometry, was_unbatched)."""
    input, unbatched = _batched(input)
    conv_tensors(input, weight, bias, groups)
    height, width, *kernel_size = _ints(*input.shape[2:], *weight.shape[2:])
    g = geometry(height, width, tuple(kernel_size), stride, padding, dilation,
                 lat_range=lat_range, lon_span=lon_span)
    return input, g, unbatched


def transposed_size(sizes, kernel_size, stride, padding, output_padding, dilation) -> tuple:
    """The output grid of nn.ConvTranspose2d along each axis (works on SymInts too)."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for n, k, s, p, o, d in zip(sizes, kernel_size, stride, padding, output_padding, dilation))


@dataclass(frozen=True)
class TransposedGeometry:
    """A transposed convolution: the geometry of the convolution it is the adjoint of, on the
    fine (output) grid, and the output_padding that fixed that grid's size."""

    fine: Geometry
    output_padding: Pair


def conv_transpose_call(input, weight, bias, stride, padding, output_padding, groups, dilation,
                        lat_range, lon_span):
    """The prologue of every transposed-convolution entry point, as conv_call's: returns
    (batched input, TransposedGeometry, was_unbatched)."""
    input, unbatched = _batched(input)
    _tensors(input, weight, bias)
    _channels(input, weight, bias, groups, transposed=True)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a pair of ints for a transposed convolution, got {padding!r}")
    kernel_size = pair(_ints(*weight.shape[2:]), "kernel_size", 1)
    stride, padding = pair(stride, "stride", 1), pair(padding, "padding", 0)
    dilation, output_padding = pair(dilation, "dilation", 1), pair(output_padding, "output_padding", 0)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"output_padding must be smaller than either stride or dilation, got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    fine = transposed_size(_ints(*input.shape[2:]), kernel_size, stride, padding, output_padding, dilation)
    if min(fine) < 1:
        raise ValueError(f"the output would be empty ({fine[0]}x{fine[1]}): padding {padding} is too large "
                         f"for input {tuple(input.shape[2:])} and kernel {kernel_size}")
    g = geometry(*fine, kernel_size, stride, padding, dilation, lat_range=lat_range, lon_span=lon_span,
                 grid="output")
    return input, TransposedGeometry(g, output_padding), unbatched


def pool_call(input, kernel_size, stride, padding, dilation, lat_range, lon_span):
    """The prologue of every pooling entry point: (batched input, geometry, was_unbatched).
    ``stride=None`` is the kernel size, as in nn.MaxPool2d."""
    input, unbatched = image(input)
    kernel_size = pair(kernel_size, "kernel_size", 1)
    stride = kernel_size if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a pair of ints for pooling, got {padding!r}")
    g = geometry(*_ints(*input.shape[2:]), kernel_size, stride, padding, dilation,
                 lat_range=lat_range, lon_span=lon_span)
    return input, g, unbatched


def image(input):
    """The prologue of the operators on images alone (pooling, padding, resampling): ``input``
    must be a floating (N, C, H, W) or unbatched (C, H, W) tensor with pixels. Returns
    (batched input, was_unbatched)."""
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if input.dim() not in (3, 4):
        raise ValueError(f"input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {tuple(input.shape)}")
    if not input.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor, got {input.dtype}")
    if input.shape[-2] < 1 or input.shape[-1] < 1:
        raise ValueError(f"input height and width must be positive, got {tuple(input.shape[-2:])}")
    return _batched(input)
