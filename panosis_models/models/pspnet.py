"""PSPNet (Zhao et al. 2017) for panoramas: a dilated ResNet-style backbone of output stride 8,
the pyramid pooling module (bins 1, 2, 3, 6), a 3x3 head and an auxiliary head on stage 3.

With ``conv="equi"`` every k>1 convolution (the dilated ones too) is an EquiConv2d, the stem's
max-pooling an EquiMaxPool2d, the pyramid's pooling solid-angle weighted in latitude and sliding
(wrapping) in longitude (LongitudeBins), and every resize wraps in longitude, so no seam appears
anywhere in the network and its output follows any roll of the panorama by a multiple of 8 columns. No pretrained weights: it trains from scratch.
"""
from typing import Sequence, Tuple

import torch
from torch import nn

import equiconv

from panosis_models.data.palette import NUM_CLASSES
from panosis_models.models.convs import CONV_KINDS, InputSizes, Operators, input_sizes, operators

__all__ = ["CONV_KINDS", "PRESETS", "PSPNet"]

# width (stem channels; stages use 1x, 2x, 4x, 8x of twice it) and residual blocks per stage
PRESETS = {"tiny": (8, (1, 1, 1, 1)), "small": (16, (2, 2, 2, 2)), "resnet18": (32, (2, 2, 2, 2))}
BINS = (1, 2, 3, 6)
OUTPUT_STRIDE = 8


def _conv_bn_relu(ops: Operators, c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(ops.conv(c_in, c_out, k, stride, dilation, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (a 1x1 projection where the shape changes)."""

    def __init__(self, ops: Operators, c_in: int, c_out: int, stride: int, dilation: int):
        super().__init__()
        self.body = nn.Sequential(_conv_bn_relu(ops, c_in, c_out, 3, stride, dilation),
                                  ops.conv(c_out, c_out, 3, 1, dilation, bias=False), nn.BatchNorm2d(c_out))
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


class LongitudeBins(nn.Module):
    """The pyramid's pooling on a full panorama: ``b`` solid-angle-weighted bins in latitude, and in
    longitude the mean over a bin's width (W/b columns) centred on every column, wrapping.

    Fixed longitude bins (nn.AdaptiveAvgPool2d's, or EquiAdaptiveAvgPool2d's) start at the image's
    left edge, which on a panorama is wherever the camera's seam happened to be: with bins 2 and 3
    together no roll but a whole turn maps them onto themselves, so the network's output would
    depend on the seam. Sliding the bin along the circle of latitude removes that dependence; a
    bin's value is still the mean over the patch of sphere it covers."""

    def __init__(self, bins: int):
        super().__init__()
        self.bins = bins

    def forward(self, x):
        width = x.shape[-1]
        rows = equiconv.functional.equi_adaptive_avg_pool2d(x, (self.bins, width))
        return rows @ self.sliding_mean(width, rows)

    def sliding_mean(self, width, like: torch.Tensor) -> torch.Tensor:
        """The (W, W) matrix that averages round(W/b) columns centred on each column, wrapping.
        Built from tensor operations on ``width`` (not a Python kernel size), so that a traced
        network follows the input's width as nn.AdaptiveAvgPool2d's trace does."""
        columns = torch.arange(width, device=like.device)
        k = torch.clamp(torch.round(torch.as_tensor(width, device=like.device) / self.bins), min=1)
        left = torch.div(k - 1, 2, rounding_mode="floor")
        # column i feeds output j when i lies in j's window [j - left, j - left + k) around the circle
        distance = torch.remainder(columns[:, None] - columns[None, :] + left, width)
        return (distance < k).to(like.dtype) / k.to(like.dtype)


class PyramidPooling(nn.Module):
    """Average pooling into each bin size, a 1x1 convolution to C/len(bins) channels + BN + ReLU,
    resized back and concatenated with the features. Standard: nn.AdaptiveAvgPool2d's bins;
    spherical: LongitudeBins."""

    def __init__(self, ops: Operators, channels: int, bins: Sequence[int] = BINS):
        super().__init__()
        self.ops = ops
        reduced = channels // len(bins)
        pool = LongitudeBins if ops.kind == "equi" else nn.AdaptiveAvgPool2d
        self.branches = nn.ModuleList(
            nn.Sequential(pool(b), nn.Conv2d(channels, reduced, 1, bias=False),
                          nn.BatchNorm2d(reduced), nn.ReLU(inplace=True)) for b in bins)
        self.out_channels = channels + reduced * len(bins)

    def forward(self, x):
        size = x.shape[-2:]
        return torch.cat([x] + [self.ops.resize(branch(x), size) for branch in self.branches], dim=1)


def _head(ops: Operators, c_in: int, c_mid: int, num_classes: int) -> nn.Sequential:
    return nn.Sequential(_conv_bn_relu(ops, c_in, c_mid, 3), nn.Dropout2d(0.1), nn.Conv2d(c_mid, num_classes, 1))


class PSPNet(nn.Module):
    """In training mode ``forward`` returns ``(logits, aux_logits)`` (the auxiliary head on stage 3,
    weighted 0.4 in the loss); in eval mode the logits alone, at the input's size. Input sides must
    be multiples of the output stride, 8 (and, equi, large enough at that stride): ``input_sizes``."""

    aux_weight = 0.4

    def __init__(self, in_channels: int = 3, num_classes: int = NUM_CLASSES, preset: str = "small",
                 conv: str = "std", width: int = None, depth: Tuple[int, ...] = None):
        super().__init__()
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {preset!r}")
        base_width, base_depth = PRESETS[preset]
        width, depth = width or base_width, tuple(depth or base_depth)
        if len(depth) != 4 or min(depth) < 1:
            raise ValueError(f"depth must be four positive block counts, got {depth!r}")
        ops = operators(conv)
        self.conv_kind, self.ops = conv, ops
        # stem: three 3x3 convolutions (the first strided) and a 3x3 stride-2 max-pooling: stride 4
        self.stem = nn.Sequential(_conv_bn_relu(ops, in_channels, width, 3, 2), _conv_bn_relu(ops, width, width, 3),
                                  _conv_bn_relu(ops, width, 2 * width, 3), ops.max_pool(3, 2, 1))
        channels = [2 * width * m for m in (1, 2, 4, 8)]
        # stage 2 takes the stride to 8; stages 3 and 4 dilate (2, 4) instead of striding
        strides, dilations = (1, 2, 1, 1), (1, 1, 2, 4)
        self.stages, previous = nn.ModuleList(), 2 * width
        for c, blocks, stride, dilation in zip(channels, depth, strides, dilations):
            layers = [BasicBlock(ops, previous, c, stride, dilation)]
            layers += [BasicBlock(ops, c, c, 1, dilation) for _ in range(blocks - 1)]
            self.stages.append(nn.Sequential(*layers))
            previous = c
        self.pyramid = PyramidPooling(ops, channels[-1])
        self.head = _head(ops, self.pyramid.out_channels, channels[-1] // 2, num_classes)
        self.aux = _head(ops, channels[2], channels[2] // 2, num_classes)

    @property
    def feature_channels(self) -> int:
        return self.pyramid.out_channels

    @property
    def input_sizes(self) -> InputSizes:
        return input_sizes(self.conv_kind, OUTPUT_STRIDE, "its output stride")

    def trunk(self, x: torch.Tensor):
        """(the pyramid's output at stride 8, stage 3's output): what the heads read."""
        if x.dim() != 4 or not self.input_sizes.accepts(*x.shape[-2:]):
            raise ValueError(f"input must be (N, C, H, W) with {self.input_sizes}, got shape {tuple(x.shape)}")
        features = self.stem(x)
        for i, stage in enumerate(self.stages):
            features = stage(features)
            if i == 2:
                middle = features
        return self.pyramid(features), middle

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pyramid's output at stride 8, before the heads: what other heads (the panoptic
        ones) build on."""
        return self.trunk(x)[0]

    def forward(self, x: torch.Tensor):
        size = x.shape[-2:]
        features, middle = self.trunk(x)
        logits = self.ops.resize(self.head(features), size)
        if not self.training:
            return logits
        return logits, self.ops.resize(self.aux(middle), size)
