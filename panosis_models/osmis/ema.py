"""Exponential moving average of the generator, the network OSMIS samples from."""
import torch
from torch import nn


def ema_decay(step: int, decay: float) -> float:
    """``decay`` with a warm-up, min(decay, (1 + step) / (10 + step)): early on the average
    follows the generator closely, so short runs are not stuck near the initial weights."""
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Parameters move towards ``model``'s by ``1 - decay``; buffers (the spectral norms'
    power-iteration vectors) are copied, as averaging would unnormalise them."""
    params = dict(model.named_parameters())
    for name, p in average.named_parameters():
        p.lerp_(params[name], 1 - decay)
    buffers = dict(model.named_buffers())
    for name, b in average.named_buffers():
        b.copy_(buffers[name])
