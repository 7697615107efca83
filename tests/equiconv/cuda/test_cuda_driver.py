"""The CUDA implementation's driver (csrc/ops/equi_conv2d/driver.h), run on the host: chunks of images,
bands of output rows when one image exceeds the budget, the GEMM layouts, the float32 grad-weight sum and the dtype dispatch, around the kernels' per-thread
functions (tests/equiconv/cuda/host/driver_ops.cpp), with chunk budgets small enough that batches cross
several chunks. It must give the CPU operator's results; float16/bfloat16 run through c10::Half /
c10::BFloat16, which round to nearest even like the device intrinsics."""
import hashlib
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, strategies as st
from torch.utils import cpp_extension

import equiconv  # noqa: F401  (registers torch.ops.equiconv)
from tests.helpers.strategies import layers
from tests.equiconv.ops.conv_cases import conv_kwargs, make_tensors, pole_layer

pytestmark = pytest.mark.slow  # builds the host emulation of the driver

ROOT = Path(__file__).resolve().parents[3]
F64 = torch.float64
REDUCED = {torch.float16: 1e-2, torch.bfloat16: 4e-2}  # dtype -> tolerance relative to the magnitude


@pytest.fixture(scope="module")
def host():
    # one build per checkout, rebuilt by ninja when a source or header changes
    name = "equiconv_cuda_host_" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    if not hasattr(torch.ops.equiconv_host, "forward"):
        sources = ["tests/equiconv/cuda/host/driver_ops.cpp", "tests/equiconv/cuda/host/device_checks.cpp",
                   "csrc/geometry.cpp"]
        cpp_extension.load(name, [str(ROOT / source) for source in sources],
                           extra_include_paths=[str(ROOT / "csrc")], extra_cflags=["-O1"], is_python_module=False)
    return torch.ops.equiconv_host


def out_size(cfg):
    return tuple((size + 2 * pad - dil * (k - 1) - 1) // stride + 1 for size, pad, dil, k, stride in zip(
        (cfg["height"], cfg["width"]), cfg["padding"], cfg["dilation"], cfg["kernel_size"], cfg["stride"]))


def element_size(dtype):
    return torch.tensor([], dtype=dtype).element_size()


def per_row_bytes(cfg, dtype, backward):
    """What one output row of one image allocates: columns and the GEMM-shaped output (forward
    and backward), and in backward their float32 copies for a reduced precision's grad weight."""
    taps = cfg["kernel_size"][0] * cfg["kernel_size"][1]
    elements = (cfg["in_channels"] * taps + cfg["out_channels"]) * out_size(cfg)[1]
    return elements * (element_size(dtype) + (4 if backward and dtype in REDUCED else 0))


def per_image_bytes(cfg, dtype, backward):
    return per_row_bytes(cfg, dtype, backward) * out_size(cfg)[0]


def band_sums_bytes(cfg, dtype, backward):
    """A banded backward's two image-sized buffers: one band's grad input and the running sum
    (in float32 for a reduced precision)."""
    if not backward:
        return 0
    size = element_size(dtype)
    return cfg["in_channels"] * cfg["height"] * cfg["width"] * (size + (4 if dtype in REDUCED else size))


@st.composite
def chunked(draw, dtypes=(F64,)):
    """A layer, with batches and channel counts down to zero, and a chunk budget of 1-3 images."""
    cfg = draw(layers())
    g = cfg["groups"]
    cfg.update(batch=draw(st.integers(0, 7)), in_channels=g * draw(st.integers(0, 2)),
               out_channels=g * draw(st.integers(0, 2)))
    dtype = draw(st.sampled_from(dtypes))
    images = draw(st.integers(1, 3))
    bytes_per_image = per_image_bytes(cfg, dtype, backward=True)
    budget = images * bytes_per_image + draw(st.integers(0, max(0, bytes_per_image - 1)))
    return cfg, dtype, budget, draw(st.booleans())


@st.composite
def banded(draw, dtypes=(F64,)):
    """A layer of one to three images whose backward's budget holds a few output rows of one
    image but not the whole image (forward then also bands, or holds the image)."""
    cfg = draw(layers())
    g = cfg["groups"]
    cfg.update(batch=draw(st.integers(1, 3)), in_channels=g * draw(st.integers(1, 2)),
               out_channels=g * draw(st.integers(1, 2)))
    out_h = out_size(cfg)[0]
    dtype = draw(st.sampled_from(dtypes))
    per_row = per_row_bytes(cfg, dtype, backward=True)
    rows = draw(st.integers(1, max(1, out_h - 1)))
    budget = band_sums_bytes(cfg, dtype, True) + rows * per_row + draw(st.integers(0, per_row - 1))
    return cfg, dtype, min(budget, per_row * out_h - 1), draw(st.booleans())


def operands(cfg, dtype):
    x, w, _ = make_tensors(cfg)
    g = torch.Generator().manual_seed(1)
    go = torch.randn(cfg["batch"], cfg["out_channels"], *out_size(cfg), dtype=F64, generator=g)
    return [t.to(dtype).to(F64) for t in (x, w, go)]  # exactly representable in dtype


def check(host, cfg, dtype, budget, wide, tol):
    x, w, go = operands(cfg, dtype)
    args = conv_kwargs(cfg).values()
    want = torch.ops.equiconv.equi_conv2d(x, w, None, *args)
    want_input, want_weight, _ = torch.ops.equiconv.equi_conv2d_backward(go, x, w, *args, [True, True, False])
    got = host.forward(x.to(dtype), w.to(dtype), *args, budget, wide)
    got_input, got_weight = host.backward(go.to(dtype), x.to(dtype), w.to(dtype), *args, budget, wide)
    for g, r in ((got, want), (got_input, want_input), (got_weight, want_weight)):
        assert g.dtype == dtype
        scale = max(1.0, r.abs().max().item()) if r.numel() else 1.0
        torch.testing.assert_close(g.to(F64), r, rtol=tol, atol=tol * scale)


@given(chunked())
@example((pole_layer(batch=5), F64, 1, False))  # one image per chunk: the forward GEMM writes the output
@example((pole_layer(batch=0), F64, 1, True))
@example((pole_layer(in_channels=0, out_channels=0, batch=3), F64, 1, False))
def test_driver_equals_cpu_operator_across_chunks(host, case):
    cfg, dtype, budget, wide = case
    check(host, cfg, dtype, budget, wide, 1e-10)


@given(chunked(dtypes=tuple(REDUCED)))
def test_driver_in_half_and_bfloat16_is_close_to_float64(host, case):
    cfg, dtype, budget, wide = case
    check(host, cfg, dtype, budget, wide, REDUCED[dtype])


@given(banded())
@example((pole_layer(batch=2), F64, 1, False))  # one output row per band
@example((pole_layer(batch=1, in_channels=3, out_channels=2), F64,
          band_sums_bytes(pole_layer(in_channels=3, out_channels=2), F64, True)
          + 3 * per_row_bytes(pole_layer(in_channels=3, out_channels=2), F64, True), True))
def test_driver_bands_output_rows_of_an_image_beyond_the_budget(host, case):
    """A budget smaller than one image: the driver splits each image into bands of output rows,
    and forward, grad input (summed over the bands) and grad weight are the CPU operator's."""
    cfg, dtype, budget, wide = case
    assert budget < per_image_bytes(cfg, dtype, backward=True)
    check(host, cfg, dtype, budget, wide, 1e-10)


@given(banded(dtypes=tuple(REDUCED)))
def test_banded_driver_in_half_and_bfloat16_is_close_to_float64(host, case):
    cfg, dtype, budget, wide = case
    check(host, cfg, dtype, budget, wide, REDUCED[dtype])


@given(st.one_of(chunked(dtypes=(F64, torch.float32, *REDUCED)), banded(dtypes=(F64, torch.float32, *REDUCED))),
       st.booleans())
def test_chunks_and_bands_hold_every_allocation_within_the_budget(host, case, backward):
    """Whole images per chunk while one fits; otherwise one image per chunk, in bands of as many
    output rows as fit beside the banded backward's image-sized sums (one row at least)."""
    cfg, dtype, budget, _ = case
    x, w, _ = make_tensors(cfg)
    per_row, out_h = per_row_bytes(cfg, dtype, backward), out_size(cfg)[0]
    per_image = per_row * out_h
    images, rows = host.chunking(x.to(dtype), w.to(dtype), *conv_kwargs(cfg).values(), budget, backward)
    if per_image <= budget:
        assert images == min(max(1, budget // max(1, per_image)), max(1, cfg["batch"])) and rows == out_h
        assert images * per_image <= budget
    else:
        sums = band_sums_bytes(cfg, dtype, backward)
        assert images == 1 and rows == min(max(1, (budget - sums) // per_row), out_h)
        assert rows == 1 or sums + rows * per_row <= budget


def test_float16_grad_weight_sums_chunks_beyond_float16_range(host):
    """Two one-image chunks whose grad weights are about +-1e5 (beyond float16's 65504) and sum
    to about 1e4: summed in float32, the result is finite and right."""
    cfg = pole_layer(batch=2, in_channels=1, out_channels=1, height=16, width=32, padding=(1, 1), dilation=(1, 1))
    x = torch.full((1, 1, 16, 32), 8.0, dtype=F64).expand(2, -1, -1, -1).contiguous()
    w = torch.ones(1, 1, 3, 3, dtype=F64)
    go = torch.full((2, 1, 16, 32), 24.0, dtype=F64)
    go[1] = -21.0
    args = conv_kwargs(cfg).values()
    want = torch.ops.equiconv.equi_conv2d_backward(go, x, w, *args, [False, True, False])[1]
    assert want.abs().max() < 65504 < (go[:1] * 8).sum() * 0.9
    budget = per_image_bytes(cfg, torch.float16, backward=True)  # one image per chunk
    _, got = host.backward(go.half(), x.half(), w.half(), *args, budget, False)
    torch.testing.assert_close(got.to(F64), want, rtol=1e-3, atol=1e-3 * want.abs().max().item())


def test_a_plan_used_in_a_graph_capture_is_never_evicted(host):
    """Eager plans are evicted beyond the cache's 256; one asked for during a (CUDA-graph)
    capture stays, since the graph may replay its pointers at any time. A plan missing during a
    capture is a clear error."""
    with pytest.raises(RuntimeError, match="warm-up"):
        host.plan_address(7, 9, True)
    kept = host.plan_address(8, 16, False)
    host.plan_address(9, 16, False)
    assert host.plan_address(8, 16, True) == kept
    for height in range(10, 10 + 300):
        host.plan_address(height, 16, False)
    assert host.plan_address(8, 16, True) == kept
    with pytest.raises(RuntimeError, match="warm-up"):
        host.plan_address(9, 16, True)


INT32_LIMIT = 2 ** 31 - 1 - 256 * 2 ** 20  # int32 indices while the grid-stride loop's last step fits


@pytest.mark.parametrize("col2im", [False, True])
@pytest.mark.parametrize("images, wide", [(INT32_LIMIT // 15, False), (2 ** 31 // 15 + 7, True)])
def test_index_arithmetic_near_and_beyond_the_int32_limit(host, images, wide, col2im):
    """The last threads of a call whose largest index is just under the int32 limit (int32
    indices) or beyond 2**31 (int64): each reads and writes element i at the right place."""
    src = torch.randn(1000, dtype=F64, generator=torch.Generator().manual_seed(2))
    got, got_wide = host.last_threads(src, images, col2im)
    assert got_wide == wide
    assert torch.equal(got, src)


def test_a_tensor_argument_on_another_device_is_refused_by_name(host):
    """The check every CUDA op runs on its tensor arguments (meta tensors stand for a second
    device here): the error names the argument and both devices; absent arguments pass."""
    x, other = torch.zeros(1, 1, 4, 8), torch.zeros(1, 1, 4, 8, device="meta")
    host.same_device(x, x, x)
    host.same_device(x, None, None)
    with pytest.raises(RuntimeError, match="grad_output is on meta but input is on cpu"):
        host.same_device(x, other, x)
    with pytest.raises(RuntimeError, match="weight is on meta but input is on cpu"):
        host.same_device(x, x, other)
