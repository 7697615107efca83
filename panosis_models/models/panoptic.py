"""A Panoptic-DeepLab-style network for panoramas (Cheng et al. 2020): a reference backbone (the
U-Net's decoder or PSPNet's pyramid) read by three heads, semantic logits, a class-agnostic
instance-centre heatmap and per-pixel (row, column) offsets to the instance's centre, in pixels
of the input.

Each head is a k x k convolution of the backbone's kind + ReLU + a 1x1 convolution; heads on a
strided backbone (PSPNet, stride 8) are resized to the input with the kind's resize, which wraps
in longitude for ``conv="equi"``. So ``conv="equi"`` reaches every k>1 convolution and every
resize of the network."""
import torch
from torch import nn

from panosis_models.data.cityscapes import NUM_FINE
from panosis_models.models.convs import operators
from panosis_models.models.pspnet import OUTPUT_STRIDE, PSPNet
from panosis_models.models.unet import UNet

BACKBONES = ("unet", "pspnet")
OUTPUTS = {"semantic": None, "center": 1, "offset": 2}  # None: the number of classes


class PanopticNet(nn.Module):
    """``forward(x)`` -> {"semantic": (N, classes, H, W), "center": (N, 1, H, W), "offset":
    (N, 2, H, W)} at the input's size. The backbone's own classifier heads are dropped: the
    panoptic heads replace them (and unused parameters would stall DistributedDataParallel)."""

    def __init__(self, backbone: str = "unet", conv: str = "std", num_classes: int = NUM_FINE,
                 head_channels: int = 32, channels=(32, 64, 128, 256, 512), batch_norm: bool = False,
                 preset: str = "small"):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if head_channels < 1:
            raise ValueError(f"head_channels must be positive, got {head_channels!r}")
        self.ops, self.conv_kind = operators(conv), conv
        if backbone == "unet":
            self.backbone, self.stride = UNet(conv=conv, channels=channels, batch_norm=batch_norm), 1
        else:
            self.backbone, self.stride = PSPNet(preset=preset, conv=conv), OUTPUT_STRIDE
            self.backbone.aux = None
        self.backbone.head = None
        c = self.backbone.feature_channels
        self.heads = nn.ModuleDict({
            name: nn.Sequential(self.ops.conv(c, head_channels, 3), nn.ReLU(inplace=True),
                                nn.Conv2d(head_channels, num_classes if size is None else size, 1))
            for name, size in OUTPUTS.items()})

    @property
    def input_sizes(self):
        """The backbone's: the heads read its features at its coarsest stride or finer."""
        return self.backbone.input_sizes

    def forward(self, x: torch.Tensor) -> dict:
        features = self.backbone.features(x)
        out = {name: head(features) for name, head in self.heads.items()}
        if self.stride > 1:
            out = {name: self.ops.resize(value, x.shape[-2:]) for name, value in out.items()}
        return out
