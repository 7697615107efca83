"""Pooling modules: drop-in ``nn.MaxPool2d`` and ``nn.AvgPool2d`` whose windows are laid on the sphere."""
from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.pool2d import equi_avg_pool2d, equi_max_pool2d


def _unsupported(name, value, allowed, why):
    if value != allowed:
        raise ValueError(f"{name}={value!r} is not supported ({why}); use {name}={allowed!r}")


class _EquiPool2d(SphereModule):
    def __init__(self, kernel_size, stride, padding, dilation, lat_range, lon_span, backend):
        super().__init__()
        self.kernel_size = _checks.pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _checks.pair(stride, "stride", 1)
        self.padding = _checks.pair(padding, "padding", 0)
        self.dilation = _checks.pair(dilation, "dilation", 1)
        self._set_sphere(lat_range, lon_span, backend)

    def _args(self) -> dict:
        return dict(kernel_size=self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation,
                    lat_range=self.lat_range, lon_span=self.lon_span, backend=self.backend)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + self._sphere_repr()


class EquiMaxPool2d(_EquiPool2d):
    """Max pooling on the sphere: the largest of a window's tangent-plane taps.

    Like :class:`torch.nn.MaxPool2d`, over the taps an :class:`EquiConv2d` with the same kernel,
    stride, padding and dilation reads (see :func:`equiconv.functional.equi_max_pool2d`). A 2x2
    stride-2 window at the equator reads the same four pixels as ``nn.MaxPool2d(2)``; towards the
    poles it widens in longitude with the sphere. Outside a partial panorama a tap reads 0, not
    -inf.

    Args:
        kernel_size: an int or a pair.
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair; it moves the output grid only.
        dilation: an int or a pair.
        return_indices: also return, as ``nn.MaxPool2d``, each output's flat input position
            (y * W + x of the pixel nearest its winning tap), so ``nn.MaxUnpool2d`` can use them.
        ceil_mode: must be False (the output grid is ``nn.Conv2d``'s).
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        backend: ``'compiled'``, ``'triton'`` or ``'reference'``.

    Raises:
        ValueError: ``ceil_mode=True``, or a bad size or range.

    Example:
        >>> pool = EquiMaxPool2d(2)
        >>> pool(torch.randn(1, 4, 16, 32)).shape
        torch.Size([1, 4, 8, 16])
        >>> out, indices = EquiMaxPool2d(2, return_indices=True)(torch.randn(1, 4, 16, 32))
        >>> torch.nn.MaxUnpool2d(2)(out, indices).shape
        torch.Size([1, 4, 16, 32])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False, *,
                 lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN, backend="compiled"):
        super().__init__(kernel_size, stride, padding, dilation, lat_range, lon_span, backend)
        _unsupported("ceil_mode", ceil_mode, False, "the output grid is nn.Conv2d's")
        self.return_indices = bool(return_indices)

    def forward(self, input):
        return equi_max_pool2d(input, return_indices=self.return_indices, **self._args())

    def extra_repr(self) -> str:
        return super().extra_repr() + (", return_indices=True" if self.return_indices else "")


class EquiAvgPool2d(_EquiPool2d):
    """Average pooling on the sphere: the mean of a window's tangent-plane taps.

    Like :class:`torch.nn.AvgPool2d` (see :func:`equiconv.functional.equi_avg_pool2d`). Every tap
    counts, also one outside a partial panorama, which reads zero.

    Args:
        kernel_size: an int or a pair.
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair; it moves the output grid only.
        ceil_mode: must be False (the output grid is ``nn.Conv2d``'s).
        count_include_pad: must be True (every tap of a window counts).
        divisor_override: divide the taps' sum by this number instead of their count, as in torch.
        dilation: an int or a pair; spreads the window as in max pooling.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).
        backend: ``'compiled'``, ``'triton'`` or ``'reference'``.

    Raises:
        ValueError: ``ceil_mode=True``, ``count_include_pad=False``, or a bad size or range.

    Example:
        >>> EquiAvgPool2d(2)(torch.randn(1, 4, 16, 32)).shape
        torch.Size([1, 4, 8, 16])

        On the whole sphere nothing is outside, so a constant image stays constant:

        >>> EquiAvgPool2d(3, stride=1, padding=1)(torch.ones(1, 1, 16, 32)).unique()
        tensor([1.])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None, *, dilation=1, lat_range=_checks.FULL_LAT_RANGE,
                 lon_span=_checks.FULL_LON_SPAN, backend="compiled"):
        super().__init__(kernel_size, stride, padding, dilation, lat_range, lon_span, backend)
        _unsupported("ceil_mode", ceil_mode, False, "the output grid is nn.Conv2d's")
        _unsupported("count_include_pad", count_include_pad, True, "every tap of a window counts")
        if divisor_override is not None:
            divisor_override = _checks.size(divisor_override, "divisor_override", minimum=1)
        self.divisor_override = divisor_override

    def forward(self, input):
        out = equi_avg_pool2d(input, **self._args())
        if self.divisor_override is not None:
            out = out * (self.kernel_size[0] * self.kernel_size[1] / self.divisor_override)
        return out

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", divisor_override={self.divisor_override}" if self.divisor_override is not None else "")
