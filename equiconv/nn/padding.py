"""SpherePad2d: ``nn.ZeroPad2d``'s counterpart that pads with the sphere around the image, for
seam-free standard convolutions (``nn.Conv2d(padding=0)`` after it)."""
from equiconv import _checks
from equiconv.nn._sphere_module import SphereModule
from equiconv.ops.pad import _sides, pad


class SpherePad2d(SphereModule):
    """Pads by the boundary rules (see :func:`equiconv.functional.pad`); ``padding`` is an int,
    a pair (pad_h, pad_w) or (left, right, top, bottom), kept as the 4-tuple like nn.ZeroPad2d."""

    def __init__(self, padding, *, lat_range=_checks.FULL_LAT_RANGE, lon_span=_checks.FULL_LON_SPAN):
        super().__init__()
        self.padding = _sides(padding)
        self._set_sphere(lat_range, lon_span)

    def forward(self, input):
        return pad(input, self.padding, lat_range=self.lat_range, lon_span=self.lon_span)

    def extra_repr(self) -> str:
        return f"{self.padding}" + self._sphere_repr()
