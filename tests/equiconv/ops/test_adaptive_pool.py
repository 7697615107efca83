"""equi_adaptive_avg_pool2d / EquiAdaptiveAvgPool2d: nn.AdaptiveAvgPool2d's bins, each pixel
weighted by its row's solid angle."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import equiconv
from equiconv import EquiAdaptiveAvgPool2d
from equiconv.functional import equi_adaptive_avg_pool2d
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.equiconv.ops.resampling_cases import BAND, EQUATOR, X, kw
from tests.helpers.strategies import FULL, spheres


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


def adaptive_reference(x, output_size, lat_range, lon_span):
    return cosine_weighted_pool(x, *output_size, (lat_range, lon_span))


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
