"""The OSMIS generator: a noise map through residual upsampling blocks, an RGB image after
every block (the multi-scale outputs the discriminator's low-level branch reads) and, at full
resolution, a mask head with a softmax over the label channels.

Convolutions alone do not know where they are, yet a street has its sky on top. A learned
position code joins the noise map: one per cell for ordinary images, one per row (latitude)
for a full panorama, whose content may sit at any longitude. With spherical convolutions the
panorama generator is then exactly equivariant to turning: noise rolled by one column gives the
panorama rolled by the generator's scale factor.

The mask head reads the last features less their spatial mean, so the mask's make-up comes
from its bias (``start_from_shares``: the training mask's) and its layout from the features'
pattern. Read whole, a shift of the features' mean, which the image losses cause from the
first steps (it sets the images' colour), moved every pixel's mask logits alike: within
10-150 steps of a fresh run one label took 60-99.7 % of every pixel's probability (sky, flat,
object ...), and short runs ended with masks of two or three labels."""
import torch
from torch import nn

from ..convs import conv3x3_factory
from .blocks import UpBlock, normalised
from .sizes import generator_blocks, generator_widths

NOISE_DIM = 64
POSITION_DIM = 16


class Generator(nn.Module):
    """``forward(noise (B, noise_dim, h0, w0))`` -> dict with ``images`` (coarse to fine, each
    (B, 3, h, w) in [-1, 1]), ``mask`` (B, num_classes, H, W) probabilities and ``features``
    (tanh of every block's output, for the diversity regulariser)."""

    def __init__(self, num_classes: int, size=(128, 256), base_channels: int = 32,
                 noise_dim: int = NOISE_DIM, conv: str = "std", panorama: bool = False):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.size, self.num_classes, self.noise_dim = tuple(size), num_classes, noise_dim
        blocks, self.noise_shape = generator_blocks(*self.size)
        widths = generator_widths(base_channels, blocks)
        make = conv3x3_factory(conv)
        rows, cols = self.noise_shape
        self.position = nn.Parameter(torch.randn(1, POSITION_DIM, rows, 1 if panorama else cols))
        self.first = normalised(make(noise_dim + POSITION_DIM, widths[0]))
        self.blocks = nn.ModuleList(UpBlock(make, widths[i], widths[i + 1], upsample=i > 0)
                                    for i in range(blocks))
        self.to_rgb = nn.ModuleList(normalised(make(c, 3)) for c in widths[1:])
        self.mask_head = normalised(make(widths[-1], num_classes))

    def noise(self, batch: int, device=None, generator: torch.Generator = None) -> torch.Tensor:
        return torch.randn(batch, self.noise_dim, *self.noise_shape, device=device, generator=generator)

    def forward(self, noise: torch.Tensor) -> dict:
        if noise.dim() != 4 or tuple(noise.shape[1:]) != (self.noise_dim, *self.noise_shape):
            raise ValueError(f"noise must be (B, {self.noise_dim}, {self.noise_shape[0]}, "
                             f"{self.noise_shape[1]}), got {tuple(noise.shape)}")
        position = self.position.expand(noise.shape[0], -1, *self.noise_shape)
        x = self.first(torch.cat([noise, position], dim=1))
        images, features = [], []
        for block, to_rgb in zip(self.blocks, self.to_rgb):
            x = block(x)
            images.append(torch.tanh(to_rgb(x)))
            features.append(torch.tanh(x))
        mask = self.mask_head(x - x.mean((2, 3), keepdim=True))
        return {"images": images, "mask": torch.softmax(mask, dim=1), "features": features}

    @torch.no_grad()
    def start_from_shares(self, shares: torch.Tensor) -> None:
        """Sets the mask head's bias to the log of each label's share (of a training mask; at
        least 1e-3), so an untrained generator's masks already have that make-up on average."""
        self.mask_head.bias.copy_(shares.clamp_min(1e-3).log())
