"""equiconv.solid_angle: the solid angle of each pixel of an equirectangular grid."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import equiconv
from tests.equiconv.ops.resampling_cases import kw
from tests.helpers.strategies import spheres


@pytest.mark.parametrize("height,width", [(1, 1), (3, 7), (64, 128)])
def test_solid_angles_of_the_whole_sphere_sum_to_4_pi(height, width):
    omega = equiconv.solid_angle(height, width)
    assert omega.shape == (height, 1) and omega.dtype == torch.float64
    assert math.isclose(omega.sum().item() * width, 4 * math.pi, rel_tol=1e-13)


@given(spheres(), st.integers(1, 20), st.integers(1, 20))
def test_solid_angle_of_a_patch_in_closed_form(sphere, height, width):
    """A patch covers lon_span * (sin top - sin bottom) steradians; each row's share is
    proportional to the cosine of its centre's latitude."""
    (top, bottom), lon = sphere
    omega = equiconv.solid_angle(height, width, **kw(sphere)).squeeze(1)
    total = math.radians(lon) * (math.sin(math.radians(top)) - math.sin(math.radians(bottom)))
    assert math.isclose(omega.sum().item() * width, total, rel_tol=1e-12, abs_tol=1e-15)
    centre = torch.tensor([math.radians(top - (y + 0.5) * (top - bottom) / height) for y in range(height)],
                          dtype=torch.float64)
    ratio = omega / centre.cos()
    torch.testing.assert_close(ratio, ratio[:1].expand(height), rtol=1e-10, atol=0)


def test_solid_angle_dtype_device_and_bad_arguments():
    assert equiconv.solid_angle(4, 8, dtype=torch.float32, device="meta").is_meta
    for call, error, match in [
        (lambda: equiconv.solid_angle(0, 8), ValueError, "height"),
        (lambda: equiconv.solid_angle(4, 1.5), TypeError, "width"),
        (lambda: equiconv.solid_angle(4, 8, lat_range=(0, 10)), ValueError, "lat_range"),
        (lambda: equiconv.solid_angle(4, 8, lon_span=361), ValueError, "lon_span"),
        (lambda: equiconv.solid_angle(4, 8, dtype=torch.int64), TypeError, "dtype"),
    ]:
        with pytest.raises(error, match=match):
            call()
