"""What every sphere module's repr adds to its torch.nn counterpart's: the patch, when it is
not the whole sphere."""
from equiconv import _checks


def sphere_repr(lat_range, lon_span) -> str:
    s = ""
    if lat_range != _checks.FULL_LAT_RANGE:
        s += f", lat_range={lat_range}"
    if lon_span != _checks.FULL_LON_SPAN:
        s += f", lon_span={lon_span}"
    return s
