"""Argument checks the data package shares, with errors that name the argument."""
import numbers


def check_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``name`` when it is no integer >= minimum."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_size(size):
    """An optional resize target: None, or ``(height, width)`` as two ints >= 1."""
    if size is None:
        return None
    size = tuple(size)
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    return check_int("size[0]", size[0]), check_int("size[1]", size[1])


def check_fov(fov_deg) -> float:
    """A pinhole camera's field of view in degrees, strictly between 0 and 180."""
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"fov_deg must lie strictly between 0 and 180, got {fov_deg!r}")
    return float(fov_deg)
