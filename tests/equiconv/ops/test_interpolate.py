"""interpolate / EquiUpsample: resampling to another grid of the same patch of sphere, F.interpolate
where no axis wraps, bilinear across the seam and the poles otherwise."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import equiconv
from equiconv import EquiUpsample
from equiconv.functional import interpolate
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.equiconv.ops.resampling_cases import BAND, EQUATOR, X, kw, sampled
from tests.helpers.strategies import FULL


@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from(["bilinear", "nearest", "nearest-exact"]))
def test_interpolate_on_a_partial_patch_equals_f_interpolate(height, width, out_h, out_w, mode):
    x = torch.randn(2, 3, height, width, dtype=torch.float64)
    want = F.interpolate(x, size=(out_h, out_w), mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    torch.testing.assert_close(interpolate(x, (out_h, out_w), mode=mode, **kw(EQUATOR)), want)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_integer_scale_factors_give_f_interpolates_grid(mode):
    x = torch.randn(1, 2, 4, 6, dtype=torch.float64)
    got = interpolate(x, scale_factor=(2, 3), mode=mode, **kw(EQUATOR))
    torch.testing.assert_close(got, F.interpolate(x, scale_factor=(2, 3), mode=mode))
    assert interpolate(x, scale_factor=1.5).shape[-2:] == (6, 9)  # floor(n * s), as torch


@pytest.mark.parametrize("k", [1, 2, 3])
def test_bilinear_on_a_band_clamps_rows_and_wraps_columns(k):
    """Against F.interpolate of the image with one column of circular padding on each side
    (k output columns per input column): the rows clamp at the band's edges as in torch."""
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64)
    wide = F.interpolate(F.pad(x, (1, 1, 0, 0), mode="circular"), size=(9, 8 * k), mode="bilinear")
    torch.testing.assert_close(interpolate(x, (9, 6 * k), mode="bilinear", **kw(BAND)), wide[..., k:-k])


@pytest.mark.parametrize("sphere", [FULL, BAND])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "nearest-exact"])
@pytest.mark.parametrize("width,out_w", [(12, 4), (12, 6), (6, 12), (4, 12)])
@pytest.mark.parametrize("m", [1, 2])
def test_rolling_the_input_by_whole_output_pixels_rolls_the_output(sphere, mode, width, out_w, m):
    """Equal up to the rounding of the column coordinates: output columns j and j + shift read
    their bilinear weights from coordinates that differ by a whole number of input columns, so
    the weights agree to a few ulps of the width (a fixed 1e-15 failed 36 of 24,000 draws)."""
    x = torch.randn(1, 2, 5, width, dtype=torch.float64)
    shift_in, shift_out = (m * width // out_w, m) if width >= out_w else (m, m * out_w // width)
    out = interpolate(x, (7, out_w), mode=mode, **kw(sphere))
    rolled = interpolate(torch.roll(x, shift_in, -1), (7, out_w), mode=mode, **kw(sphere))
    ulps = 4 * torch.finfo(x.dtype).eps * max(width, out_w) * x.abs().max().item()
    torch.testing.assert_close(rolled, torch.roll(out, shift_out, -1), rtol=0, atol=ulps)


@pytest.mark.parametrize("sphere", [FULL, BAND, EQUATOR])
@pytest.mark.parametrize("mode", ["bilinear", "nearest-exact"])
@pytest.mark.parametrize("size", [(10, 9), (4, 16), (8, 8)])
def test_interpolate_is_mirror_symmetric_top_to_bottom(sphere, mode, size):
    """(Sizes where no output row centre falls exactly between two input rows: 'nearest-exact'
    breaks such ties one way, so 6 -> 11 or 6 -> 3 rows cannot be symmetric.)"""
    (top, bottom), lon = sphere
    x = torch.randn(1, 2, 6, 8, dtype=torch.float64)
    flipped = interpolate(x.flip(-2), size, mode=mode, lat_range=(-bottom, -top), lon_span=lon)
    torch.testing.assert_close(flipped, interpolate(x, size, mode=mode, **kw(sphere)).flip(-2), rtol=0, atol=1e-14)


def errors(out, height, width):
    """|out - the field at the output's pixel centres| on an output grid of that size."""
    return (out[0, 0] - sampled(height, width, FULL)[0, 0]).abs()


@pytest.mark.parametrize("size", [(32, 64), (24, 40)])
def test_bilinear_has_no_seam_at_180_degrees_or_at_the_poles(size):
    """Upsampled, the smooth function is as close to the truth on the edge rows and columns
    (whose reads wrap and cross the poles) as inside; clamping at the edges (F.interpolate)
    is not, so the test can tell."""
    height, width = 16, 32
    x = sampled(height, width, FULL)
    edge = torch.zeros(size, dtype=torch.bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    err = errors(interpolate(x, size, mode="bilinear"), *size)
    assert err.max() < 0.02  # second order: ~ (pixel size)^2
    assert err[edge].max() <= 1.5 * err[~edge].max()
    naive = errors(F.interpolate(x, size, mode="bilinear"), *size)
    assert naive[edge].max() > 2 * naive[~edge].max()


def test_bilinear_to_the_same_grid_is_the_identity():
    x = torch.randn(2, 3, 5, 8, dtype=torch.float64)
    for sphere in (FULL, BAND, EQUATOR):
        torch.testing.assert_close(interpolate(x, (5, 8), mode="bilinear", **kw(sphere)), x, rtol=0, atol=0)


def test_equi_upsample_reads_like_nn_upsample():
    for args in (dict(scale_factor=2), dict(size=(4, 8), mode="bilinear"), dict(scale_factor=(2, 1.5))):
        assert repr(EquiUpsample(**args)) == repr(nn.Upsample(**args)).replace("Upsample", "EquiUpsample")
    assert repr(EquiUpsample(scale_factor=2, lon_span=90)) == "EquiUpsample(scale_factor=2.0, mode='nearest', lon_span=90.0)"
    m = EquiUpsample(scale_factor=2, mode="bilinear", align_corners=False, lat_range=(30, -30), lon_span=180)
    x = torch.randn(3, 4, 6)  # unbatched
    torch.testing.assert_close(m(x), interpolate(x[None], (8, 12), mode="bilinear", lat_range=(30, -30), lon_span=180)[0])


def interpolate_reference(x, size, mode, lat_range, lon_span):
    """F.interpolate: the same as interpolate wherever no axis wraps, and for the nearest modes."""
    return F.interpolate(x, size=size, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))


class TestInterpolate(OperatorTester):
    """interpolate against F.interpolate: the nearest modes anywhere, bilinear on partial panoramas
    (no axis wraps; the seam and the poles are tested on their own below)."""
    op = interpolate
    reference = interpolate_reference
    dtypes = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
    test_opcheck = None  # pure PyTorch: no torch.library op
    bad_inputs = [
        (lambda: interpolate(X, (4, 8), mode="bicubic"), ValueError, "mode"),
        (lambda: interpolate(X, (4, 8), mode="bilinear", align_corners=True), ValueError, "align_corners"),
        (lambda: EquiUpsample(scale_factor=2, mode="bilinear", align_corners=True), ValueError, "align_corners"),
        (lambda: interpolate(X), ValueError, "size and scale_factor"),
        (lambda: interpolate(X, (4, 8), 2), ValueError, "size and scale_factor"),
        (lambda: interpolate(X, 0), ValueError, "size"),
        (lambda: interpolate(X, scale_factor=0.0), ValueError, "scale_factor"),
        (lambda: interpolate(X, scale_factor=0.1), ValueError, "scale_factor"),
        (lambda: interpolate(X, scale_factor="2"), TypeError, "scale_factor"),
        (lambda: interpolate(X, (4, 8), lon_span=0), ValueError, "lon_span"),
        (lambda: interpolate(torch.randn(2, 4, 6, 8, 1), (4, 8)), ValueError, "input must be 4-D"),
    ]

    def make_case(self, rng, gen):
        x = randn(gen, rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 7), rng.randint(1, 9))
        mode = rng.choice(["nearest", "nearest-exact", "bilinear"])
        sphere = rng.sphere()
        if mode == "bilinear":
            sphere["lon_span"] = min(sphere["lon_span"], 300.0)
        return Case((x, (rng.randint(1, 12), rng.randint(1, 12))), dict(mode=mode, **sphere))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("shape", [(0, 2, 4, 6), (2, 0, 4, 6)], ids=["no batch", "no channels"])
def test_interpolate_keeps_autograd_on_an_empty_input(mode, shape):
    """As F.interpolate on an empty batch: the output requires grad and backward gives an empty grad."""
    x = torch.randn(*shape, requires_grad=True)
    y = equiconv.functional.interpolate(x, (8, 12), mode=mode)
    assert y.shape == (*shape[:2], 8, 12) and y.requires_grad
    y.sum().backward()
    assert x.grad.shape == x.shape
