"""Memory: the peak extra memory of one step of a candidate, and the size of the geometry each
approach keeps (EquiConv's per-layer row table and plan vs a generic deformable convolution's
batch-sized offsets), computed rather than measured."""
import contextlib
import os
import sys

import torch

import equiconv
from benchmarks.devices import synchronize

METHOD = {
    "cuda": "CUDA caching-allocator statistics: max_memory_allocated() during one step minus "
            "memory_allocated() before it (inputs, weights and cached geometry excluded)",
    "cpu": "torch.profiler(profile_memory=True): running peak of the allocations and frees one step "
           "makes through PyTorch's CPU allocator on the calling thread (inputs, weights and cached "
           "geometry excluded; scratch that worker threads allocate is not seen, nor the packing "
           "buffers BLAS libraries keep for themselves)",
}


@contextlib.contextmanager
def _quiet_stderr():
    """Silences the profiler's start/stop lines that some torch builds print on file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _cpu_peak(step) -> int:
    from torch.profiler import ProfilerActivity, profile
    prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with _quiet_stderr():
        prof.__enter__()
    try:
        step()
    finally:
        with _quiet_stderr():
            prof.__exit__(None, None, None)
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    current = peak = 0
    for event in events:
        current += event.nbytes()
        peak = max(peak, current)
    return peak


def _cuda_peak(step, device) -> int:
    synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def peak_bytes(step, device: torch.device) -> int:
    """Extra bytes at the high-water mark of one call of ``step`` (see METHOD)."""
    if device.type == "cuda":
        return _cuda_peak(step, device)
    if device.type == "cpu":
        return _cpu_peak(step)
    raise ValueError(f"no memory measurement for device type {device.type!r}")


def geometry_bytes(case, dtype: torch.dtype, device_type: str = "cpu") -> dict:
    """What each approach keeps to describe the layer's sampling positions:

    - ``table``: EquiConv's row table, Ho*kh*kw*(y, x) in float64, whatever the batch and width;
    - ``plan``: the compiled core's cached plan built from it (its tables, with the bilinear
      weights in the kernels' compute dtype), or None where the core does not expose it;
    - ``deform_offsets``: the (N, 2*kh*kw, Ho, Wo) offsets in the input dtype that
      torchvision.ops.deform_conv2d needs for the same geometry.
    """
    (ho, wo), taps = case.out_size, case.kernel_size ** 2
    return {
        "table": ho * taps * 2 * torch.finfo(torch.float64).bits // 8,
        "plan": plan_bytes(case, dtype, device_type),
        "deform_offsets": case.batch * 2 * taps * ho * wo * dtype.itemsize,
    }


def plan_bytes(case, dtype: torch.dtype, device_type: str = "cpu"):
    inspect = getattr(equiconv.geometry, "sampling_plan", None)
    if inspect is None:
        return None
    try:
        plan = inspect(case.height, case.width, case.kernel_size, case.stride, case.padding)
    except (AttributeError, RuntimeError):  # a core built before the plan could be inspected
        return None
    # The CPU kernels compute reduced precision in float32 (docs/integration.md, "Devices and dtypes").
    compute = torch.float32 if device_type == "cpu" and dtype.itemsize < 4 else dtype
    return sum(t.numel() * (compute.itemsize if name == "tap_weight" else t.element_size())
               for name, t in plan.items() if isinstance(t, torch.Tensor))
