"""Interleaved timing: the candidates of one case alternate within each repeat, so a slow
moment of the machine hits all of them and the ratio stays meaningful."""
import gc
import statistics
import time

import torch

from benchmarks import memory
from benchmarks.candidates import layer_bench
from benchmarks.cases import UNetCase
from benchmarks.devices import synchronize
from benchmarks.operators import OpCase, op_bench
from benchmarks.results import BASELINE, SUBJECT
from benchmarks.unet_step import unet_bench

# What a candidate may raise where it cannot run (an unsupported device or dtype, an argument
# check that rejects autocast's mixed dtypes, out of memory: torch.OutOfMemoryError is a
# RuntimeError); it is then recorded as skipped, with the reason, and the run goes on.
CANNOT_RUN = (RuntimeError, NotImplementedError, TypeError, ValueError)


def interleaved_medians(steps: dict, device: torch.device, warmups: int, repeats: int) -> dict:
    """{name: median seconds} of each zero-argument callable in ``steps``."""
    for _ in range(warmups):
        for step in steps.values():
            step()
    synchronize(device)
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            synchronize(device)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _release(device: torch.device) -> None:
    """Gives the memory of a failed attempt back, so the next candidate starts clean."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def summarise(times: dict, peaks: dict, items=None) -> dict:
    """Milliseconds per candidate, ratios to the baseline (``ratio``: EquiConv's), peak memory."""
    out = {f"{name}_ms": round(1e3 * t, 4) for name, t in times.items()}
    base = times.get(BASELINE)
    ratios = {name: round(t / base, 3) for name, t in times.items() if name != BASELINE and base}
    out.update(ratio=ratios.get(SUBJECT), ratios=ratios,
               peak_bytes={name: value for name, (value, _) in peaks.items()})
    missing = {name: why for name, (_, why) in peaks.items() if why}
    if missing:
        out["peak_bytes_missing"] = missing
    if items:
        out["images_per_s"] = {name: round(items / t, 3) for name, t in times.items()}
    return out


def _peak(step, device):
    try:
        return memory.peak_bytes(step, device), None
    except CANNOT_RUN as error:
        _release(device)
        return None, reason(error)


def measure(case, device: torch.device, dtype: torch.dtype, warmups: int, repeats: int) -> dict:
    """One results row: per mode, the median time of each candidate that can run (after a first
    call that builds caches and finds those that cannot), ratios to nn.Conv2d from the same
    interleaved repeats, and peak memory."""
    torch.manual_seed(0)
    row = {"suite": case.suite, "name": case.name, "case": case.as_dict()}
    try:
        bench = (unet_bench if isinstance(case, UNetCase) else op_bench if isinstance(case, OpCase)
                 else layer_bench)(case, device, dtype)
    except CANNOT_RUN as error:  # e.g. out of memory for the inputs themselves
        _release(device)
        return {**row, "error": reason(error), "skipped": {}}
    skipped = dict(bench.skipped)
    for mode, steps in bench.steps.items():
        runnable = {}
        for name, step in steps.items():
            if name in skipped:
                continue
            try:
                step()
                runnable[name] = step
            except CANNOT_RUN as error:
                skipped[name] = f"{mode}: {reason(error)}"
                _release(device)
        peaks = {name: _peak(step, device) for name, step in runnable.items()}
        try:
            times = interleaved_medians(runnable, device, warmups, repeats)
        except CANNOT_RUN as error:
            _release(device)
            row[mode] = {"error": reason(error)}
            continue
        row[mode] = summarise(times, peaks, bench.items)
    return {**row, "skipped": skipped, **bench.info}
