"""OSLSM (Shaban et al., BMVC 2017) for panoramas: one support image and its binary mask become
the weights of a per-pixel logistic classifier over a query's dense features.

- Conditioning branch: an encoder over the support image with its background masked out
  (image x mask), its features pooled over the masked region (each feature cell weighted by the
  mask's share of it and, on a panorama, by its solid angle, so a polar sliver counts for what
  it covers), then two linear layers emitting w (C values) and b.
- Segmentation branch: a fully convolutional encoder turning the query into features f (C, h, w).
- Prediction: the logit w.f + b per feature cell, resized to the input (bilinear; with
  ``conv="equi"`` it wraps in longitude) -- sigmoid of it is the foreground probability.

Both encoders are U-Net encoder blocks from the convolution factory, so ``conv="equi"`` reaches
every k>1 convolution; the 2x2 max-pooling between them reads one cell each and needs no sphere.
"""
import torch
import torch.nn.functional as F
from torch import nn

import equiconv
from panosis_models.models.convs import InputSizes, conv3x3_factory, input_sizes, operators
from panosis_models.models.unet import DoubleConv

__all__ = ["OSLSM", "Encoder"]


class Encoder(nn.Sequential):
    """``len(channels)`` double-conv blocks with 2x2 max-pooling between them: output stride
    ``2 ** (len(channels) - 1)``, ``channels[-1]`` features."""

    def __init__(self, conv: str, in_channels: int, channels, batch_norm: bool = True):
        make, layers, previous = conv3x3_factory(conv), [], in_channels
        for i, c in enumerate(channels):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers.append(DoubleConv(make, previous, c, batch_norm))
            previous = c
        super().__init__(*layers)


def cell_weights(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """(N, 1, h, w) weight of each feature cell: the share of its ``stride`` x ``stride`` pixels
    in ``mask`` (N, H, W) and, for a full panorama (W == 2 H), the cell's solid angle."""
    share = F.avg_pool2d(mask[:, None].float(), stride)
    height, width = share.shape[-2:]
    if mask.shape[-1] == 2 * mask.shape[-2]:
        share = share * equiconv.solid_angle(height, width, dtype=share.dtype, device=share.device)
    return share


class OSLSM(nn.Module):
    """``forward(query (N, 3, H, W), support (N, 3, H, W), support_mask (N, H, W) in {0, 1})``
    -> foreground logits (N, H, W). H and W must be multiples of the output stride (and, equi, large
    enough at that stride): ``input_sizes``."""

    def __init__(self, channels=(16, 32, 64), conv: str = "std", batch_norm: bool = True):
        super().__init__()
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f"channels needs at least two positive widths, got {channels!r}")
        self.conv_kind, self.channels = conv, tuple(channels)
        self.resize = operators(conv).resize
        features = channels[-1]
        self.condition = Encoder(conv, 3, channels, batch_norm)
        self.segment = Encoder(conv, 3, channels, batch_norm)
        self.classifier = nn.Sequential(nn.Linear(features, features), nn.ReLU(inplace=True),
                                        nn.Linear(features, features + 1))

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    @property
    def input_sizes(self) -> InputSizes:
        return input_sizes(self.conv_kind, self.stride, "its encoders' output stride")

    def classifier_of(self, support: torch.Tensor, support_mask: torch.Tensor) -> tuple:
        """(w (N, C), b (N,)): the logistic classifier the support pair defines. An empty mask
        pools to zero features (there is nothing to describe)."""
        features = self.condition(support * support_mask[:, None].to(support.dtype))
        weight = cell_weights(support_mask, self.stride)
        pooled = (features * weight).sum((2, 3)) / weight.sum((2, 3)).clamp_min(1e-12)
        params = self.classifier(pooled)
        return params[:, :-1], params[:, -1]

    def forward(self, query: torch.Tensor, support: torch.Tensor, support_mask: torch.Tensor) -> torch.Tensor:
        if query.dim() != 4 or not self.input_sizes.accepts(*query.shape[-2:]):
            raise ValueError(f"query must be (N, 3, H, W) with {self.input_sizes}, got shape {tuple(query.shape)}")
        if support.shape != query.shape or support_mask.shape != (query.shape[0], *query.shape[2:]):
            raise ValueError(f"support must be {tuple(query.shape)} and support_mask "
                             f"{(query.shape[0], *query.shape[2:])} like the query, got "
                             f"{tuple(support.shape)} and {tuple(support_mask.shape)}")
        w, b = self.classifier_of(support, support_mask)
        logits = torch.einsum("nc,nchw->nhw", w, self.segment(query)) + b[:, None, None]
        return self.resize(logits[:, None], query.shape[-2:])[:, 0]
