"""The pooling kernels' per-thread code (csrc/ops/equi_pool2d/elements.h) run on the host
(tests/equiconv/cuda/host/pool_ops.cpp), with either index type: it must give the CPU operator's values,
winning taps and gradients (float64 exactly to rounding; float16/bfloat16 through c10's types,
which round like the device intrinsics). tests/equiconv/cuda/test_cuda.py runs the kernels where a GPU exists."""
import hashlib
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings, strategies as st
from torch.utils import cpp_extension

from equiconv.functional import equi_avg_pool2d, equi_max_pool2d
from tests.helpers.strategies import layers
from tests.equiconv.ops.pool_cases import POLE, image, pool_kwargs

pytestmark = pytest.mark.slow  # builds the host emulation of the pooling kernels

ROOT = Path(__file__).resolve().parents[3]
F64 = torch.float64


@pytest.fixture(scope="module")
def host():
    name = "equiconv_cuda_host_pool_" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    if not hasattr(torch.ops.equiconv_host_pool, "forward"):
        cpp_extension.load(name, [str(ROOT / "tests/equiconv/cuda/host/pool_ops.cpp"), str(ROOT / "csrc/geometry.cpp")],
                           extra_include_paths=[str(ROOT / "csrc"), str(ROOT / "tests/equiconv/cuda/host")],
                           extra_cflags=["-O1"], is_python_module=False)
    return torch.ops.equiconv_host_pool


def geometry_args(cfg):
    kw = pool_kwargs(cfg)
    return [list(kw["kernel_size"]), list(kw["stride"]), list(kw["padding"]), list(kw["dilation"]),
            list(kw["lat_range"]), kw["lon_span"]]


@settings(max_examples=40, deadline=None)
@given(layers(), st.booleans(), st.booleans(), st.sampled_from([F64, torch.float32, torch.float16, torch.bfloat16]))
@example(POLE, True, False, F64)
@example(POLE, False, True, F64)
def test_gpu_thread_code_matches_the_cpu_operator(host, cfg, max_pool, wide, dtype):
    x = image(cfg)
    geometry = geometry_args(cfg)
    out, winners = host.forward(x.to(dtype), *geometry, max_pool, wide)
    probe = torch.linspace(-1, 1, out.numel(), dtype=F64).view_as(out)
    xs = x.clone().requires_grad_()
    if max_pool:
        want = equi_max_pool2d(xs, **pool_kwargs(cfg))
        want_winners = torch.ops.equiconv.equi_max_pool2d(x, *geometry)[1]  # tap numbers, as the host's
    else:
        want = equi_avg_pool2d(xs, **pool_kwargs(cfg))
    (want * probe).sum().backward()
    grad = host.backward(probe.to(dtype), winners, list(x.shape[2:]), *geometry, max_pool, wide)
    tol = {F64: 1e-12, torch.float32: 1e-5, torch.float16: 2e-2, torch.bfloat16: 8e-2}[dtype]
    torch.testing.assert_close(out.double(), want.detach(), rtol=tol, atol=tol * 4)
    if not (max_pool and dtype in (torch.float16, torch.bfloat16)):  # there rounding may pick another winner
        torch.testing.assert_close(grad.double(), xs.grad, rtol=tol, atol=tol * 4)
    if max_pool and dtype == F64:
        assert torch.equal(winners, want_winners)
