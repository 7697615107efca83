"""SpherePad2d: ``nn.ZeroPad2d``'s counterpart that pads with the sphere around the image, for
seam-free standard convolutions (``nn.Conv2d(padding=0)`` after it)."""
from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.pad import _sides, pad


class SpherePad2d(SphereModule):
    """Pads a panorama with what the sphere holds around it (see :func:`equiconv.functional.pad`).

    Columns wrap on a full circle of longitude, rows cross the poles turned by half a revolution on
    the whole sphere, zeros elsewhere. ``nn.Conv2d(padding=0)`` after it is a cheap seam-free
    convolution (without :class:`EquiConv2d`'s tangent-plane taps).

    Args:
        padding: an int, a pair (pad_h, pad_w) or (left, right, top, bottom); kept as the
            4-tuple, like ``nn.ZeroPad2d``.
        lat_range: (top, bottom) latitudes of the image's edges in degrees (default (90, -90)).
        lon_span: longitude the width covers in degrees (default 360).

    Raises:
        TypeError: ``padding`` of another form.

    Example:
        >>> pad = SpherePad2d((1, 2))
        >>> pad
        SpherePad2d((2, 2, 1, 1))
        >>> seamless = torch.nn.Sequential(pad, torch.nn.Conv2d(3, 8, (3, 5)))
        >>> seamless(torch.randn(1, 3, 16, 32)).shape
        torch.Size([1, 8, 16, 32])
    """

    def __init__(self, padding, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
        super().__init__()
        self.padding = _sides(padding)
        self._set_sphere(lat_range, lon_span)

    def forward(self, input):
        return pad(input, self.padding, lat_range=self.lat_range, lon_span=self.lon_span)

    def extra_repr(self) -> str:
        return f"{self.padding}" + self._sphere_repr()
