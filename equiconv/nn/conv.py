"""Convolution modules: drop-in ``nn.Conv2d`` (and ConvTranspose2d) for equirectangular images."""
import math

import torch
from torch import nn

from equiconv import _checks
from equiconv.ops.conv2d import equi_conv2d


class EquiConv2d(nn.Module):
    """Like :class:`torch.nn.Conv2d` (same arguments, parameter names, shapes and
    initialisation, so state dicts move both ways), but each kernel is laid on the sphere.

    ``lat_range=(top_deg, bottom_deg)`` and ``lon_span`` describe the panorama (default: the
    whole sphere). ``padding`` only sets the output grid, exactly as in ``nn.Conv2d``: samples
    outside the image wrap in longitude and cross the poles on a full panorama, and are zero
    otherwise. ``backend='reference'`` selects the pure-PyTorch implementation.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, *, lat_range=_checks.FULL_LAT_RANGE,
                 lon_span=_checks.FULL_LON_SPAN, backend="compiled", device=None, dtype=None):
        super().__init__()
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
        _checks.padding_pair(padding, self.kernel_size, self.stride, self.dilation)  # validates
        self.padding = padding if isinstance(padding, str) else _checks.pair(padding, "padding", 0)
        self.lat_range, self.lon_span = _checks.sphere_range(lat_range, lon_span)
        self.backend = _checks.backend(backend)
        factory = dict(device=device, dtype=dtype)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The initialisation of ``nn.Conv2d``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return equi_conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                           self.groups, lat_range=self.lat_range, lon_span=self.lon_span,
                           backend=self.backend)

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d, *, lat_range=_checks.FULL_LAT_RANGE,
                    lon_span=_checks.FULL_LON_SPAN, backend="compiled") -> "EquiConv2d":
        """An EquiConv2d sharing ``conv``'s parameters (the same Parameter objects)."""
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                  conv.dilation, conv.groups, bias=conv.bias is not None, lat_range=lat_range,
                  lon_span=lon_span, backend=backend, device="meta", dtype=conv.weight.dtype)
        new.weight = conv.weight
        new.bias = conv.bias
        new.train(conv.training)
        return new

    def __prepare_scriptable__(self):
        raise RuntimeError(
            f"{type(self).__name__} cannot be compiled by torch.jit.script (its operator takes "
            "keyword arguments and Python geometry checks). Use torch.compile or torch.export "
            "instead; torch.jit.trace also works.")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.lat_range != _checks.FULL_LAT_RANGE:
            s += f", lat_range={self.lat_range}"
        if self.lon_span != _checks.FULL_LON_SPAN:
            s += f", lon_span={self.lon_span}"
        if self.backend != "compiled":
            s += f", backend={self.backend!r}"
        return s
