"""The pure-PyTorch operators: pad / SpherePad2d, interpolate / EquiUpsample,
equi_adaptive_avg_pool2d / EquiAdaptiveAvgPool2d, and solid_angle."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import equiconv
from equiconv import EquiAdaptiveAvgPool2d, EquiUpsample, SpherePad2d
from equiconv.functional import equi_adaptive_avg_pool2d, interpolate, pad
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.helpers.sphere_oracle import directions, sphere_extended
from tests.helpers.strategies import FULL, spheres

EQUATOR = ((10.0, -10.0), 40.0)  # a small partial patch: no axis wraps
BAND = ((60.0, -30.0), 360.0)    # full longitude, partial latitude


def field(y, x, height, width, sphere):
    """A smooth function on the sphere (linear in the unit vector) at pixel positions y, x."""
    v = directions(y.double(), x.double(), height, width, *sphere)
    return v @ torch.tensor([0.8, -0.5, 0.6], dtype=torch.float64) + 0.3


def sampled(height, width, sphere):
    """The field on the pixel centres of a height x width grid, as a (1, 1, H, W) image."""
    return field(torch.arange(height)[:, None], torch.arange(width)[None, :], height, width, sphere)[None, None]


def kw(sphere):
    return dict(lat_range=sphere[0], lon_span=sphere[1])


# ---------------------------------------------------------------------------------------- pad

sides = st.tuples(*[st.integers(0, 3)] * 4)


@given(sides, st.integers(1, 6), st.integers(1, 7))
def test_pad_on_a_partial_patch_is_zero_padding(padding, height, width):
    x = torch.randn(2, 3, height, width, dtype=torch.float64)
    torch.testing.assert_close(pad(x, padding, **kw(EQUATOR)), F.pad(x, padding), rtol=0, atol=0)


def test_pad_accepts_an_int_and_a_pair_like_conv2d():
    x = torch.randn(1, 2, 4, 6)
    assert torch.equal(pad(x, 2, **kw(EQUATOR)), F.pad(x, (2, 2, 2, 2)))
    assert torch.equal(pad(x, (1, 3), **kw(EQUATOR)), F.pad(x, (3, 3, 1, 1)))  # (pad_h, pad_w)


@given(sides, st.integers(1, 6), st.integers(3, 8))
def test_pad_wraps_the_columns_of_a_full_longitude_band(padding, height, width):
    left, right, top, bottom = padding
    x = torch.randn(1, 2, height, width, dtype=torch.float64)
    want = F.pad(F.pad(x, (left, right, 0, 0), mode="circular"), (0, 0, top, bottom))
    torch.testing.assert_close(pad(x, padding, **kw(BAND)), want, rtol=0, atol=0)


@pytest.mark.parametrize("height,width,padding", [(6, 12, (2, 3, 1, 2)), (5, 8, (9, 1, 5, 5)), (1, 4, (1, 1, 1, 1))])
def test_pad_reproduces_a_smooth_function_across_the_seam_and_the_poles(height, width, padding):
    """Each padded pixel holds the function at its own (extended) position: across the pole a
    row at latitude 90 + e is the sphere's point at 90 - e half a revolution around."""
    left, right, top, bottom = padding
    got = pad(sampled(height, width, FULL), padding)
    ys, xs = torch.arange(-top, height + bottom)[:, None], torch.arange(-left, width + right)[None, :]
    torch.testing.assert_close(got[0, 0], field(ys, xs, height, width, FULL), rtol=0, atol=1e-12)


@pytest.mark.parametrize("sphere", [FULL, BAND])
@pytest.mark.parametrize("m", [1, 4])
def test_pad_commutes_with_rolling_the_longitude(sphere, m):
    x = torch.randn(1, 2, 6, 8, dtype=torch.float64)
    p = (2, 3, 3, 1)
    rolled = pad(torch.roll(x, m, -1), p, **kw(sphere))
    torch.testing.assert_close(rolled[..., m:], pad(x, p, **kw(sphere))[..., :-m], rtol=0, atol=0)


@pytest.mark.parametrize("sphere", [FULL, BAND, EQUATOR])
def test_pad_is_mirror_symmetric_top_to_bottom(sphere):
    (top, bottom), lon = sphere
    x = torch.randn(1, 2, 5, 8, dtype=torch.float64)
    flipped = pad(x.flip(-2), (1, 2, 3, 0), lat_range=(-bottom, -top), lon_span=lon)
    assert torch.equal(flipped, pad(x, (1, 2, 0, 3), **kw(sphere)).flip(-2))


def test_sphere_pad_then_a_valid_conv2d_has_no_seam():
    """The use case: nn.Conv2d(padding=0) after SpherePad2d equals a convolution of the image
    extended around the sphere, here a rolled copy: no column is special."""
    torch.manual_seed(0)
    conv, x = nn.Conv2d(2, 3, 3).double(), torch.randn(1, 2, 6, 12, dtype=torch.float64)
    net = nn.Sequential(SpherePad2d(1), conv)
    torch.testing.assert_close(net(torch.roll(x, 5, -1)), torch.roll(net(x), 5, -1))
    assert net(x).shape == x.shape[:1] + (3,) + x.shape[2:]


def test_sphere_pad2d_module_and_repr():
    m = SpherePad2d((1, 2), lat_range=(40, -40))
    x = torch.randn(2, 6, 10)  # unbatched
    assert torch.equal(m(x), pad(x[None], (2, 2, 1, 1), lat_range=(40, -40))[0])
    assert repr(m) == "SpherePad2d((2, 2, 1, 1), lat_range=(40.0, -40.0))"
    assert repr(SpherePad2d(1)) == "SpherePad2d((1, 1, 1, 1))"


# -------------------------------------------------------------------------------- interpolate

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
    x = torch.randn(1, 2, 5, width, dtype=torch.float64)
    shift_in, shift_out = (m * width // out_w, m) if width >= out_w else (m, m * out_w // width)
    out = interpolate(x, (7, out_w), mode=mode, **kw(sphere))
    rolled = interpolate(torch.roll(x, shift_in, -1), (7, out_w), mode=mode, **kw(sphere))
    torch.testing.assert_close(rolled, torch.roll(out, shift_out, -1), rtol=0, atol=1e-15)


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


# ---------------------------------------------------------------------------- adaptive pooling

def test_adaptive_pool_weighs_rows_by_solid_angle_by_hand():
    """Three rows of the whole sphere span [90, 30], [30, -30], [-30, -90] degrees: their areas
    are in the ratio of the differences of the sines, (1 - 1/2) : (1/2 + 1/2) : (-1/2 + 1) = 1 : 2 : 1."""
    x = torch.tensor([[1.0], [2.0], [4.0]], dtype=torch.float64).expand(3, 2)[None]
    torch.testing.assert_close(equi_adaptive_avg_pool2d(x, 1), torch.tensor([[[2.25]]], dtype=torch.float64))
    want = torch.tensor([[[5 / 3], [8 / 3]]], dtype=torch.float64)  # overlapping bins [0, 2), [1, 3)
    torch.testing.assert_close(equi_adaptive_avg_pool2d(x, (2, 1)), want)


def cosine_weighted_pool(x, out_h, out_w, sphere):
    """Independent oracle: loops over AdaptiveAvgPool2d's bins (floor/ceil as documented),
    each pixel weighted by the cosine of its centre's latitude (the solid angle of an
    equirectangular pixel is proportional to it)."""
    (top, bottom), _ = sphere
    height, width = x.shape[-2:]
    dphi = (top - bottom) / height
    cos = [math.cos(math.radians(top - (y + 0.5) * dphi)) for y in range(height)]
    out = torch.empty(*x.shape[:-2], out_h, out_w, dtype=x.dtype)
    for i in range(out_h):
        rows = range(math.floor(i * height / out_h), math.ceil((i + 1) * height / out_h))
        for j in range(out_w):
            cols = slice(math.floor(j * width / out_w), math.ceil((j + 1) * width / out_w))
            total = sum(cos[y] * x[..., y, cols].sum(-1) for y in rows)
            out[..., i, j] = total / (sum(cos[y] for y in rows) * len(range(width)[cols]))
    return out


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), spheres())
def test_adaptive_pool_is_the_cosine_weighted_mean_over_each_bin(height, width, out_h, out_w, sphere):
    x = torch.randn(2, 2, height, width, dtype=torch.float64)
    torch.testing.assert_close(equi_adaptive_avg_pool2d(x, (out_h, out_w), **kw(sphere)),
                               cosine_weighted_pool(x, out_h, out_w, sphere))


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_pool_near_the_equator_is_nn_adaptive_avg_pool2d(height, width, out_h, out_w):
    """Within 0.01 degrees of the equator the weights differ by under 1 - cos(0.01 deg) ~ 2e-8,
    so a weighted mean moves by at most that fraction of the values' spread."""
    x = torch.randn(1, 3, height, width, dtype=torch.float64)
    bound = (x.max() - x.min()).item() * (1 - math.cos(math.radians(0.01)))
    got = equi_adaptive_avg_pool2d(x, (out_h, out_w), lat_range=(0.01, -0.01), lon_span=1.0)
    torch.testing.assert_close(got, nn.AdaptiveAvgPool2d((out_h, out_w))(x), rtol=0, atol=bound + 1e-15)


@pytest.mark.parametrize("sphere", [FULL, BAND, EQUATOR])
def test_adaptive_pool_identity_and_total_solid_angle(sphere):
    x = torch.randn(2, 3, 12, 16, dtype=torch.float64)
    assert torch.equal(equi_adaptive_avg_pool2d(x, (12, None), **kw(sphere)), x)
    out = equi_adaptive_avg_pool2d(x, (4, 8), **kw(sphere))  # bins tile evenly: 3x2 pixels each
    total_in = (x * equiconv.solid_angle(12, 16, **kw(sphere))).sum((-2, -1))
    total_out = (out * equiconv.solid_angle(4, 8, **kw(sphere))).sum((-2, -1))
    torch.testing.assert_close(total_out, total_in)


@pytest.mark.parametrize("m", [1, 3])
def test_adaptive_pool_rolls_and_mirrors(m):
    x = torch.randn(1, 2, 9, 12, dtype=torch.float64)
    out = equi_adaptive_avg_pool2d(x, (4, 4))
    torch.testing.assert_close(equi_adaptive_avg_pool2d(torch.roll(x, 3 * m, -1), (4, 4)), torch.roll(out, m, -1))
    band = equi_adaptive_avg_pool2d(x, (4, 4), lat_range=(60, -20))
    torch.testing.assert_close(equi_adaptive_avg_pool2d(x.flip(-2), (4, 4), lat_range=(20, -60)), band.flip(-2))


def test_equi_adaptive_avg_pool2d_module():
    m = EquiAdaptiveAvgPool2d((2, None), lat_range=(50, -50))
    assert repr(m) == "EquiAdaptiveAvgPool2d(output_size=(2, None), lat_range=(50.0, -50.0))"
    assert repr(EquiAdaptiveAvgPool2d(3)) == repr(nn.AdaptiveAvgPool2d(3)).replace("Adaptive", "EquiAdaptive")
    x = torch.randn(3, 6, 5)  # unbatched
    assert m(x).shape == (3, 2, 5)
    torch.testing.assert_close(m(x), equi_adaptive_avg_pool2d(x[None], (2, 5), lat_range=(50, -50))[0])
    half = EquiAdaptiveAvgPool2d(2)(torch.randn(1, 2, 6, 6, dtype=torch.bfloat16))
    assert half.dtype == torch.bfloat16 and half.shape == (1, 2, 2, 2)


# ------------------------------------------------------------------------- gradients and errors

@pytest.mark.parametrize("sphere", [FULL, BAND, EQUATOR])
@pytest.mark.parametrize("op", [
    lambda x, s: pad(x, (2, 1, 3, 2), **kw(s)),
    lambda x, s: interpolate(x, (7, 9), mode="bilinear", **kw(s)),
    lambda x, s: interpolate(x, (3, 11), mode="nearest", **kw(s)),
    lambda x, s: equi_adaptive_avg_pool2d(x, (2, 3), **kw(s)),
], ids=["pad", "bilinear", "nearest", "adaptive_pool"])
def test_gradcheck_float64(op, sphere):
    x = torch.randn(2, 2, 4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: op(t, sphere), (x,))


def test_empty_batch_gives_an_empty_output():
    x = torch.randn(0, 2, 4, 6)
    assert pad(x, 1).shape == (0, 2, 6, 8)
    for mode in ("bilinear", "nearest", "nearest-exact"):
        assert interpolate(x, (8, 12), mode=mode).shape == (0, 2, 8, 12)
    assert interpolate(torch.randn(2, 0, 4, 6), scale_factor=2).shape == (2, 0, 8, 12)
    assert equi_adaptive_avg_pool2d(x, 2).shape == (0, 2, 2, 2)



X = torch.randn(1, 2, 4, 6)


def pad_reference(x, padding, lat_range, lon_span):
    """pad built by hand: the whole sphere from sphere_extended (across the poles, then around),
    a full circle of longitude wraps its columns and pads rows with zeros, anything else F.pad."""
    left, right, top, bottom = padding
    height, width = x.shape[-2:]
    if lon_span != 360.0:
        return F.pad(x, padding)
    if tuple(lat_range) == (90.0, -90.0):
        margin = max(top, bottom, 1)
        return sphere_extended(x, margin)[..., margin - top:margin + height + bottom, width - left:2 * width + right]
    return F.pad(torch.cat([x[..., width - left:], x, x[..., :right]], dim=-1), (0, 0, top, bottom))


def interpolate_reference(x, size, mode, lat_range, lon_span):
    """F.interpolate: the same as interpolate wherever no axis wraps, and for the nearest modes."""
    return F.interpolate(x, size=size, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))


def adaptive_reference(x, output_size, lat_range, lon_span):
    return cosine_weighted_pool(x, *output_size, (lat_range, lon_span))


class TestPad(OperatorTester):
    """pad against pad_reference: random sides (up to the image's height across a pole) on the
    whole sphere, bands and partial panoramas."""
    op = pad
    reference = pad_reference
    dtypes = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
    test_opcheck = None  # pure PyTorch: no torch.library op
    bad_inputs = [
        (lambda: pad(X, 5), ValueError, "padding .* across a pole"),
        (lambda: pad(X, (0, 0, 0, 5)), ValueError, "padding"),
        (lambda: pad(X, -1), ValueError, "padding"),
        (lambda: pad(X, 1.5), TypeError, "padding"),
        (lambda: pad(X, (1, 2, 3)), TypeError, "padding"),
        (lambda: SpherePad2d((1, 2, 3)), TypeError, "padding"),
        (lambda: pad(X, 1, lat_range=(10, 20)), ValueError, "lat_range"),
        (lambda: pad(X.long(), 1), TypeError, "input must be a floating-point"),
        (lambda: pad(X[0, 0], 1), ValueError, "input must be 4-D"),
        (lambda: pad(X.numpy(), 1), TypeError, "input must be a torch.Tensor"),
        (lambda: pad(torch.randn(1, 2, 0, 6), 1), ValueError, "input height and width"),
    ]

    def make_case(self, rng, gen):
        x = randn(gen, rng.randint(1, 2), rng.randint(1, 3), rng.randint(2, 6), rng.randint(3, 9))
        sides = tuple(rng.randint(0, n) for n in (x.shape[3], x.shape[3], x.shape[2], x.shape[2]))
        return Case((x, sides), rng.sphere())


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


class TestAdaptiveAvgPool2d(OperatorTester):
    """equi_adaptive_avg_pool2d against cosine_weighted_pool (loops over the bins)."""
    op = equi_adaptive_avg_pool2d
    reference = adaptive_reference
    dtypes = (torch.float32, torch.float64, torch.bfloat16)
    test_opcheck = None  # pure PyTorch: no torch.library op
    bad_inputs = [
        (lambda: equi_adaptive_avg_pool2d(X, 0), ValueError, "output_size"),
        (lambda: equi_adaptive_avg_pool2d(X, (1, 2, 3)), TypeError, "output_size"),
        (lambda: equi_adaptive_avg_pool2d(X, None), TypeError, "output_size"),
        (lambda: EquiAdaptiveAvgPool2d("2"), TypeError, "output_size"),
        (lambda: equi_adaptive_avg_pool2d(X.int(), 2), TypeError, "input"),
    ]

    def make_case(self, rng, gen):
        x = randn(gen, rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 9), rng.randint(1, 9))
        return Case((x, (rng.randint(1, 9), rng.randint(1, 9))), rng.sphere())


def test_the_pure_ops_have_no_separate_reference():
    """They are pure PyTorch themselves; equiconv.reference holds oracles of compiled ops only."""
    for name in ("pad", "interpolate", "equi_adaptive_avg_pool2d"):
        assert name in equiconv.functional.__all__ and not hasattr(equiconv.reference, name)
    assert {"SpherePad2d", "EquiUpsample", "EquiAdaptiveAvgPool2d"} <= set(equiconv.__all__)


# ---------------------------------------------------------------------------------- solid angle

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


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("shape", [(0, 2, 4, 6), (2, 0, 4, 6)], ids=["no batch", "no channels"])
def test_interpolate_keeps_autograd_on_an_empty_input(mode, shape):
    """As F.interpolate on an empty batch: the output requires grad and backward gives an empty grad."""
    x = torch.randn(*shape, requires_grad=True)
    y = equiconv.functional.interpolate(x, (8, 12), mode=mode)
    assert y.shape == (*shape[:2], 8, 12) and y.requires_grad
    y.sum().backward()
    assert x.grad.shape == x.shape
