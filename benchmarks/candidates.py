"""The implementations compared on one layer, all sharing one set of weights (the same Parameter
objects): nn.Conv2d (the baseline), EquiConv2d (compiled core), the pure-PyTorch reference, and
torchvision's generic deformable convolution fed EquiConv's geometry as offsets."""
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import torch

import equiconv
from benchmarks import checks, peers
from benchmarks.memory import geometry_bytes
from benchmarks.results import BASELINE, SUBJECT
CANDIDATES = {
    "conv2d": "torch.nn.Conv2d",
    "equiconv": "equiconv.EquiConv2d (compiled core)",
    "reference": "equiconv.EquiConv2d(backend='reference'), pure PyTorch",
    "deform_conv2d": "torchvision.ops.deform_conv2d with equiconv.deform_offsets expanded to the batch",
    peers.PEER: f"torch_harmonics.{peers.MATCHING}",
}
# The reference materialises every sample (N*C*Ho*kh*kw*Wo values, several times over, and
# again for the backward); above this many it would dominate a run or exhaust memory.
REFERENCE_BUDGET = {"cpu": 4_000_000, "cuda": 200_000_000}


@dataclass
class Bench:
    """What a case hands to the timer: per mode, a zero-argument step per candidate; the
    candidates left out and why; facts for the results file; items (images) per step."""

    steps: Dict[str, Dict[str, Callable[[], None]]]
    skipped: Dict[str, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    items: Optional[int] = None


def subject_runs(device: torch.device, dtype: torch.dtype) -> None:
    """One tiny EquiConv2d forward and backward: raises at once (the compiled core missing, the
    device or dtype unsupported) rather than after every other measurement."""
    layer = equiconv.EquiConv2d(2, 2, 3, padding=1, device=device, dtype=dtype)
    layer(torch.randn(1, 2, 8, 16, device=device, dtype=dtype, requires_grad=True)).sum().backward()


def deform_conv2d():
    """torchvision.ops.deform_conv2d, or None where torchvision is not installed."""
    try:
        from torchvision.ops import deform_conv2d as op
    except ImportError:
        return None
    return op


def sampled_values(case) -> int:
    ho, wo = case.out_size
    return case.batch * case.in_channels * ho * case.kernel_size ** 2 * wo


def batch_offsets(case, device, dtype) -> torch.Tensor:
    """EquiConv's geometry as the (N, 2*kh*kw, Ho, Wo) offsets a generic deformable convolution
    needs: the per-layer offsets materialised for every image of the batch, in the input dtype."""
    offsets = equiconv.deform_offsets(case.height, case.width, case.kernel_size, case.stride, case.padding)
    return offsets.to(device=device, dtype=dtype).expand(case.batch, -1, -1, -1).contiguous()


def layer_bench(case, device: torch.device, dtype: torch.dtype) -> Bench:
    conv = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride,
                           case.padding, device=device, dtype=dtype)
    layers, skipped = {BASELINE: conv, SUBJECT: equiconv.EquiConv2d.from_conv2d(conv)}, {}
    budget = REFERENCE_BUDGET.get(device.type, 0)
    if sampled_values(case) <= budget:
        layers["reference"] = equiconv.EquiConv2d.from_conv2d(conv, backend="reference")
    else:
        skipped["reference"] = (f"{sampled_values(case):,} sampled values exceed the reference's budget "
                                f"of {budget:,} on {device.type}")
    op = deform_conv2d()
    if op is None:
        skipped["deform_conv2d"] = "torchvision is not importable"
    else:
        offsets = batch_offsets(case, device, dtype)
        stride, padding = (case.stride,) * 2, (case.padding,) * 2
        layers["deform_conv2d"] = lambda x: op(x, offsets, conv.weight, conv.bias, stride, padding)
    disco, why = peers.disco_conv(case, device, dtype)
    if disco is None:
        skipped[peers.PEER] = why
    else:
        layers[peers.PEER] = disco

    x = torch.randn(case.batch, case.in_channels, case.height, case.width, device=device, dtype=dtype)
    xg = x.clone().requires_grad_()

    def forward(layer):
        with torch.no_grad():
            layer(x)

    def forward_backward(layer):
        layer(xg).sum().backward()
        xg.grad = conv.weight.grad = conv.bias.grad = None  # here, so that no step outlives its call
        if disco is not None:
            disco.zero_grad(set_to_none=True)

    steps = {mode: {name: (lambda step=step, layer=layer: step(layer)) for name, layer in layers.items()}
             for mode, step in (("forward", forward), ("forward_backward", forward_backward))}
    info = {"geometry_bytes": geometry_bytes(case, dtype, device.type)}
    if op is not None:
        info["deform_check"] = checks.deform_agreement(case, x, layers, dtype)
    return Bench(steps, skipped, info)
