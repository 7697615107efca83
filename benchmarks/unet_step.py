"""End-to-end: one training step (forward, cross-entropy, backward, gradient clipping, Adam) of
the reference U-Net with standard vs equirectangular 3x3 convolutions, from the same weights.
Reduced precision runs under autocast with float32 weights, as mixed-precision training does."""
import torch
import torch.nn.functional as F

from benchmarks.candidates import Bench
from benchmarks.results import BASELINE, SUBJECT
from panosis_models.data import NUM_CLASSES
from panosis_models.models.unet import UNet

LEARNING_RATE, CLIP_NORM = 1e-3, 1.0  # the PanOSIS recipe (docs/jobs/segmentation.md, "Training")


def train_step(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, dtype: torch.dtype):
    """A zero-argument training step of ``model`` on (x, target), with its own optimiser."""
    device_type = x.device.type
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scaler = torch.amp.GradScaler(device_type, enabled=dtype == torch.float16)
    autocast = dtype != torch.float32

    def step():
        with torch.autocast(device_type, dtype=dtype, enabled=autocast):
            loss = F.cross_entropy(model(x), target)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)  # here, so that no step's memory outlives its call

    return step


def unet_bench(case, device: torch.device, dtype: torch.dtype) -> Bench:
    std = UNet(channels=case.channels, conv="std").to(device)
    equi = UNet(channels=case.channels, conv="equi").to(device)
    equi.load_state_dict(std.state_dict())
    x = torch.randn(case.batch, 3, case.height, case.width, device=device)
    target = torch.randint(0, NUM_CLASSES, (case.batch, case.height, case.width), device=device)
    steps = {"train_step": {BASELINE: train_step(std, x, target, dtype),
                            SUBJECT: train_step(equi, x, target, dtype)}}
    info = {"parameters": sum(p.numel() for p in std.parameters()),
            "precision": "float32" if dtype == torch.float32 else f"autocast {str(dtype).split('.')[-1]}"}
    return Bench(steps, info=info, items=case.batch)
