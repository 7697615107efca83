"""The OSMIS discriminator: a low-level branch over the multi-scale images, then two branches
on its features: content (masked content attention, one (N+1)-way decision per image and
class, N meaning "generated") and layout (features and mask together, spatial real/fake
maps)."""
import torch
from torch import nn

from ..convs import conv3x3_factory
from .attention import masked_content, resize_mask
from .blocks import DownBlock, normalised, pointwise
from .feature_augment import augment_content, augment_layout
from .sizes import discriminator_blocks, discriminator_widths

LAYOUT_CHANNELS = 1  # the layout branch is kept narrow: it judges arrangement, not appearance
SKIP_RATIO = 8       # channels of an image scale joining the low-level branch, per block channel


class Discriminator(nn.Module):
    """``forward(images, mask, augment=False)``: ``images`` coarse to fine as the generator
    makes them, ``mask`` (B, N, H, W) (one-hot for real pairs, straight-through hard masks for
    generated ones). Returns lists of logits per block: ``low-level`` (B, 1, h, w), ``content``
    (B, N, N + 1) and ``layout`` (B, 1, h, w).
    ``augment`` applies the content and layout feature augmentation (real pairs only)."""

    def __init__(self, num_classes: int, size=(128, 256), base_channels: int = 32, conv: str = "std",
                 feature_augment: float = 0.4, panorama: bool = False):
        super().__init__()
        self.num_classes, self.feature_augment, self.panorama = num_classes, feature_augment, panorama
        low, branch = discriminator_blocks(*size)
        widths = discriminator_widths(base_channels, low + branch)
        make = conv3x3_factory(conv)
        skips = [widths[0]] + [max(widths[i] // SKIP_RATIO, 1) for i in range(1, low)]
        # 3x3 from the images, as OSMIS: with 1x1 a fresh discriminator took about three times
        # as long to tell the training image from a copy blurred along longitude
        self.from_rgb = nn.ModuleList(normalised(make(3, c)) for c in skips)
        self.low_level = nn.ModuleList(
            DownBlock(make, widths[i] + (skips[i] if i else 0), widths[i + 1], True, first=i == 0)
            for i in range(low))
        self.low_level_out = nn.ModuleList(pointwise(widths[i + 1], 1) for i in range(low))
        self.content = nn.ModuleList(DownBlock(None, widths[i], widths[i + 1], False)
                                     for i in range(low, low + branch))
        self.content_out = nn.ModuleList(pointwise(widths[i + 1], num_classes + 1)
                                         for i in range(low, low + branch))
        layout_in = [widths[low] + num_classes] + [LAYOUT_CHANNELS] * (branch - 1)
        self.layout = nn.ModuleList(DownBlock(make, c, LAYOUT_CHANNELS, True) for c in layout_in)
        self.layout_out = nn.ModuleList(pointwise(LAYOUT_CHANNELS, 1) for _ in range(branch))

    def forward(self, images: list, mask: torch.Tensor, augment: bool = False) -> dict:
        if len(images) < len(self.low_level):
            raise ValueError(f"images must hold at least {len(self.low_level)} scales, got {len(images)}")
        if mask.shape[1] != self.num_classes or mask.shape[-2:] != images[-1].shape[-2:]:
            raise ValueError(f"mask must be (B, {self.num_classes}, {images[-1].shape[-2]}, "
                             f"{images[-1].shape[-1]}), got {tuple(mask.shape)}")
        out = {"low-level": [], "content": [], "layout": []}
        y = self.from_rgb[0](images[-1])
        for i, (block, decide) in enumerate(zip(self.low_level, self.low_level_out)):
            if i:
                y = torch.cat([y, self.from_rgb[i](images[-1 - i])], dim=1)
            y = block(y)
            out["low-level"].append(decide(y))

        small_mask = resize_mask(mask, y.shape[-2:])
        vectors, present = masked_content(y, small_mask)
        if augment:
            vectors = augment_content(vectors, present, self.feature_augment)
        batch, classes, channels = vectors.shape
        content = vectors.reshape(batch * classes, channels, 1, 1)
        for block, decide in zip(self.content, self.content_out):
            content = block(content)
            out["content"].append(decide(content).reshape(batch, classes, classes + 1))

        layout = torch.cat([y, small_mask], dim=1)
        if augment:
            layout = augment_layout(layout, self.feature_augment, wrap=self.panorama)
        for block, decide in zip(self.layout, self.layout_out):
            layout = block(layout)
            out["layout"].append(decide(layout))
        return out
