"""The operator family against its torch.nn counterparts: EquiConvTranspose2d vs
nn.ConvTranspose2d (a U-Net decoder's up-sampling), EquiMaxPool2d / EquiAvgPool2d vs
nn.MaxPool2d / nn.AvgPool2d, with the pure-PyTorch reference where it fits its budget. In a
results row the baseline (``conv2d``) is the torch.nn counterpart and the subject (``equiconv``)
its spherical twin."""
from dataclasses import asdict, dataclass
from typing import Tuple

import torch

import equiconv
from benchmarks.candidates import REFERENCE_BUDGET, Bench
from benchmarks.results import BASELINE, SUBJECT

KINDS = ("conv_transpose", "max_pool", "avg_pool")
# what forward+backward may cost relative to the torch.nn counterpart on CPU (issue 15's bar)
TARGETS = {"conv_transpose": 2.0, "max_pool": 3.0, "avg_pool": 3.0}


@dataclass(frozen=True)
class OpCase:
    """One operator call: ``kind`` on a batch x channels x height x width input."""

    kind: str
    batch: int
    channels: int
    height: int
    width: int
    kernel_size: int = 2
    stride: int = 2
    padding: int = 0
    out_channels: int = 0  # conv_transpose only
    suite: str = "operators"

    @property
    def name(self) -> str:
        channels = f"{self.channels}->{self.out_channels}" if self.kind == "conv_transpose" else f"{self.channels}"
        return (f"b{self.batch} {self.kind} {channels} k{self.kernel_size} s{self.stride} p{self.padding} "
                f"{self.height}x{self.width}")

    def as_dict(self) -> dict:
        d = asdict(self)
        del d["suite"]
        return {**d, "in_channels": self.channels}


def _modules(case: OpCase, device, dtype) -> Tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """(torch.nn counterpart, its equiconv twin sharing its parameters, the reference twin)."""
    k, s, p = case.kernel_size, case.stride, case.padding
    if case.kind == "conv_transpose":
        op = case.stride - 1 if p else 0
        torch_op = torch.nn.ConvTranspose2d(case.channels, case.out_channels, k, s, p, output_padding=op,
                                            device=device, dtype=dtype)
        return (torch_op, equiconv.EquiConvTranspose2d.from_conv_transpose2d(torch_op),
                equiconv.EquiConvTranspose2d.from_conv_transpose2d(torch_op, backend="reference"))
    if case.kind == "max_pool":
        return (torch.nn.MaxPool2d(k, s, p), equiconv.EquiMaxPool2d(k, s, p),
                equiconv.EquiMaxPool2d(k, s, p, backend="reference"))
    if case.kind == "avg_pool":
        return (torch.nn.AvgPool2d(k, s, p), equiconv.EquiAvgPool2d(k, s, p),
                equiconv.EquiAvgPool2d(k, s, p, backend="reference"))
    raise ValueError(f"unknown operator kind {case.kind!r}; choose from {KINDS}")


def sampled_values(case: OpCase) -> int:
    """Samples the reference materialises: every tap of every output (of the fine grid's convolution
    for the transposed one)."""
    if case.kind == "conv_transpose":
        return case.batch * case.out_channels * case.height * case.width * case.stride ** 2 * case.kernel_size ** 2
    ho, wo = ((n + 2 * case.padding - case.kernel_size) // case.stride + 1 for n in (case.height, case.width))
    return case.batch * case.channels * ho * wo * case.kernel_size ** 2


def op_bench(case: OpCase, device: torch.device, dtype: torch.dtype) -> Bench:
    baseline, subject, reference = _modules(case, device, dtype)
    layers, skipped = {BASELINE: baseline, SUBJECT: subject}, {}
    budget = REFERENCE_BUDGET.get(device.type, 0)
    if sampled_values(case) <= budget:
        layers["reference"] = reference
    else:
        skipped["reference"] = (f"{sampled_values(case):,} sampled values exceed the reference's budget "
                                f"of {budget:,} on {device.type}")
    x = torch.randn(case.batch, case.channels, case.height, case.width, device=device, dtype=dtype)
    xg = x.clone().requires_grad_()
    parameters = list(baseline.parameters())

    def forward(layer):
        with torch.no_grad():
            layer(x)

    def forward_backward(layer):
        layer(xg).sum().backward()
        xg.grad = None
        for p in parameters:
            p.grad = None

    steps = {mode: {name: (lambda step=step, layer=layer: step(layer)) for name, layer in layers.items()}
             for mode, step in (("forward", forward), ("forward_backward", forward_backward))}
    return Bench(steps, skipped, {"target": TARGETS[case.kind]})
