"""How the Triton kernels are launched: operand and accumulator dtypes, TF32, and the tile
configurations (autotuned on a GPU among those the device can hold, or with
EQUICONV_TRITON_AUTOTUNE=0 the first of them that fits, without the tuning pause at each new
shape; one fixed small configuration in Triton's interpreter, where timing means nothing).

The K block (the reduction step of tl.dot) never varies between configurations, so whichever
configuration the autotuner picks, every output element is summed in the same order: results
do not depend on the timing of a run.
"""
import functools
import os

import torch
import triton
from triton import knobs

# Tiles: (BLOCK_M, BLOCK_N, num_warps, num_stages); BLOCK_K is fixed per operand width.
_GPU_TILES = ((64, 64, 4, 3), (128, 64, 4, 3), (64, 128, 4, 3), (128, 128, 8, 3), (32, 64, 4, 4),
              (128, 32, 4, 4), (256, 64, 8, 3))
# Under the interpreter: the smallest tiles tl.dot takes, so that tests cross tile edges cheaply.
INTERPRETER_TILE = (16, 16, 16)


def interpreting() -> bool:
    """Whether Triton runs kernels in its CPU interpreter (TRITON_INTERPRET=1)."""
    return bool(knobs.runtime.interpret)


def dot_dtype(dtype: torch.dtype):
    """The tl dtype tl.dot's operands take for tensors of ``dtype``. Under the interpreter
    bfloat16 operands go up to float32: its tl.dot is wrong for bfloat16 (Triton 3.9), while
    its bfloat16 loads and stores are exact. A GPU build never takes that branch."""
    import triton.language as tl
    if dtype == torch.bfloat16 and interpreting():
        return tl.float32
    return {torch.float16: tl.float16, torch.bfloat16: tl.bfloat16, torch.float32: tl.float32,
            torch.float64: tl.float64}[dtype]


def acc_dtype(dtype: torch.dtype):
    import triton.language as tl
    return tl.float64 if dtype == torch.float64 else tl.float32


def table_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of the bilinear weights: the accumulator's."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def precision(dtype: torch.dtype) -> str:
    """tl.dot's input precision: TF32 for float32 exactly when torch.backends.cuda.matmul.allow_tf32 says so."""
    if dtype == torch.float32 and torch.backends.cuda.matmul.allow_tf32 and not interpreting():
        return "tf32"
    return "ieee"


def gpu_block_k(dtype: torch.dtype) -> int:
    """The K block on a GPU: 128 bytes of operand per row."""
    return 64 if dtype in (torch.float16, torch.bfloat16) else (16 if dtype == torch.float64 else 32)


def block_k(dtype: torch.dtype, extent: int = None) -> int:
    """The K block of a launch: on a GPU the dtype's, or the next power of two (at least 16) of a
    shorter reduction ``extent`` (3 input channels are not padded to 64). Fixed by the shapes."""
    if interpreting():
        return INTERPRETER_TILE[2]
    full = gpu_block_k(dtype)
    return full if extent is None else min(full, max(16, triton.next_power_of_2(extent)))


@functools.lru_cache(maxsize=None)
def _device_limits(index: int):
    props = triton.runtime.driver.active.utils.get_device_properties(index)
    return props["max_shared_mem"], props.get("max_num_regs", 65536)


def _fits(config, elem_bytes: int, acc_bytes: int, bk: int, device_index: int) -> bool:
    """Whether a tile configuration fits the device: the pipelined operand tiles in shared memory,
    and the accumulator tile within half of the registers a block may use."""
    shared, registers = _device_limits(device_index)
    m, n = config.kwargs["BLOCK_M"], config.kwargs["BLOCK_N"]
    stages, warps = config.num_stages, config.num_warps
    operands = stages * (m * bk + bk * n) * elem_bytes
    accumulator_regs = m * n * acc_bytes // 4
    return operands <= shared and accumulator_regs <= registers // 2 and accumulator_regs // (32 * warps) <= 128


def prune(dtype: torch.dtype, device_index: int):
    """An autotuner's early_config_prune keeping the configurations the device can hold."""
    elem = torch.empty((), dtype=dtype).element_size()
    acc = 8 if dtype == torch.float64 else 4

    def keep(configs, named_args, **kwargs):
        fitting = [c for c in configs if _fits(c, elem, acc, gpu_block_k(dtype), device_index)]
        return fitting or [min(configs, key=lambda c: c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"])]
    return keep


def gpu_configs():
    return [triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s) for m, n, w, s in _GPU_TILES]


_TUNED = {}
AUTOTUNE_ENV = "EQUICONV_TRITON_AUTOTUNE"


def autotuning() -> bool:
    """Whether GPU launches autotune their tile (EQUICONV_TRITON_AUTOTUNE unset or 1) or take the
    first configuration the device holds (0): each new shape otherwise costs a compile and a timed
    run of every configuration, seconds that correctness tests over many shapes cannot afford."""
    value = os.environ.get(AUTOTUNE_ENV, "1").strip()
    if value not in ("0", "1"):
        raise ValueError(f"{AUTOTUNE_ENV} must be 0 or 1 (or unset), got {value!r}")
    return value == "1"


@functools.lru_cache(maxsize=None)
def fixed_tile(dtype: torch.dtype, device_index: int) -> dict:
    """The launch arguments of the first configuration that fits the device (found once per
    dtype and device: this is on every launch's path; callers copy the dict)."""
    first = prune(dtype, device_index)(gpu_configs(), {})[0]
    return dict(first.kwargs, num_warps=first.num_warps, num_stages=first.num_stages)


def launcher(kernel, key, dtype: torch.dtype, device: torch.device, k_extent: int = None):
    """(callable kernel[grid](...), tile kwargs the caller passes): the autotuned kernel on a GPU
    (or the plain kernel and a fixed tile, see autotuning), the interpreter tile otherwise.
    Autotuners are cached per (kernel, dtype, device); BLOCK_K (see block_k) is a kernel
    argument, so one autotuner serves every K block."""
    bk = block_k(dtype, k_extent)
    if interpreting() or device.type != "cuda":
        m, n, _ = INTERPRETER_TILE
        return kernel, dict(BLOCK_M=m, BLOCK_N=n, BLOCK_K=bk)
    index = device.index if device.index is not None else torch.cuda.current_device()
    if not autotuning():
        return kernel, dict(fixed_tile(dtype, index), BLOCK_K=bk)
    cache_key = (kernel, dtype, index)
    if cache_key not in _TUNED:
        _TUNED[cache_key] = triton.autotune(gpu_configs(), key=key,
                                            prune_configs_by={"early_config_prune": prune(dtype, index)})(kernel)
    return _TUNED[cache_key], dict(BLOCK_K=bk)
