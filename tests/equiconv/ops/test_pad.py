"""pad / SpherePad2d: what the sphere holds around an image (columns wrap on a full circle of
longitude, rows continue across the poles on the whole sphere, zeros elsewhere)."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from equiconv import SpherePad2d
from equiconv.functional import pad
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.equiconv.ops.resampling_cases import BAND, EQUATOR, X, field, kw, sampled
from tests.helpers.sphere_oracle import sphere_extended
from tests.helpers.strategies import FULL


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
