"""The CUDA kernels themselves: CUDA == CPU == reference, gradients, streams, layouts, 64-bit
indexing, determinism, autocast, chunks, plan lifetime and graph capture. Needs a CUDA device and
an equiconv built with CUDA; tests/equiconv/cuda/test_cuda_host.py and tests/equiconv/cuda/test_cuda_driver.py run the same
per-thread code and driver on the host everywhere."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings, strategies as st

from equiconv import EquiConv2d
from equiconv.functional import equi_conv2d
from tests.helpers.strategies import layers
from tests.equiconv.ops.conv_cases import conv_kwargs, make_tensors, pole_layer

# torch versions that still check cuBLAS's workspace under use_deterministic_algorithms(True)
# (2.13 no longer does) raise on batched GEMMs without it; it must be set before cuBLAS starts,
# i.e. before any test runs (pytest imports every module first).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

if not torch.cuda.is_available():
    pytest.skip("no CUDA device: the CUDA kernels are compiled by tests/equiconv/cuda/test_cuda_sources.py and their "
                "per-thread code runs on the host in tests/equiconv/cuda/test_cuda_host.py", allow_module_level=True)

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


def test_batch_across_several_chunks_in_half():
    """16 half images of 64 channels at 256x512 need three chunks of the 1 GiB budget; chunked,
    they give what each image gives alone (a chunk of one image, whose GEMM writes the output)."""
    torch.manual_seed(6)
    x = torch.randn(16, 64, 256, 512, device=CUDA, dtype=torch.float16, requires_grad=True)
    w = (torch.randn(64, 64, 3, 3, device=CUDA) / 24).half().requires_grad_()
    y = equi_conv2d(x, w, None, padding=1)
    probe = torch.randn_like(y)
    (y.float() * probe).sum().backward()
    grad_w = torch.zeros_like(w, dtype=torch.float32)
    for n in range(len(x)):
        xn = x[n:n + 1].detach().requires_grad_()
        wn = w.detach().requires_grad_()
        yn = equi_conv2d(xn, wn, None, padding=1)
        tol = 2e-2 * yn.abs().max().item()
        torch.testing.assert_close(y[n:n + 1], yn, rtol=2e-2, atol=tol)
        (yn.float() * probe[n:n + 1]).sum().backward()
        torch.testing.assert_close(x.grad[n:n + 1], xn.grad, rtol=2e-2, atol=2e-2 * xn.grad.abs().max().item())
        grad_w += wn.grad.float()
    torch.testing.assert_close(w.grad.float(), grad_w, rtol=2e-2, atol=2e-2 * grad_w.abs().max().item())


def test_float16_grad_weight_sums_chunks_beyond_float16_range():
    """Two chunks of 2 images (64 channels at 256x512, 3x3) whose grad weights are 2**18 and
    -0.875 * 2**18 per element, beyond float16's 65504, and sum to 2**15 (every partial sum is
    exact in float32): summed in float32, the result is finite and exact."""
    x = torch.ones(4, 64, 256, 512, device=CUDA, dtype=torch.float16)
    w = torch.ones(1, 64, 3, 3, device=CUDA, dtype=torch.float16, requires_grad=True)
    go = torch.ones(4, 1, 256, 512, device=CUDA, dtype=torch.float16)
    go[2:] = -0.875
    equi_conv2d(x, w, None, padding=1).backward(go)
    want = torch.full_like(w, 2 * 256 * 512 * 0.125, dtype=torch.float32)  # every tap reads 1
    torch.testing.assert_close(w.grad.float(), want, rtol=0, atol=0)


def test_more_geometries_than_the_cache_holds_on_several_streams():
    """300 geometries (the cache keeps 256): each plan is built on stream A and used by a long
    queue of work on stream B, while A keeps allocating and filling memory; plans evicted (their
    tables freed to A's pool) while B's kernels may still read them must not be overwritten."""
    torch.manual_seed(7)
    a, b = torch.cuda.Stream(), torch.cuda.Stream()
    w = torch.randn(16, 16, 3, 3, device=CUDA)
    results = []
    for i in range(300):
        x = torch.randn(4, 16, 8 + i % 150, 64 + 2 * (i // 150), device=CUDA)
        for stream in (a, b):
            stream.wait_stream(torch.cuda.current_stream())
            x.record_stream(stream)
        with torch.cuda.stream(a):
            equi_conv2d(x[:1], w, None, padding=1)  # builds the plan on A
        with torch.cuda.stream(b):
            results.append((x, equi_conv2d(x, w, None, padding=1)))
        with torch.cuda.stream(a):
            torch.full((1 << 22,), float("nan"), device=CUDA)  # A reuses what it has freed
    torch.cuda.synchronize()
    for x, y in results[::7]:
        want = equi_conv2d(x.cpu().double(), w.cpu().double(), None, padding=1)
        torch.testing.assert_close(y.cpu().double(), want, rtol=1e-4, atol=1e-4 * want.abs().max().item())


def test_graph_capture_of_forward_and_backward_at_a_warmed_geometry():
    torch.manual_seed(8)
    x = torch.randn(2, 8, 32, 64, device=CUDA, requires_grad=True)
    w = torch.randn(8, 8, 3, 3, device=CUDA, requires_grad=True)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up: builds the plan and autograd's buffers
        for _ in range(2):
            x.grad = w.grad = None
            equi_conv2d(x, w, None, padding=1).square().sum().backward()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    x.grad = w.grad = None
    with torch.cuda.graph(graph):
        y = equi_conv2d(x, w, None, padding=1)
        y.square().sum().backward()
    for i in range(300):  # more geometries than the cache holds: the captured plan must stay
        equi_conv2d(torch.randn(1, 8, 9 + i, 16, device=CUDA), w.detach(), None, padding=1)
    new_x = torch.randn_like(x)
    with torch.no_grad():
        x.copy_(new_x)
    graph.replay()
    xe, we = new_x.clone().requires_grad_(), w.detach().clone().requires_grad_()
    ye = equi_conv2d(xe, we, None, padding=1)
    ye.square().sum().backward()
    torch.testing.assert_close(y, ye)
    torch.testing.assert_close(x.grad, xe.grad)
    torch.testing.assert_close(w.grad, we.grad)


COLD_CAPTURE = """
import torch
from equiconv.functional import equi_conv2d
x = torch.randn(1, 2, 11, 23, device="cuda")
w = torch.randn(2, 2, 3, 3, device="cuda")
try:
    with torch.cuda.graph(torch.cuda.CUDAGraph()):
        equi_conv2d(x, w, None, padding=(1, 2))
except RuntimeError as error:
    print(error)
"""


def test_graph_capture_of_a_cold_geometry_is_a_clear_error():
    """In a process of its own: with the CUDA C++ kernels this has crashed the process (a
    segmentation fault, H200, 2026-12-04), which must fail this test, not end the run."""
    result = subprocess.run([sys.executable, "-c", COLD_CAPTURE], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, f"exit status {result.returncode}: {result.stderr[-2000:]}"
    assert "run the layer once before the capture (a warm-up)" in result.stdout


@settings(max_examples=30, deadline=None)
@given(layers(), st.sampled_from(sorted(TOLERANCE, key=str)), st.booleans())
def test_pooling_on_cuda_matches_cpu(cfg, dtype, max_pool):
    from equiconv.functional import equi_avg_pool2d, equi_max_pool2d
    from tests.equiconv.ops.pool_cases import image, pool_kwargs
    pool = equi_max_pool2d if max_pool else equi_avg_pool2d
    results = []
    for device, dt in (("cpu", F64), (CUDA, dtype)):
        x = image(cfg).to(device=device, dtype=dt).requires_grad_()
        y = pool(x, **pool_kwargs(cfg))
        probe = torch.linspace(-1, 1, y.numel(), dtype=F64).view(y.shape).to(device=device, dtype=dt)
        (y * probe).sum().backward()
        results.append([t.detach().to("cpu", F64) for t in (y, x.grad)])
    tol = TOLERANCE[dtype]
    checked = results[0] if not (max_pool and dtype in (torch.float16, torch.bfloat16)) else results[0][:1]
    for got, ref in zip(results[1], checked):
        torch.testing.assert_close(got, ref, rtol=tol, atol=tol * max(1.0, ref.abs().max().item()))


@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_conv_transpose_on_cuda_matches_cpu(dtype):
    from equiconv.functional import equi_conv_transpose2d
    torch.manual_seed(0)
    x, w, b = torch.randn(2, 4, 8, 16, dtype=F64), torch.randn(4, 3, 3, 3, dtype=F64), torch.randn(6, dtype=F64)
    results = []
    for device, dt in (("cpu", F64), (CUDA, dtype)):
        ts = [t.detach().to(device=device, dtype=dt).requires_grad_() for t in (x, w, b)]  # leaves on both
        y = equi_conv_transpose2d(*ts, stride=2, padding=1, output_padding=1, groups=2)
        y.square().sum().backward()
        results.append([t.detach().to("cpu", F64) for t in (y, *(t.grad for t in ts))])
    tol = TOLERANCE[dtype]
    for got, ref in zip(*results[::-1]):
        torch.testing.assert_close(got, ref, rtol=tol, atol=tol * max(1.0, ref.abs().max().item()))


def test_an_image_beyond_the_chunk_budget_runs_in_bands_of_output_rows():
    """One float32 image of 64 channels at 512x1024 with a 3x3 kernel needs 1.2 GB of columns,
    beyond the 1 GiB budget: forward and backward run in bands of output rows (two each) and give
    the CPU operator's results."""
    torch.manual_seed(7)
    x = torch.randn(1, 64, 512, 1024)
    w = torch.randn(4, 64, 3, 3) / 24
    probe = torch.randn(1, 4, 512, 1024)
    results = []
    for device in ("cpu", CUDA):
        xd, wd = x.detach().to(device).requires_grad_(), w.detach().to(device).requires_grad_()
        y = equi_conv2d(xd, wd, None, padding=1)
        (y * probe.to(device)).sum().backward()
        results.append([t.detach().cpu() for t in (y, xd.grad, wd.grad)])
    for got, want in zip(*reversed(results)):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * want.abs().max().item())


def test_tensor_arguments_on_another_device_are_refused_by_name():
    x = torch.randn(1, 2, 8, 16, device=CUDA)
    w = torch.randn(2, 2, 3, 3, device=CUDA)
    geometry = ([1, 1], [1, 1], [1, 1], 1, [90.0, -90.0], 360.0)
    with pytest.raises(RuntimeError, match="bias is on cpu but input is on cuda"):
        torch.ops.equiconv.equi_conv2d(x, w, torch.zeros(2), *geometry)
    with pytest.raises(RuntimeError, match="grad_output is on cpu but input is on cuda"):
        torch.ops.equiconv.equi_conv2d_backward(torch.randn(1, 2, 8, 16), x, w, *geometry, [True, True, False])
