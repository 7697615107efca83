"""The CUDA kernels themselves: CUDA == CPU == reference, gradients, streams, layouts, 64-bit
indexing, determinism and autocast. Needs a CUDA device and an equiconv built with CUDA;
tests/test_cuda_host.py checks the same per-thread code on the host everywhere."""
import pytest
import torch
from hypothesis import example, given, settings, strategies as st

from equiconv import EquiConv2d
from equiconv.functional import equi_conv2d
from strategies import layers
from test_operator import conv_kwargs, make_tensors, pole_layer

if not torch.cuda.is_available():
    pytest.skip("no CUDA device: the CUDA kernels are compiled by tests/test_cuda_sources.py and their "
                "per-thread code runs on the host in tests/test_cuda_host.py", allow_module_level=True)

CUDA = torch.device("cuda")
F64 = torch.float64
# dtype -> (rtol, atol relative to the output's magnitude)
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 5e-2}


def run(cfg, dtype, device, backend="compiled", seed=0):
    x, w, b = (t.to(device=device, dtype=dtype).requires_grad_() for t in make_tensors(cfg, seed=seed))
    y = equi_conv2d(x, w, b, backend=backend, **conv_kwargs(cfg))
    probe = torch.linspace(-1, 1, y.numel(), dtype=F64).view(y.shape).to(device=device, dtype=dtype)
    (y * probe).sum().backward()
    return [t.detach().to("cpu", F64) for t in (y, x.grad, w.grad, b.grad)]


@settings(max_examples=60)
@given(layers(), st.sampled_from(sorted(TOLERANCE, key=str)))
@example(pole_layer(), torch.float64)
@example(pole_layer(padding=(3, 1), dilation=(1, 1), width=13, stride=(2, 1)), torch.float32)
def test_cuda_matches_cpu_and_reference(cfg, dtype):
    want = run(cfg, F64, "cpu")
    torch.testing.assert_close(run(cfg, F64, "cpu", backend="reference"), want, rtol=1e-10, atol=1e-10)
    for got, ref in zip(run(cfg, dtype, CUDA), want):
        tol = TOLERANCE[dtype]
        torch.testing.assert_close(got, ref, rtol=tol, atol=tol * max(1.0, ref.abs().max().item()))


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, padding=(2, 1), dilation=2, groups=2),
                                    dict(padding=1, lat_range=(60.0, -10.0), lon_span=120.0)])
def test_gradcheck_float64_on_cuda(kwargs):
    groups = kwargs.get("groups", 1)
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 10, dtype=F64, device=CUDA, requires_grad=True)
    w = torch.randn(2 * groups, 4 // groups, 3, 3, dtype=F64, device=CUDA, requires_grad=True)
    b = torch.randn(2 * groups, dtype=F64, device=CUDA, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: equi_conv2d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, padding=(2, 1), dilation=2, groups=2),
                                    dict(padding=(3, 1), dilation=(2, 1), lat_range=(60.0, -10.0), lon_span=120.0)])
def test_gradgradcheck_float64_on_cuda(kwargs):
    groups = kwargs.get("groups", 1)
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 8, dtype=F64, device=CUDA, requires_grad=True)
    w = torch.randn(2, 2 // groups, 3, 3, dtype=F64, device=CUDA, requires_grad=True)
    b = torch.randn(2, dtype=F64, device=CUDA, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x, w, b: equi_conv2d(x, w, b, **kwargs), (x, w, b))


def test_export_with_dynamic_sizes_on_cuda():
    m = torch.nn.Sequential(EquiConv2d(3, 4, 3, padding=1), torch.nn.ReLU(), EquiConv2d(4, 2, 3, stride=2, padding=1))
    m = m.to(CUDA).eval()
    dims = {0: torch.export.Dim("batch", min=1, max=8), 2: torch.export.Dim("h", min=4, max=256),
            3: torch.export.Dim("w", min=5, max=512)}
    program = torch.export.export(m, (torch.randn(2, 3, 16, 32, device=CUDA),), dynamic_shapes=(dims,))
    for shape in [(1, 3, 8, 16), (3, 3, 33, 65)]:
        x = torch.randn(*shape, device=CUDA)
        torch.testing.assert_close(program.module()(x), m(x), rtol=1e-5, atol=1e-5)


def test_nan_reaches_the_same_outputs_on_cuda_and_cpu():
    x = torch.zeros(1, 1, 9, 16, dtype=F64)
    x[0, 0, 4, 7] = float("nan")
    w = torch.ones(1, 1, 3, 3, dtype=F64)
    for kwargs in (dict(padding=1), dict(padding=1, lat_range=(60.0, -30.0), lon_span=100.0)):
        want = equi_conv2d(x, w, **kwargs).isnan()
        assert torch.equal(equi_conv2d(x.to(CUDA), w.to(CUDA), **kwargs).isnan().cpu(), want)


def test_runs_on_the_current_non_default_stream():
    torch.manual_seed(1)
    x = torch.randn(4, 16, 64, 128, device=CUDA, requires_grad=True)
    w = torch.randn(16, 16, 3, 3, device=CUDA)
    want = equi_conv2d(x, w, None, padding=1)
    want.sum().backward()
    want_grad, x.grad = x.grad, None
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        got = equi_conv2d(x, w, None, padding=1)
        got.sum().backward()
    torch.cuda.current_stream().wait_stream(stream)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(x.grad, want_grad)


def test_channels_last_input():
    torch.manual_seed(2)
    x = torch.randn(2, 8, 16, 32, device=CUDA, requires_grad=True)
    w = torch.randn(8, 8, 3, 3, device=CUDA)
    xc = x.detach().to(memory_format=torch.channels_last).requires_grad_()
    y, yc = equi_conv2d(x, w, None, padding=1), equi_conv2d(xc, w, None, padding=1)
    torch.testing.assert_close(yc, y)
    y.sum().backward()
    yc.sum().backward()
    torch.testing.assert_close(xc.grad, x.grad)


def test_second_device_if_present():
    if torch.cuda.device_count() < 2:
        pytest.skip("one CUDA device")
    x, w = torch.randn(1, 2, 8, 16), torch.randn(2, 2, 3, 3)
    got = equi_conv2d(x.to("cuda:1"), w.to("cuda:1"), None, padding=1)
    assert got.device == torch.device("cuda:1")
    torch.testing.assert_close(got.cpu(), equi_conv2d(x, w, None, padding=1), rtol=1e-4, atol=1e-4)


def test_columns_beyond_two_to_the_31_elements():
    """One channel's columns of a 1x240x1024x1024 half input, 3x3, exceed 2**31 elements; only
    the last input channel has weights, so the result is that channel's small convolution."""
    channels, h, w_ = 240, 1024, 1024
    assert channels * 9 * h * w_ > 2 ** 31
    free, _ = torch.cuda.mem_get_info()
    if free < 16 * 2 ** 30:
        pytest.skip(f"needs ~16 GiB of free GPU memory, {free / 2 ** 30:.1f} GiB free")
    torch.manual_seed(3)
    x = torch.randn(1, channels, h, w_, device=CUDA, dtype=torch.float16)
    weight = torch.zeros(2, channels, 3, 3, device=CUDA, dtype=torch.float16)
    weight[:, -1] = torch.randn(2, 3, 3, device=CUDA, dtype=torch.float16)
    got = equi_conv2d(x, weight, None, padding=1)
    want = equi_conv2d(x[:, -1:].float(), weight[:, -1:].float(), None, padding=1)
    torch.testing.assert_close(got.float(), want, rtol=2e-2, atol=2e-2)
    # the adjoint over the same sizes: grad input of the last channel only
    xg = x.requires_grad_()
    equi_conv2d(xg, weight, None, padding=1).float().sum().backward()
    x_small = x[:, -1:].detach().float().requires_grad_()
    equi_conv2d(x_small, weight[:, -1:].float(), None, padding=1).sum().backward()
    torch.testing.assert_close(xg.grad[:, -1:].float(), x_small.grad, rtol=2e-2, atol=2e-2)
    assert not xg.grad[:, :-1].any()


def test_deterministic_algorithms_are_honoured():
    torch.manual_seed(4)
    x = torch.randn(4, 32, 64, 128, device=CUDA, requires_grad=True)
    w = torch.randn(32, 32, 3, 3, device=CUDA, requires_grad=True)
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        grads = []
        for _ in range(2):
            x.grad = w.grad = None
            equi_conv2d(x, w, None, padding=1).square().sum().backward()
            grads.append((x.grad.clone(), w.grad.clone()))
    finally:
        torch.use_deterministic_algorithms(previous)
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_autocast_runs_in_the_autocast_dtype(dtype):
    torch.manual_seed(5)
    x = torch.randn(2, 8, 16, 32, device=CUDA, requires_grad=True)
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, device=CUDA)
    equi = EquiConv2d.from_conv2d(conv)
    with torch.autocast("cuda", dtype=dtype):
        y = equi(x)
    assert y.dtype == dtype
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and conv.weight.grad.dtype == torch.float32
