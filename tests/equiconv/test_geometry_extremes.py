"""The geometry at extreme ranges: no crash, no runaway memory, exact rows in tiny bands, and a
ValueError naming the range where the pixels degenerate."""
import resource
import subprocess
import sys

import pytest
import torch

import equiconv
from equiconv.functional import equi_conv2d

F64 = torch.float64


def run_isolated(code: str, memory_gib: int = 6) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter with a memory cap: an abort or a huge allocation fails
    the test instead of killing pytest or the machine."""
    limit = memory_gib << 30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          preexec_fn=cap)


@pytest.mark.slow  # a subprocess per range
@pytest.mark.parametrize("kwargs", [
    "lon_span=1e-30", "lon_span=1e-100", "lon_span=1e-300", "lon_span=1e-6",
    "lat_range=(90, 89.999999999999)", "lon_span=0.5", "lat_range=(-89.9999, -90.0), lon_span=1e-4",
])
def test_extreme_ranges_neither_crash_nor_allocate_absurd_memory(kwargs):
    """Each either equals the reference or raises a ValueError naming the range, within 6 GiB."""
    result = run_isolated(f"""
import torch
from equiconv.functional import equi_conv2d
torch.manual_seed(0)
x, w = torch.randn(1, 16, 32, 64, dtype=torch.float64), torch.randn(4, 16, 3, 3, dtype=torch.float64)
try:
    y = equi_conv2d(x, w, padding=1, {kwargs})
except ValueError as e:
    assert "lat_range" in str(e) or "lon_span" in str(e), e
    print("rejected:", e)
else:
    ref = equi_conv2d(x, w, padding=1, {kwargs}, backend="reference")
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y, ref, rtol=1e-9, atol=1e-9)
    print("computed")
""")
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("lat_range,lon_span", [((90.0, -90.0), 1e-6), ((40.0, 39.99999), 360.0),
                                                ((90.0, 89.9999999), 0.001), ((10.0, -10.0), 0.5)])
def test_plan_costs_the_image_not_the_range(lat_range, lon_span):
    """The extended image stays within the image plus the clipped kernel footprint."""
    h, w = 32, 64
    plan = equiconv.geometry.sampling_plan(h, w, 3, padding=1, lat_range=lat_range, lon_span=lon_span)
    assert plan["ext_h"] <= h + 6
    assert plan["ext_w"] <= 3 * w + 6


def test_degenerate_pixels_are_a_value_error_naming_the_range():
    x, w = torch.randn(1, 1, 8, 16), torch.randn(1, 1, 3, 3)
    with pytest.raises(ValueError, match="lon_span"):
        equi_conv2d(x, w, padding=1, lon_span=5e-324)
    with pytest.raises(ValueError, match="lat_range"):
        equi_conv2d(x, w, padding=1, lat_range=(1e-300, 0.0))


def test_tiny_latitude_band_rows_are_exact():
    """Rows come from the angle to the kernel centre, not from asin near 1: a band of 1e-8 degrees
    at the pole puts a 3x3 kernel's rows one pixel apart (the plane is flat at that scale)."""
    rows, _ = equiconv.sampling_grid(16, 32, 3, padding=1, lat_range=(90.0, 90.0 - 1e-8), lon_span=1e-6)
    centre = torch.arange(1, 16, dtype=F64)[:, None]  # row 0's top tap crosses the pole
    torch.testing.assert_close(rows[1:, :, 1], centre + torch.tensor([-1.0, 0.0, 1.0], dtype=F64), atol=1e-6, rtol=0)
