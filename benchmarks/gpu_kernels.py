"""`make gpu-check`'s kernel-set comparison: equi_conv2d forward+backward with the Triton kernels
and with the CUDA C++ kernels (EQUICONV_CUDA_KERNELS=triton|cuda) against nn.Conv2d (cuDNN) on the
benchmark's U-Net layers at 256x512 and 512x1024, in float32 (TF32 aligned: cuDNN's and
matmul's switches set to the same value) and bfloat16, plus the 4K panorama's memory (b1
64->64 3x3 at 2048x4096: the CUDA allocator's peak beyond the tensors). Prints which kernel set
is faster per layer and writes benchmarks/results/gpu-kernels-cuda-<UTC date and time>.json.

    python -m benchmarks.gpu_kernels [--sizes 256x512,512x1024] [--dtypes float32,bfloat16] [--batch 8]

The case table and the report are plain functions, tested on CPU; the timing needs a GPU.
"""
import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import torch

from benchmarks.cases import Case, unet_layers

KERNEL_SETS = ("triton", "cuda")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
MEMORY_CASE = Case(1, 64, 64, 2048, 4096)
RESULTS = Path(__file__).resolve().parent / "results"


def cases(sizes: Sequence[tuple], batch: int) -> List[Case]:
    """The U-Net's distinct 3x3 layers at each size (its full-resolution level and the ones below)."""
    out = []
    for height, width in sizes:
        out += unet_layers(height, width, batch)
    return out


def parse_sizes(text: str) -> List[tuple]:
    sizes = []
    for item in text.split(","):
        h, _, w = item.strip().partition("x")
        if not (h.isdigit() and w.isdigit()):
            raise ValueError(f"--sizes must be HxW[,HxW...], got {text!r}")
        sizes.append((int(h), int(w)))
    return sizes


@contextlib.contextmanager
def kernel_set(name: str):
    """EQUICONV_CUDA_KERNELS set to ``name`` inside the block."""
    old = os.environ.get("EQUICONV_CUDA_KERNELS")
    os.environ["EQUICONV_CUDA_KERNELS"] = name
    try:
        yield
    finally:
        if old is None:
            del os.environ["EQUICONV_CUDA_KERNELS"]
        else:
            os.environ["EQUICONV_CUDA_KERNELS"] = old


@contextlib.contextmanager
def tf32(enabled: bool):
    """TF32 on (or off) for cuDNN and for matmuls alike, so both sides compute the same way."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def winner(row: dict) -> Optional[str]:
    """The faster kernel set of a result row, or None when one of them did not run."""
    times = {k: row.get(f"{k}_ms") for k in KERNEL_SETS}
    if any(t is None for t in times.values()):
        return None
    return min(times, key=times.get)


def report(rows: Iterable[dict], memory: Optional[Dict[str, dict]] = None) -> str:
    """The table make gpu-check prints: ms per candidate, ratios to cuDNN, the faster set, errors."""
    lines = [f"{'layer':34s} {'dtype':9s} {'cuDNN ms':>9s} {'triton':>8s} {'x':>6s} {'cuda':>8s} {'x':>6s} "
             f"{'faster':>7s} {'max err':>8s}"]
    for row in rows:
        def ms(key):
            value = row.get(f"{key}_ms")
            return f"{value:8.3f}" if value is not None else f"{'-':>8s}"

        def ratio(key):
            value, base = row.get(f"{key}_ms"), row.get("cudnn_ms")
            return f"{value / base:6.2f}" if value is not None and base else f"{'-':>6s}"
        err = row.get("max_rel_error")
        lines.append(f"{row['layer']:34s} {row['dtype']:9s} {ms('cudnn'):>9s} {ms('triton')} {ratio('triton')} "
                     f"{ms('cuda')} {ratio('cuda')} {winner(row) or '-':>7s} "
                     f"{'-' if err is None else format(err, '8.1e'):>8s}")
        for key in ("triton_error", "cuda_error"):
            if row.get(key):
                lines.append(f"    {key.split('_')[0]} did not run: {row[key]}")
    for name, m in (memory or {}).items():
        lines.append(f"4K b1 64->64 3x3 2048x4096 fwd+bwd, {name}: "
                     + (f"peak {m['peak_bytes'] / 2**30:.2f} GiB, {m['extra_bytes'] / 2**20:.0f} MiB beyond "
                        f"its tensors" if "peak_bytes" in m else f"did not run: {m['error']}"))
    return "\n".join(lines)


def _step(case: Case, dtype, device, equi: bool):
    """One forward+backward of the layer: equi_conv2d (whatever kernel set is in force) or nn.Conv2d."""
    import equiconv
    torch.manual_seed(0)
    conv_cls = equiconv.EquiConv2d if equi else torch.nn.Conv2d
    conv = conv_cls(case.in_channels, case.out_channels, case.kernel_size, stride=case.stride,
                    padding=case.padding).to(device=device, dtype=dtype)
    x = torch.randn(case.batch, case.in_channels, case.height, case.width, device=device, dtype=dtype,
                    requires_grad=True)

    def step():
        out = conv(x)
        out.backward(torch.ones_like(out))
        return out
    return step, conv, x


WARMUPS, REPEATS = 3, 10
METHOD = f"medians of {REPEATS} interleaved rounds after {WARMUPS} untimed ones"


def _time(step, device, warmups=WARMUPS, repeats=REPEATS) -> float:
    from benchmarks.timing import interleaved_medians
    return interleaved_medians({"s": step}, device, warmups, repeats)["s"]


def measure(case: Case, dtype_name: str, device) -> dict:
    """ms of cuDNN and of both kernel sets, and the triton-vs-cuda max relative error of the output."""
    dtype = DTYPES[dtype_name]
    row = {"layer": case.name, "dtype": dtype_name, **case.as_dict()}
    with tf32(dtype == torch.float32):
        step, _, _ = _step(case, dtype, device, equi=False)
        row["cudnn_ms"] = 1e3 * _time(step, device)
        outs = {}
        for name in KERNEL_SETS:
            try:
                with kernel_set(name):
                    step, _, _ = _step(case, dtype, device, equi=True)
                    outs[name] = step().detach().float()
                    row[f"{name}_ms"] = 1e3 * _time(step, device)
            except (RuntimeError, ValueError) as error:  # out of memory, a kernel that cannot run
                row[f"{name}_error"] = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
                torch.cuda.empty_cache()
        if len(outs) == 2:
            a, b = outs["triton"], outs["cuda"]
            row["max_rel_error"] = ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()
    return row


def memory_case(device, dtype=torch.float32) -> Dict[str, dict]:
    """Peak allocator bytes of the 4K layer's forward+backward per kernel set, and beyond its tensors."""
    from benchmarks.memory import peak_bytes
    out = {}
    c = MEMORY_CASE
    image = c.batch * c.out_channels * c.height * c.width * torch.empty((), dtype=dtype).element_size()
    for name in KERNEL_SETS:
        try:
            with kernel_set(name), tf32(False):
                step, _, _ = _step(c, dtype, device, equi=True)
                peak = peak_bytes(step, device)  # beyond the input and the weights, allocated before
                # the step's own tensors: output, grad_output, grad_input
                out[name] = {"peak_bytes": peak, "extra_bytes": peak - 3 * image}
        except (RuntimeError, ValueError) as error:
            out[name] = {"error": f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"}
        torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256x512,512x1024")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--no-memory", action="store_true", help="skip the 4K memory case")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_kernels: error: no CUDA device (torch.cuda.is_available() is False)")
        return 2
    from benchmarks import results
    from benchmarks.devices import environment
    device = torch.device("cuda")
    env = environment(device)
    path = results.timestamped_path(RESULTS, "gpu-kernels-cuda")
    command = "python -m benchmarks.gpu_kernels " + " ".join(argv if argv is not None else sys.argv[1:])
    rows, memory = [], None

    def save():  # after every row: a run stopped at its time limit keeps what it measured
        report = {"environment": env, "command": command.strip(), "method": METHOD, "rows": rows,
                  "memory_4k": memory}
        results.write_atomic(path, json.dumps(report, indent=1) + "\n")

    print(report([]), flush=True)
    for dtype in args.dtypes.split(","):
        for case in cases(parse_sizes(args.sizes), args.batch):
            rows.append(measure(case, dtype, device))
            print(report(rows[-1:]).split("\n", 1)[1], flush=True)
            save()
    if not args.no_memory:
        memory = memory_case(device)
        print(report([], memory).split("\n", 1)[1], flush=True)
        save()
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
