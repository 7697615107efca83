"""Where NaN goes through equi_conv2d: exactly to the outputs whose taps read it with a non-zero
weight, the same in the compiled op and the reference, forward and backward."""
import pytest
import torch

from equiconv.functional import equi_conv2d

F64 = torch.float64


def _nan_reach(backend, kernel, **kwargs):
    x = torch.zeros(1, 1, 9, 16, dtype=F64)
    x[0, 0, 4, 7] = float("nan")
    w = torch.ones(1, 1, kernel, kernel, dtype=F64)
    return equi_conv2d(x, w, padding=kernel // 2, backend=backend, **kwargs).isnan()


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("kwargs", [dict(), dict(lat_range=(60.0, -30.0), lon_span=100.0)])
def test_one_nan_pixel_reaches_one_output_of_a_1x1_kernel(backend, kwargs):
    """A 1x1 tap sits on its pixel's centre (bilinear weights 1, 0, 0, 0): like nn.Conv2d."""
    got = _nan_reach(backend, 1, **kwargs)
    assert got.sum().item() == 1 and got[0, 0, 4, 7]


@pytest.mark.parametrize("kwargs", [dict(), dict(lat_range=(60.0, -30.0), lon_span=100.0)])
def test_nan_reaches_exactly_the_nonzero_bilinear_reads(kwargs):
    """Compiled and reference agree on where NaN goes, and it is where a non-zero weight reads it."""
    got = _nan_reach("compiled", 3, **kwargs)
    assert torch.equal(got, _nan_reach("reference", 3, **kwargs))
    # The same reach computed from the sampling grid: taps whose bilinear footprint holds the pixel.
    x = torch.zeros(1, 1, 9, 16, dtype=F64)
    x[0, 0, 4, 7] = 1.0
    influence = equi_conv2d(x, torch.ones(1, 1, 3, 3, dtype=F64), padding=1, **kwargs) != 0
    assert torch.equal(got, influence)


def test_nan_in_grad_output_reaches_only_the_pixels_read():
    x = torch.zeros(1, 1, 9, 16, dtype=F64, requires_grad=True)
    w = torch.ones(1, 1, 1, 1, dtype=F64)
    y = equi_conv2d(x, w, lat_range=(0.5, -0.5), lon_span=1.0)
    g = torch.zeros_like(y)
    g[0, 0, 4, 7] = float("nan")
    y.backward(g)
    assert x.grad.isnan().sum().item() == 1


def test_nan_reach_agrees_for_taps_on_the_grid_in_float32():
    """Found by the long fuzz run: a 3x1 kernel's rows are integers up to the last bit of atan;
    the core read the row above with weight 2e-16 (NaN), the reference, rounding its weights in
    float32, with weight 0. Positions on the grid within 1e-10 pixels now read one pixel in both."""
    torch.manual_seed(0)
    x, w = torch.randn(1, 1, 7, 5), torch.randn(2, 1, 3, 1)
    x[0, 0, 0, 0] = w[0, 0, 0, 0] = float("nan")
    kwargs = dict(lat_range=(0.0, -90.0))
    got, want = equi_conv2d(x, w, **kwargs), equi_conv2d(x, w, backend="reference", **kwargs)
    assert torch.equal(got.isnan(), want.isnan())
    assert got[0, 1].isnan().sum() == 1  # only the output whose tap sits on the NaN pixel
    torch.testing.assert_close(got, want, equal_nan=True)
