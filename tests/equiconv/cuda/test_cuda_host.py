"""The CUDA kernels' per-thread code (csrc/ops/equi_conv2d/elements.h on csrc/cuda/sampling_elements.h), run on the host: the
columns it writes and the gradient it gathers must give the CPU operator's results, through the
same GEMM layout as the CUDA glue. This checks the GPU indexing, the gather tables and the
boundary rules without a GPU (tests/equiconv/cuda/test_cuda.py runs the kernels themselves when one exists)."""
import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, strategies as st

import equiconv
from equiconv import _checks
from tests.helpers.strategies import layers
from tests.equiconv.ops.conv_cases import conv_kwargs, make_tensors, pole_layer

pytestmark = pytest.mark.slow  # builds the host emulation of the kernels

ROOT = Path(__file__).resolve().parents[3]
TABLES = ("tap_offset", "ext_row_src", "ext_row_shift", "ext_col_src", "tap_rc", "src_row_start",
          "src_row_ext", "src_col_start", "src_col_ext", "entry_start", "entry")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.fail("a C++ compiler (g++) is needed; it also builds equiconv itself")
    lib = tmp_path_factory.mktemp("cuda_host") / "emulate.so"
    subprocess.run([compiler, "-std=c++17", "-O1", "-shared", "-fPIC", f"-I{ROOT / 'csrc'}",
                    str(ROOT / "tests/equiconv/cuda/host/emulate.cpp"), "-o", str(lib)], check=True)
    return ctypes.CDLL(str(lib))


class Emulated:
    """im2col / col2im of one layer through the emulator, in the CUDA glue's column layout."""

    def __init__(self, lib, cfg, wide_index):
        self.lib, self.cfg, self.wide = lib, cfg, int(wide_index)
        kw = conv_kwargs(cfg)
        g = _checks.geometry(cfg["height"], cfg["width"], cfg["kernel_size"], kw["stride"], kw["padding"],
                             kw["dilation"], lat_range=kw["lat_range"], lon_span=kw["lon_span"])
        plan = equiconv.geometry.sampling_plan(g.height, g.width, g.kernel_size, g.stride, g.padding, g.dilation,
                                               lat_range=g.lat_range, lon_span=g.lon_span)
        self.out_h, self.out_w = g.out_size
        self.taps = cfg["kernel_size"][0] * cfg["kernel_size"][1]
        self.dims = torch.tensor([cfg["height"], cfg["width"], self.out_h, self.out_w, self.taps, kw["stride"][1],
                                  plan["ext_h"], plan["ext_w"]], dtype=torch.int64)
        self.tables = [plan[name].contiguous() for name in TABLES]  # kept alive for the pointers
        self.pointers = (ctypes.c_void_p * len(TABLES))(*(t.data_ptr() for t in self.tables))
        self.weight = plan["tap_weight"].contiguous()

    def _call(self, fn, src, dst, channels, images):
        fn(ctypes.c_void_p(src.data_ptr()), ctypes.c_void_p(dst.data_ptr()), ctypes.c_void_p(self.dims.data_ptr()),
           self.pointers, ctypes.c_void_p(self.weight.data_ptr()), ctypes.c_int64(channels),
           ctypes.c_int64(images), ctypes.c_int(self.wide))

    def im2col(self, x):
        n, c = x.shape[:2]
        cols = torch.full((c * self.taps, n, self.out_h * self.out_w), float("nan"), dtype=torch.float64)
        self._call(self.lib.emulate_im2col, x.contiguous(), cols, c, n)
        return cols

    def col2im(self, cols, n, c):
        grad = torch.full((n, c, self.cfg["height"], self.cfg["width"]), float("nan"), dtype=torch.float64)
        self._call(self.lib.emulate_col2im, cols.contiguous(), grad, c, n)
        return grad


@given(layers(), st.booleans())
@example(pole_layer(), False)
@example(pole_layer(padding=(3, 1), dilation=(1, 1), width=13, stride=(2, 1)), True)
def test_gpu_thread_code_matches_cpu_operator(emulator, cfg, wide_index):
    x, w, _ = make_tensors(cfg)
    em = Emulated(emulator, cfg, wide_index)
    n, c, g = cfg["batch"], cfg["in_channels"], cfg["groups"]
    out_c = cfg["out_channels"]
    w_gemm = w.reshape(g, out_c // g, -1)
    cols = em.im2col(x)
    assert not cols.isnan().any(), "some column element was never written"
    pixels = em.out_h * em.out_w
    out = (w_gemm @ cols.reshape(g, -1, n * pixels)).reshape(out_c, n, em.out_h, em.out_w).transpose(0, 1)
    want = torch.ops.equiconv.equi_conv2d(x, w, None, *conv_kwargs(cfg).values())
    torch.testing.assert_close(out, want, rtol=1e-10, atol=1e-10)

    go = torch.randn(n, out_c, em.out_h, em.out_w, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    go_gemm = go.reshape(n, out_c, pixels).transpose(0, 1).reshape(g, out_c // g, n * pixels)
    grad_input = em.col2im(w_gemm.transpose(1, 2) @ go_gemm, n, c)
    grad_weight = (go_gemm @ cols.reshape(g, -1, n * pixels).transpose(1, 2)).reshape_as(w)
    want_input, want_weight, _ = torch.ops.equiconv.equi_conv2d_backward(
        go, x, w, *conv_kwargs(cfg).values(), [True, True, False])
    torch.testing.assert_close(grad_input, want_input, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_weight, want_weight, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("wide_index", [False, True])
def test_gpu_thread_code_reads_no_corner_of_weight_zero(emulator, wide_index):
    """A NaN pixel reaches exactly the columns (and, through col2im, the input gradients) that
    the CPU operator's do: corners of weight zero are skipped on the GPU too."""
    cfg = pole_layer(batch=1, in_channels=1, out_channels=1, padding=(1, 1), dilation=(1, 1), height=9)
    em = Emulated(emulator, cfg, wide_index)
    x = torch.zeros(1, 1, cfg["height"], cfg["width"], dtype=torch.float64)
    x[0, 0, 4, 7] = float("nan")
    cols = em.im2col(x)
    out = cols.sum(0).view(1, 1, em.out_h, em.out_w)  # an all-ones kernel over the taps
    want = torch.ops.equiconv.equi_conv2d(x, torch.ones(1, 1, 3, 3, dtype=torch.float64), None,
                                          *conv_kwargs(cfg).values())
    assert torch.equal(out.isnan(), want.isnan()) and out.isnan().any()
    grad_cols = torch.zeros(em.taps, 1, em.out_h * em.out_w, dtype=torch.float64)
    grad_cols[:, 0, 4 * em.out_w + 7] = float("nan")
    got = em.col2im(grad_cols, 1, 1).isnan()
    go = torch.zeros(1, 1, em.out_h, em.out_w, dtype=torch.float64)
    go[0, 0, 4, 7] = float("nan")
    want_grad = torch.ops.equiconv.equi_conv2d_backward(go, x.nan_to_num(), torch.ones(1, 1, 3, 3, dtype=torch.float64),
                                                        *conv_kwargs(cfg).values(), [True, False, False])[0]
    assert torch.equal(got, want_grad.isnan())
