"""Interleaved timing: the candidates of one case alternate within each repeat, so a slow
moment of the machine hits all of them and the ratio stays meaningful."""
import platform
import statistics
import time
from pathlib import Path

import torch

import equiconv


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    names = [l.split(":", 1)[1].strip() for l in cpuinfo.read_text().splitlines()
             if l.startswith("model name")] if cpuinfo.is_file() else []
    return names[0] if names else platform.processor() or platform.machine()


def measure(case, device, dtype, warmups, repeats) -> dict:
    """Median times of both layers (sharing one set of weights) and their ratios."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride, case.padding,
                           device=device, dtype=dtype)
    equi = equiconv.EquiConv2d.from_conv2d(conv)
    x = torch.randn(case.batch, case.in_channels, case.height, case.width, device=device, dtype=dtype)
    xg = x.clone().requires_grad_()

    def forward(m):
        with torch.no_grad():
            m(x)

    def forward_backward(m):
        xg.grad = conv.weight.grad = conv.bias.grad = None
        m(xg).sum().backward()

    row = {"case": case.as_dict()}
    for label, step in (("forward", forward), ("forward_backward", forward_backward)):
        t = interleaved_medians({"conv2d": lambda: step(conv), "equiconv": lambda: step(equi)},
                                device, warmups, repeats)
        row[label] = {"conv2d_ms": round(1e3 * t["conv2d"], 3), "equiconv_ms": round(1e3 * t["equiconv"], 3),
                      "ratio": round(t["equiconv"] / t["conv2d"], 3)}
    return row
