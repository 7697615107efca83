"""Interleaved timing: the candidates of one case alternate within each repeat, so a slow
moment of the machine hits all of them and the ratio stays meaningful."""
import statistics
import time

import torch


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
