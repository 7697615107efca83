"""Hypothesis strategies for layer configurations that satisfy the operator's preconditions."""
from hypothesis import strategies as st

FULL = ((90.0, -90.0), 360.0)


@st.composite
def spheres(draw):
    """(lat_range, lon_span): the full sphere, a full-longitude band, or a partial panorama."""
    kind = draw(st.sampled_from(["sphere", "band", "partial"]))
    if kind == "sphere":
        return FULL
    top = draw(st.floats(-60.0, 90.0))
    bottom = draw(st.floats(-90.0, top - 20.0))
    lon = 360.0 if kind == "band" else draw(st.floats(30.0, 350.0))
    return (top, bottom), lon


@st.composite
def layers(draw, max_size=11):
    """Keyword arguments of a convolution call plus the input size, always valid."""
    groups = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    lat_range, lon_span = draw(spheres())
    min_h = max(3, dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0])
    min_w = max(5, dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1])
    height = draw(st.integers(min_h, max(min_h, max_size)))
    width = draw(st.integers(min_w, max(min_w, max_size + 4)))
    return dict(
        batch=draw(st.integers(1, 2)), in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)), groups=groups, kernel_size=kernel,
        stride=stride, padding=padding, dilation=dilation, height=height, width=width,
        lat_range=lat_range, lon_span=lon_span)
