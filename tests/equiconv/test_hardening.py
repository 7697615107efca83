"""Defects a user can hit without doing anything wrong (issue 13): each test failed before its fix."""
import resource
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import equiconv
from equiconv import EquiConv2d
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


# --- geometry: no crash, no runaway memory ---------------------------------------------------------

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


# --- NaN reaches exactly the outputs whose taps read it --------------------------------------------

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


# --- double backward --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(padding=1),
    dict(padding=1, lat_range=(60.0, -10.0), lon_span=120.0),
    dict(stride=2, padding=(2, 1), dilation=2, groups=2),
    dict(padding=(3, 1), dilation=(2, 1)),  # pole-heavy: rows cross the poles
])
def test_gradgradcheck_float64(kwargs):
    groups = kwargs.get("groups", 1)
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 8, dtype=F64, requires_grad=True)
    w = torch.randn(2, 2 // groups, 3, 3, dtype=F64, requires_grad=True)
    b = torch.randn(2, dtype=F64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x, w, b: equi_conv2d(x, w, b, **kwargs), (x, w, b))


def _r1_step(backend):
    """One R1-penalised step of a small EquiConv2d discriminator; returns its new weights."""
    torch.manual_seed(3)
    d = nn.Sequential(EquiConv2d(3, 4, 3, padding=1, backend=backend), nn.LeakyReLU(0.2),
                      EquiConv2d(4, 1, 3, stride=2, padding=1, backend=backend)).double()
    opt = torch.optim.SGD(d.parameters(), lr=0.1)
    real = torch.randn(2, 3, 8, 16, dtype=F64, requires_grad=True)
    score = d(real).sum()
    (grad,) = torch.autograd.grad(score, real, create_graph=True)
    penalty = grad.pow(2).sum()
    opt.zero_grad()
    (penalty - score).backward()
    opt.step()
    return [p.detach().clone() for p in d.parameters()]


def test_r1_penalty_step_equals_the_reference():
    for got, want in zip(_r1_step("compiled"), _r1_step("reference")):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_double_backward_is_not_zero():
    x = torch.randn(1, 1, 6, 8, dtype=F64, requires_grad=True)
    w = torch.randn(1, 1, 3, 3, dtype=F64, requires_grad=True)
    (gx,) = torch.autograd.grad(equi_conv2d(x, w, padding=1).sum(), x, create_graph=True)
    (gw,) = torch.autograd.grad(gx.pow(2).sum(), w)
    (ref_gx,) = torch.autograd.grad(equi_conv2d(x, w, padding=1, backend="reference").sum(), x, create_graph=True)
    (ref_gw,) = torch.autograd.grad(ref_gx.pow(2).sum(), w)
    assert gw.abs().sum() > 0
    torch.testing.assert_close(gw, ref_gw, rtol=1e-10, atol=1e-10)


# --- every PyTorch path ---------------------------------------------------------------------------

def test_meta_tensors_infer_shapes_like_conv2d():
    x = torch.empty(2, 4, 16, 32, device="meta")
    m = EquiConv2d(4, 6, 3, stride=2, padding=1, device="meta")
    y = m(x)
    assert y.device.type == "meta"
    assert y.shape == nn.Conv2d(4, 6, 3, stride=2, padding=1, device="meta")(x).shape
    (y.sum()).backward()
    assert m.weight.grad.shape == m.weight.shape and m.weight.grad.device.type == "meta"


def test_export_with_dynamic_height_width_and_batch_runs_at_other_sizes():
    m = nn.Sequential(EquiConv2d(3, 4, 3, padding=1), nn.ReLU(), EquiConv2d(4, 2, 3, stride=2, padding=1)).eval()
    batch, h, w = torch.export.Dim("batch", min=1, max=8), torch.export.Dim("h", min=4, max=256), \
        torch.export.Dim("w", min=5, max=512)
    program = torch.export.export(m, (torch.randn(2, 3, 16, 32),),
                                  dynamic_shapes=({0: batch, 2: h, 3: w},))
    for shape in [(1, 3, 8, 16), (3, 3, 24, 40), (2, 3, 33, 65)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(program.module()(x), m(x), rtol=1e-5, atol=1e-5)


def test_jit_trace_works():
    m = EquiConv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 8, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(m, x)
    torch.testing.assert_close(traced(x), m(x))


def test_jit_script_says_what_to_use_instead():
    with pytest.raises(RuntimeError, match="torch.compile.*torch.export"):
        torch.jit.script(nn.Sequential(EquiConv2d(3, 4, 3)))


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_channels_last_input_gives_channels_last_output(backend):
    x = torch.randn(2, 4, 8, 16).to(memory_format=torch.channels_last).requires_grad_()
    m = EquiConv2d(4, 6, 3, padding=1, backend=backend)
    y = m(x)
    want = nn.Conv2d(4, 6, 3, padding=1)(x)
    assert y.is_contiguous(memory_format=torch.channels_last) == want.is_contiguous(memory_format=torch.channels_last)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, m(x.contiguous()))
    y.sum().backward()
    assert x.grad.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_convert_never_drops_padding_mode_silently(mode):
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode))
    with pytest.warns(UserWarning, match=rf"'0'.*padding_mode='{mode}'"):
        equiconv.convert(net)
    assert isinstance(net[0], EquiConv2d)


def test_convert_keeps_zeros_padding_quiet():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        equiconv.convert(net)


@pytest.mark.parametrize("call,error,name", [
    (lambda: equiconv.sampling_grid(2.5, 16, 3), TypeError, "height"),
    (lambda: equiconv.sampling_grid("16", 16, 3), TypeError, "height"),
    (lambda: equiconv.sampling_grid(16, True, 3), TypeError, "width"),
    (lambda: equiconv.sampling_grid(16, 32, 3, lat_range=(True, False)), TypeError, "lat_range"),
    (lambda: equiconv.deform_offsets(16.0, 32, 3), TypeError, "height"),
    (lambda: EquiConv2d(2.5, 4, 3), TypeError, "in_channels"),
    (lambda: EquiConv2d(4, "4", 3), TypeError, "out_channels"),
    (lambda: EquiConv2d(4, 4, 3, groups=True), TypeError, "groups"),
    (lambda: EquiConv2d(4, 4, 3, groups=2.0), TypeError, "groups"),
])
def test_arguments_of_the_wrong_type_are_type_errors_naming_them(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_numpy_integers_are_integers():
    m = EquiConv2d(np.int64(4), np.int32(4), np.int64(3), padding=np.int64(1), groups=np.int64(2))
    assert m(torch.randn(1, 4, 8, 16)).shape == (1, 4, 8, 16)
    rows, _ = equiconv.sampling_grid(np.int64(8), np.int16(16), (np.int8(3), 3), padding=np.uint8(1))
    assert rows.shape == (8, 3, 3)


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
