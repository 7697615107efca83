"""Which kernels run: backend='triton' on CPU tensors only under Triton's interpreter (one clear
error otherwise), EQUICONV_CUDA_KERNELS on CUDA tensors, the fallback to the C++ kernels with one
warning when a Triton kernel fails to compile, tile configurations pruned by the device's
resources, and equiconv without Triton installed."""
import functools
import subprocess
import sys
import types
import warnings

import pytest
import torch

from equiconv import _checks
from equiconv.functional import equi_avg_pool2d, equi_conv2d
from equiconv.triton import dispatch
from tests.equiconv.triton.triton_cases import needs_triton

CUDA = types.SimpleNamespace(device=torch.device("cuda"))  # what dispatch reads of an input
CPU = torch.zeros(1, 1, 3, 5)


def test_cpu_tensors_need_the_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    if not dispatch.available():
        pytest.skip(str(dispatch.unavailable_reason()))
    with pytest.raises(ValueError, match=r"backend='triton' needs input on a CUDA device, got input on cpu"):
        equi_conv2d(torch.zeros(1, 1, 3, 5), torch.zeros(1, 1, 3, 3), backend="triton")
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        equi_avg_pool2d(torch.zeros(1, 1, 3, 5), 2, backend="triton")


def test_cpu_tensors_default_to_the_compiled_core(monkeypatch):
    monkeypatch.setenv(dispatch.KERNELS_ENV, "triton")
    assert not dispatch.use_triton(CPU, "compiled")


def test_cuda_kernel_choice(monkeypatch):
    monkeypatch.delenv(dispatch.KERNELS_ENV, raising=False)
    monkeypatch.setattr(dispatch, "_failure", None)
    assert dispatch.use_triton(CUDA, "compiled") == dispatch.available()
    monkeypatch.setenv(dispatch.KERNELS_ENV, "cuda")
    assert not dispatch.use_triton(CUDA, "compiled")
    monkeypatch.setenv(dispatch.KERNELS_ENV, "fast")
    with pytest.raises(ValueError, match="EQUICONV_CUDA_KERNELS must be one of"):
        dispatch.use_triton(CUDA, "compiled")
    monkeypatch.setenv(dispatch.KERNELS_ENV, "triton")
    if dispatch.available():
        assert dispatch.use_triton(CUDA, "compiled")
    else:
        with pytest.raises(RuntimeError, match="EQUICONV_CUDA_KERNELS=triton needs Triton"):
            dispatch.use_triton(CUDA, "compiled")


class _CompileError(Exception):
    pass


_CompileError.__module__ = "triton.compiler.errors"  # as Triton's own errors are


def test_a_compile_failure_falls_back_once_with_one_warning(monkeypatch):
    monkeypatch.delenv(dispatch.KERNELS_ENV, raising=False)
    monkeypatch.setattr(dispatch, "_failure", None)

    def fails():
        raise _CompileError("out of shared memory\nlong details")

    with pytest.warns(RuntimeWarning, match="Triton kernels failed to compile .*out of shared memory"):
        assert dispatch.guarded(fails, lambda: "cuda kernels", torch.device("cuda")) == "cuda kernels"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dispatch.guarded(fails, lambda: "again", torch.device("cuda")) == "again"
    assert not dispatch.use_triton(CUDA, "compiled")  # the C++ kernels from then on


def test_errors_that_are_not_compile_failures_propagate(monkeypatch):
    monkeypatch.setattr(dispatch, "_failure", None)

    def oom():
        raise torch.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(torch.OutOfMemoryError):
        dispatch.guarded(oom, lambda: None, torch.device("cuda"))
    with pytest.raises(_CompileError):  # in the interpreter, nothing to fall back to
        dispatch.guarded(lambda: (_ for _ in ()).throw(_CompileError("x")), lambda: None, torch.device("cpu"))
    monkeypatch.setenv(dispatch.KERNELS_ENV, "triton")
    with pytest.raises(_CompileError):  # forced: never hidden
        dispatch.guarded(lambda: (_ for _ in ()).throw(_CompileError("x")), lambda: None, torch.device("cuda"))


@needs_triton
def test_configurations_pruned_by_the_device(monkeypatch):
    from equiconv.triton import config
    monkeypatch.setattr(config, "_device_limits", lambda index: (100 * 1024, 65536))
    kept = config.prune(torch.float32, 0)(config.gpu_configs(), {})
    sizes = {(c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.num_stages) for c in kept}
    assert (64, 64, 3) in sizes and (256, 64, 3) not in sizes  # 3 x (256x32 + 32x64) x 4 B > 100 KiB
    monkeypatch.setattr(config, "_device_limits", lambda index: (1024, 65536))
    (smallest,) = config.prune(torch.float32, 0)(config.gpu_configs(), {})  # nothing fits: the smallest tile
    assert smallest.kwargs["BLOCK_M"] * smallest.kwargs["BLOCK_N"] == 32 * 64


@needs_triton
def test_autotuning_switched_off_launches_the_first_fitting_tile(monkeypatch):
    from equiconv.triton import config
    monkeypatch.setattr(config, "interpreting", lambda: False)
    monkeypatch.setattr(config, "_device_limits", lambda index: (100 * 1024, 65536))
    monkeypatch.setattr(config, "_TUNED", {})
    # a cache of its own, found under the patched limits (the real one keeps a real device's)
    monkeypatch.setattr(config, "fixed_tile", functools.lru_cache(maxsize=None)(config.fixed_tile.__wrapped__))
    kernel = object()
    monkeypatch.setenv(config.AUTOTUNE_ENV, "0")
    got, tiles = config.launcher(kernel, ["c_g"], torch.float32, torch.device("cuda", 0), k_extent=64)
    assert got is kernel
    assert tiles == dict(BLOCK_M=64, BLOCK_N=64, num_warps=4, num_stages=3, BLOCK_K=32)
    monkeypatch.setenv(config.AUTOTUNE_ENV, "yes")
    with pytest.raises(ValueError, match="EQUICONV_TRITON_AUTOTUNE must be 0 or 1"):
        config.launcher(kernel, ["c_g"], torch.float32, torch.device("cuda", 0))
    monkeypatch.delenv(config.AUTOTUNE_ENV)
    from equiconv.triton.conv_kernels import conv_forward_kernel
    tuned, tiles = config.launcher(conv_forward_kernel, ["c_g"], torch.float32, torch.device("cuda", 0))
    assert tuned is not conv_forward_kernel and tiles == dict(BLOCK_K=32)  # the autotuner, by default


@needs_triton
def test_tables_are_cached_and_small():
    from equiconv.triton.tables import tables
    g = _checks.geometry(64, 128, 3, padding=1)
    first = tables(g, torch.device("cpu"), torch.float32)
    assert tables(g, torch.device("cpu"), torch.float32) is first
    assert first.rows.shape == (64 * 9, 2) and first.weights.shape == (64 * 9, 4)
    assert first.inv_row.numel() <= 4 * 64 * 9  # one entry per corner of weight > 0


@needs_triton
def test_tables_in_a_graph_capture_are_kept_and_never_built(monkeypatch):
    """During a CUDA graph capture a cold layer is a clear error (not torch's copy error), and a
    warm one's tables are kept from then on: the graph's replays read them."""
    from equiconv.triton import tables as module
    monkeypatch.setattr(module, "_cache", module.OrderedDict())
    monkeypatch.setattr(module, "_kept", {})
    monkeypatch.setattr(module, "_CAPACITY", 2)
    monkeypatch.setattr(module, "_build", lambda g, device, dtype: object())  # no CUDA here: nothing built
    capturing = [False]
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: capturing[0])
    geometries = [_checks.geometry(8 + i, 16, 3, padding=1) for i in range(4)]
    cuda = torch.device("cuda", 0)
    warm = module.tables(geometries[0], cuda, torch.float32)
    capturing[0] = True
    assert module.tables(geometries[0], cuda, torch.float32) is warm
    with pytest.raises(RuntimeError, match=r"input 9x16, kernel 3x3.*run the layer once before the capture \(a warm-up\)"):
        module.tables(geometries[1], cuda, torch.float32)
    capturing[0] = False
    for g in geometries[1:]:  # more layers than the cache holds
        module.tables(g, cuda, torch.float32)
    assert module.tables(geometries[0], cuda, torch.float32) is warm
    capturing[0] = True
    assert module.tables(geometries[1], torch.device("cpu"), torch.float32) is not None  # CPU: no capture


def test_equiconv_works_without_triton():
    code = """
import sys
sys.modules['triton'] = None  # as if not installed
import torch, equiconv
from equiconv.functional import equi_conv2d
from equiconv import triton as t
assert not t.available() and 'triton cannot be imported' in t.unavailable_reason()
x, w = torch.randn(1, 2, 4, 8), torch.randn(3, 2, 3, 3)
equi_conv2d(x, w, padding=1)
try:
    equi_conv2d(x, w, padding=1, backend='triton')
except RuntimeError as e:
    print(e)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "backend='triton' needs Triton, but triton cannot be imported" in run.stdout


@needs_triton
@pytest.mark.parametrize("name", [pytest.param("conv2d", marks=pytest.mark.slow),  # 7-11 s each in the interpreter
                                  pytest.param("conv2d_backward", marks=pytest.mark.slow),
                                  "max_pool2d", "avg_pool2d", "avg_pool2d_backward"])
def test_opcheck_the_triton_ops(name):
    """Schema, fake kernel (shapes, strides), autograd registration of the equiconv_triton ops (tiny
    shapes: each check runs the kernels several times in the interpreter)."""
    from tests.equiconv.triton.triton_cases import DEVICE
    gen = torch.Generator().manual_seed(0)

    def t(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).to(DEVICE).requires_grad_()
    x, w, b = t(1, 2, 3, 6), t(2, 1, 3, 3), t(2)
    conv = ([1, 1], [1, 1], [1, 1], 2, [90.0, -90.0], 360.0)
    pool = ([2, 2], [2, 2], [0, 0], [1, 1], [90.0, -90.0], 360.0)
    args = {"conv2d": (x, w, b, *conv), "conv2d_backward": (t(1, 2, 3, 6), x, w, *conv, [True, True, True]),
            "max_pool2d": (x, *pool), "avg_pool2d": (x, *pool), "avg_pool2d_backward": (t(1, 2, 1, 3), [3, 6], *pool)}
    torch.library.opcheck(getattr(torch.ops.equiconv_triton, name).default, args[name])


def test_direct_callers_get_device_errors_naming_the_argument():
    """What the Triton ops check first (a meta tensor stands for another device: a call with one
    would dispatch to the fake kernel)."""
    from equiconv.triton.ops import _same_device
    x = torch.zeros(1, 1, 3, 5)
    _same_device("input", x, weight=torch.zeros(1), bias=None)
    with pytest.raises(RuntimeError, match="grad_output is on meta but input is on cpu"):
        _same_device("input", x, grad_output=torch.zeros(1, device="meta"), weight=torch.zeros(1))
