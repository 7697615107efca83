"""Convolution modules: drop-in ``nn.Conv2d`` and ``nn.ConvTranspose2d`` for equirectangular images."""
import math

import torch
from torch import nn

from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.conv2d import equi_conv2d
from equiconv.ops.conv_transpose2d import equi_conv_transpose2d


class _EquiConvNd(SphereModule):
    """Arguments, parameters, initialisation and extra_repr shared with torch's ``_ConvNd``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, transposed, lat_range, lon_span, backend, device, dtype):
        super().__init__()
        if padding_mode != "zeros":  # taken so that nn's arguments carry over; the sphere decides the rest
            raise ValueError(f"padding_mode must be 'zeros', got {padding_mode!r}: outside the image the sphere's "
                             "boundary rules hold (equiconv.convert maps a Conv2d's other modes to them)")
        self.padding_mode = padding_mode
        in_channels = _checks.size(in_channels, "in_channels")
        out_channels = _checks.size(out_channels, "out_channels")
        groups = _checks.size(groups, "groups", minimum=1)
        if in_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _checks.pair(kernel_size, "kernel_size", 1)
        self.stride = _checks.pair(stride, "stride", 1)
        self.dilation = _checks.pair(dilation, "dilation", 1)
        self._set_sphere(lat_range, lon_span, backend)
        factory = dict(device=device, dtype=dtype)
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = nn.Parameter(torch.empty(*shape, *self.kernel_size, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The initialisation of ``nn.Conv2d`` / ``nn.ConvTranspose2d``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def _share(self, conv: nn.Module) -> "_EquiConvNd":
        """Takes ``conv``'s parameters (the same Parameter objects) and training mode."""
        self.weight = conv.weight
        self.bias = conv.bias
        self.train(conv.training)
        return self

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s + self._sphere_repr()


class EquiConv2d(_EquiConvNd):
    """A 2-D convolution over equirectangular images whose kernels are laid on the sphere.

    Like :class:`torch.nn.Conv2d` (same arguments, parameter names, shapes and initialisation, so
    state dicts move both ways), but tap (i, j) of each kernel reads the input where it lands on the
    plane tangent to the sphere at the kernel's centre (bilinear; docs/geometry.md). At the equator
    this is ``nn.Conv2d``; towards the poles the kernel widens in longitude as the sphere does.

    ``padding`` only sets the output grid, exactly as in ``nn.Conv2d``: samples outside the image
    wrap in longitude and cross the poles on a full panorama, and are zero otherwise.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: an int or a pair (kH, kW).
        stride: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'``; it moves the output grid only.
        dilation: an int or a pair; spreads the taps on the tangent plane.
        groups: as in ``nn.Conv2d``.
        bias: whether to learn an additive bias.
        padding_mode: must be ``'zeros'`` (taken so that ``nn.Conv2d``'s arguments carry over; the
            sphere's boundary rules decide what lies outside the image).
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        backend: ``'compiled'`` (the C++/CUDA core, Triton on CUDA where it imports), ``'triton'``
            or ``'reference'`` (pure PyTorch).
        device: of the parameters.
        dtype: of the parameters.

    Raises:
        ValueError: channels not divisible by ``groups``, a ``padding_mode`` other than
            ``'zeros'``, a bad ``lat_range``/``lon_span`` or ``padding='same'`` with a stride.
        TypeError: a size that is not an integer.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> conv = EquiConv2d(3, 8, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 3, 16, 32)).shape  # (N, C, H, W) on the whole sphere
        torch.Size([2, 8, 16, 32])
        >>> EquiConv2d(3, 8, 3, stride=2, padding=1, lat_range=(60.0, -40.0), lon_span=180.0)
        EquiConv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), lat_range=(60.0, -40.0), lon_span=180.0)

        Near the equator, on small pixels, it is ``nn.Conv2d`` with the same weights:

        >>> band = EquiConv2d(3, 8, 3, padding=1, lat_range=(0.5, -0.5), lon_span=1.0)
        >>> flat = torch.nn.Conv2d(3, 8, 3, padding=1)
        >>> flat.load_state_dict(band.state_dict())
        <All keys matched successfully>
        >>> x = torch.randn(1, 3, 9, 9)
        >>> torch.allclose(band(x), flat(x), atol=1e-4)
        True
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, lat_range=_checks.FULL_LAT_RANGE,
                 lon_span=_checks.FULL_LON_SPAN, backend="compiled", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, False, lat_range, lon_span, backend, device, dtype)
        _checks.padding_pair(padding, self.kernel_size, self.stride, self.dilation)  # validates
        self.padding = padding if isinstance(padding, str) else _checks.pair(padding, "padding", 0)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return equi_conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                           self.groups, lat_range=self.lat_range, lon_span=self.lon_span,
                           backend=self.backend)

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d, *, lat_range=_checks.FULL_LAT_RANGE,
                    lon_span=_checks.FULL_LON_SPAN, backend="compiled") -> "EquiConv2d":
        """An EquiConv2d sharing ``conv``'s parameters (the same Parameter objects).

        Args:
            conv: the ``nn.Conv2d`` whose weight and bias the new module holds.
            lat_range, lon_span, backend: as in the constructor.

        Returns:
            The new module, in ``conv``'s training mode.

        Example:
            >>> conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            >>> EquiConv2d.from_conv2d(conv).weight is conv.weight
            True
        """
        return cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                   conv.dilation, conv.groups, bias=conv.bias is not None, lat_range=lat_range,
                   lon_span=lon_span, backend=backend, device="meta", dtype=conv.weight.dtype)._share(conv)


class EquiConvTranspose2d(_EquiConvNd):
    """A 2-D transposed convolution on the sphere: the adjoint of :class:`EquiConv2d`.

    Like :class:`torch.nn.ConvTranspose2d` (same arguments, weight layout (in, out/groups, kH, kW),
    initialisation and output size, so state dicts move both ways). It is the adjoint of
    :class:`EquiConv2d` in its input, so a decoder's learned up-sampling reads the sphere as the
    encoder's convolutions do and has no seam either. ``forward(input, output_size=None)`` picks
    ``output_padding`` from a requested size, as ``nn.ConvTranspose2d`` does.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: an int or a pair (kH, kW).
        stride: an int or a pair: the output is about ``stride`` times larger.
        padding: an int or a pair (no strings, as in ``nn.ConvTranspose2d``).
        output_padding: extra rows/columns of the output, each smaller than the stride or the
            dilation.
        groups: as in ``nn.ConvTranspose2d``.
        bias: whether to learn an additive bias.
        dilation: an int or a pair.
        padding_mode: must be ``'zeros'``.
        lat_range: (top, bottom) latitudes of the *output's* edges in degrees (default (90, -90)).
        lon_span: longitude the output's width covers in degrees (default 360).
        backend: ``'compiled'``, ``'triton'`` or ``'reference'``.
        device: of the parameters.
        dtype: of the parameters.

    Raises:
        ValueError: channels not divisible by ``groups``, a string ``padding``, a ``padding_mode``
            other than ``'zeros'``, or an ``output_size`` the input cannot reach.

    Example:
        >>> up = EquiConvTranspose2d(8, 4, kernel_size=2, stride=2)
        >>> up(torch.randn(1, 8, 8, 16)).shape
        torch.Size([1, 4, 16, 32])
        >>> up3 = EquiConvTranspose2d(8, 4, kernel_size=3, stride=2, padding=1)
        >>> up3(torch.randn(1, 8, 8, 16), output_size=(16, 32)).shape
        torch.Size([1, 4, 16, 32])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", *, lat_range=_checks.FULL_LAT_RANGE,
                 lon_span=_checks.FULL_LON_SPAN, backend="compiled", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, True, lat_range, lon_span, backend, device, dtype)
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or a pair of ints for a transposed convolution, got {padding!r}")
        self.padding = _checks.pair(padding, "padding", 0)
        self.output_padding = _checks.pair(output_padding, "output_padding", 0)

    def forward(self, input: torch.Tensor, output_size=None) -> torch.Tensor:
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return equi_conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                     self.groups, self.dilation, lat_range=self.lat_range, lon_span=self.lon_span,
                                     backend=self.backend)

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size``: (height, width), or with the input's
        leading dimensions in front, as ``nn.ConvTranspose2d`` takes it; anything else refused."""
        if isinstance(output_size, str) or not isinstance(output_size, (tuple, list, torch.Size)):
            raise TypeError(f"output_size must be a sequence of ints (height, width), got {output_size!r}")
        leading = input.dim() - 2
        size = tuple(output_size)
        if len(size) == leading + 2:
            size = size[leading:]
        if len(size) != 2:
            raise ValueError(f"output_size must have 2 or {leading + 2} elements for {input.dim()}-D input, "
                             f"got {output_size!r}")
        size = _checks._ints(*size)
        if not all(_checks._is_int(n) or isinstance(n, torch.SymInt) for n in size):
            raise TypeError(f"output_size must be a sequence of ints (height, width), got {output_size!r}")
        smallest = _checks.transposed_size(input.shape[-2:], self.kernel_size, self.stride, self.padding, (0, 0),
                                           self.dilation)
        padding = tuple(n - m for n, m in zip(size, smallest))
        if any(not 0 <= p < max(s, d) for p, s, d in zip(padding, self.stride, self.dilation)):
            largest = tuple(m + max(s, d) - 1 for m, s, d in zip(smallest, self.stride, self.dilation))
            raise ValueError(f"output_size {size} is not reachable from input {tuple(input.shape[-2:])}: "
                             f"sizes from {smallest} to {largest} are")
        return padding

    @classmethod
    def from_conv_transpose2d(cls, conv: nn.ConvTranspose2d, *, lat_range=_checks.FULL_LAT_RANGE,
                              lon_span=_checks.FULL_LON_SPAN, backend="compiled") -> "EquiConvTranspose2d":
        """An EquiConvTranspose2d sharing ``conv``'s parameters (the same Parameter objects).

        Args:
            conv: the ``nn.ConvTranspose2d`` whose weight and bias the new module holds.
            lat_range, lon_span, backend: as in the constructor.

        Returns:
            The new module, in ``conv``'s training mode.

        Example:
            >>> conv = torch.nn.ConvTranspose2d(8, 4, 2, stride=2)
            >>> EquiConvTranspose2d.from_conv_transpose2d(conv).weight is conv.weight
            True
        """
        return cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                   conv.output_padding, conv.groups, conv.bias is not None, conv.dilation, lat_range=lat_range,
                   lon_span=lon_span, backend=backend, device="meta", dtype=conv.weight.dtype)._share(conv)
