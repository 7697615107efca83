"""EquiUpsample: ``nn.Upsample``'s counterpart whose bilinear mode wraps in longitude and
crosses the poles (decoders without a seam)."""
from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.interpolate import _options, interpolate


class EquiUpsample(SphereModule):
    """Resamples panoramas to another grid of the same patch of sphere, without a seam.

    Like :class:`torch.nn.Upsample` (see :func:`equiconv.functional.interpolate`): ``'bilinear'``
    wraps in longitude and crosses the poles; ``'nearest'`` and ``'nearest-exact'`` are torch's.

    Args:
        size: the output (height, width), or an int for both.
        scale_factor: a number or a pair, instead of ``size``.
        mode: ``'nearest'``, ``'nearest-exact'`` or ``'bilinear'``.
        align_corners: must be None or False: the sphere's grid has no other convention.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Raises:
        ValueError: an unknown mode, ``align_corners=True``, or both or neither of ``size`` and
            ``scale_factor``.

    Example:
        >>> up = EquiUpsample(scale_factor=2, mode="bilinear")
        >>> up
        EquiUpsample(scale_factor=2.0, mode='bilinear')
        >>> up(torch.randn(1, 3, 8, 16)).shape
        torch.Size([1, 3, 16, 32])
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, *,
                 lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
        super().__init__()
        _options(size, scale_factor, mode, align_corners)  # fails here rather than at the first call
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (tuple(map(float, scale_factor)) if isinstance(scale_factor, (tuple, list))
                             else None if scale_factor is None else float(scale_factor))
        self._set_sphere(lat_range, lon_span)

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           lat_range=self.lat_range, lon_span=self.lon_span)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}" + self._sphere_repr()
