"""EquiAdaptiveAvgPool2d: ``nn.AdaptiveAvgPool2d``'s counterpart that averages over the sphere
(PSPNet's pyramid pooling on a panorama)."""
from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.adaptive_pool import _output_size, equi_adaptive_avg_pool2d


class EquiAdaptiveAvgPool2d(SphereModule):
    """Adaptive average pooling over the sphere: each bin holds the mean over its patch of sphere.

    Like :class:`torch.nn.AdaptiveAvgPool2d`, each pixel weighted by its solid angle (see
    :func:`equiconv.functional.equi_adaptive_avg_pool2d`): the global or pyramid pooling of a
    panorama, where polar rows count by the little sphere they cover.

    Args:
        output_size: an int or a pair (height, width); None in the pair keeps the input's size.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Raises:
        TypeError: ``output_size`` of another form.

    Example:
        >>> EquiAdaptiveAvgPool2d((2, 3))(torch.randn(1, 3, 16, 32)).shape
        torch.Size([1, 3, 2, 3])
        >>> EquiAdaptiveAvgPool2d((None, 1))(torch.randn(1, 3, 16, 32)).shape
        torch.Size([1, 3, 16, 1])
    """

    def __init__(self, output_size, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
        super().__init__()
        _output_size(output_size)  # fails here rather than at the first call
        self.output_size = output_size
        self._set_sphere(lat_range, lon_span)

    def forward(self, input):
        return equi_adaptive_avg_pool2d(input, self.output_size, lat_range=self.lat_range,
                                        lon_span=self.lon_span)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}" + self._sphere_repr()
