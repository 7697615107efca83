"""What every equiconv module shares: the panorama it works on, the backend, how it prints, and
its refusal of torch.jit.script."""
from torch import nn

from equiconv import _checks


class SphereModule(nn.Module):
    """Holds ``lat_range``, ``lon_span`` (and, for compiled operators, ``backend``)."""

    def _set_sphere(self, lat_range, lon_span, backend=None) -> None:
        self.lat_range, self.lon_span = _checks.sphere_range(lat_range, lon_span)
        if backend is not None:
            self.backend = _checks.backend(backend)

    def _sphere_repr(self) -> str:
        """The tail of extra_repr: the sphere arguments that differ from their defaults."""
        s = ""
        if self.lat_range != _checks.FULL_LAT_RANGE:
            s += f", lat_range={self.lat_range}"
        if self.lon_span != _checks.FULL_LON_SPAN:
            s += f", lon_span={self.lon_span}"
        if getattr(self, "backend", "compiled") != "compiled":
            s += f", backend={self.backend!r}"
        return s

    def __prepare_scriptable__(self):
        raise RuntimeError(
            f"{type(self).__name__} cannot be compiled by torch.jit.script (its operator takes "
            "keyword arguments and Python geometry checks). Use torch.compile or torch.export "
            "instead; torch.jit.trace also works.")
