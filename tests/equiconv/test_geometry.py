"""The geometry contract: formulas, row invariance, symmetry, output grid, deform offsets."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

import equiconv
from equiconv import reference
from tests.helpers.sphere_oracle import angle_gap, tap_positions
from tests.helpers.strategies import layers


def grid_args(cfg):
    return dict(height=cfg["height"], width=cfg["width"], kernel_size=cfg["kernel_size"],
                stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
                lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])


@given(layers(), st.data())
def test_grid_matches_independent_vector_construction(cfg, data):
    rows, cols = equiconv.sampling_grid(**grid_args(cfg))
    ref_rows, ref_cols = reference.sampling_grid(**grid_args(cfg))
    ho, kh, kw = rows.shape
    wo = (cfg["width"] + 2 * cfg["padding"][1] - cfg["dilation"][1] * (kw - 1) - 1) // cfg["stride"][1] + 1
    r = data.draw(st.integers(0, ho - 1))
    q = data.draw(st.integers(0, wo - 1))  # any column: (y_s, x_s - x_c) must not depend on it
    taps = tap_positions(cfg["height"], cfg["width"], cfg["kernel_size"], cfg["stride"], cfg["padding"],
                         cfg["dilation"], cfg["lat_range"], cfg["lon_span"], r, q)
    for k, (ys, xs, cos_lat) in enumerate(taps):
        i, j = divmod(k, kw)
        for got_rows, got_cols in ((rows, cols), (ref_rows, ref_cols)):
            assert got_rows[r, i, j].item() == pytest.approx(ys, abs=1e-7)
            if cos_lat > 1e-6:  # at a pole every longitude is the same point
                x = got_cols[r, i, j].item() + q * cfg["stride"][1]
                assert angle_gap(x, xs, cfg["width"], cfg["lon_span"]) < 1e-7


@given(layers())
def test_compiled_grid_equals_reference_grid(cfg):
    rows, cols = equiconv.sampling_grid(**grid_args(cfg))
    ref_rows, ref_cols = reference.sampling_grid(**grid_args(cfg))
    torch.testing.assert_close(rows, ref_rows, rtol=0, atol=1e-9)
    torch.testing.assert_close(cols, ref_cols, rtol=0, atol=1e-9)


@given(st.integers(3, 40), st.integers(5, 40), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3),
       st.floats(5.0, 90.0))
def test_top_and_bottom_mirror_each_other(height, width, k, d, p, half_lat):
    span = d * (k - 1) + 1
    if min(height, width) + 2 * p < span:
        return
    rows, cols = equiconv.sampling_grid(height, width, k, 1, p, d, lat_range=(half_lat, -half_lat))
    torch.testing.assert_close(rows.flip(0, 1), height - 1 - rows, rtol=0, atol=1e-9)
    torch.testing.assert_close(cols.flip(0, 1), cols, rtol=0, atol=1e-9)


@given(layers())
def test_output_grid_is_conv2d_grid(cfg):
    x = torch.zeros(1, cfg["in_channels"], cfg["height"], cfg["width"])
    w = torch.zeros(cfg["out_channels"], cfg["in_channels"] // cfg["groups"], *cfg["kernel_size"])
    expected = F.conv2d(x, w, None, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"]).shape
    y = equiconv.functional.equi_conv2d(x, w, None, cfg["stride"], cfg["padding"], cfg["dilation"],
                                        cfg["groups"], lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])
    assert y.shape == expected
    assert equiconv.sampling_grid(**grid_args(cfg))[0].shape == (expected[2], *cfg["kernel_size"])


def test_centre_tap_of_odd_kernel_sits_on_the_pixel_centre():
    rows, cols = equiconv.sampling_grid(32, 64, 3, padding=1)
    torch.testing.assert_close(rows[:, 1, 1], torch.arange(32, dtype=torch.float64), rtol=0, atol=1e-9)
    torch.testing.assert_close(cols[:, 1, 1], torch.zeros(32, dtype=torch.float64), rtol=0, atol=1e-12)


def test_taps_spread_in_longitude_towards_the_poles():
    _, cols = equiconv.sampling_grid(64, 128, 3, padding=1)
    spread = (cols[:, 1, 2] - cols[:, 1, 0]).abs()
    assert spread[32] == pytest.approx(2.0, abs=0.02)      # equator: the regular grid
    assert torch.all(spread[:31].diff() < 0)               # widens monotonically towards the pole
    assert spread[0] > 20


def test_deform_offsets_reproduce_sample_positions():
    h, w, k, s, p, d = 16, 32, 3, 2, 1, 2
    rows, cols = equiconv.sampling_grid(h, w, k, s, p, d)
    off = equiconv.deform_offsets(h, w, k, s, p, d)
    ho, wo = rows.shape[0], (w + 2 * p - d * (k - 1) - 1) // s + 1
    assert off.shape == (1, 2 * k * k, ho, wo)
    for r, q, i, j in [(0, 0, 0, 0), (3, 5, 2, 1), (ho - 1, wo - 1, 1, 2)]:
        tap = i * k + j
        assert r * s - p + i * d + off[0, 2 * tap, r, q].item() == pytest.approx(rows[r, i, j].item())
        assert q * s - p + j * d + off[0, 2 * tap + 1, r, q].item() == pytest.approx(cols[r, i, j].item() + q * s)


def test_sampling_grid_returns_fresh_tensors():
    rows, _ = equiconv.sampling_grid(8, 16, 3)
    rows.zero_()
    assert equiconv.sampling_grid(8, 16, 3)[0].abs().sum() > 0


def test_equator_patch_reduces_to_conv2d():
    torch.manual_seed(0)
    h, w, deg = 12, 20, 1e-3  # a patch 0.012 x 0.02 degrees around the equator
    x = torch.randn(2, 3, h, w, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    out = equiconv.functional.equi_conv2d(x, weight, None, 1, 1, lat_range=(h / 2 * deg, -h / 2 * deg),
                                          lon_span=w * deg)
    torch.testing.assert_close(out, F.conv2d(x, weight, None, 1, 1), rtol=1e-6, atol=1e-6)


def test_geometry_is_not_conv2d_away_from_the_equator():
    x = torch.randn(1, 1, 16, 32, dtype=torch.float64)
    weight = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    diff = (equiconv.functional.equi_conv2d(x, weight, None, 1, 1) - F.conv2d(x, weight, None, 1, 1)).abs()
    assert diff[..., 1:3, 1:-1].max() > 0.05  # near the pole the kernel is stretched
    assert math.isfinite(diff.max().item())


@pytest.mark.parametrize("call,error,name", [
    (lambda: equiconv.sampling_grid(2.5, 16, 3), TypeError, "height"),
    (lambda: equiconv.sampling_grid("16", 16, 3), TypeError, "height"),
    (lambda: equiconv.sampling_grid(16, True, 3), TypeError, "width"),
    (lambda: equiconv.sampling_grid(16, 32, 3, lat_range=(True, False)), TypeError, "lat_range"),
    (lambda: equiconv.deform_offsets(16.0, 32, 3), TypeError, "height"),
])
def test_arguments_of_the_wrong_type_are_type_errors_naming_them(call, error, name):
    with pytest.raises(error, match=name):
        call()
