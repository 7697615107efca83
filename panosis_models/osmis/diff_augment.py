"""Differentiable augmentation shown to the discriminator, for real and generated pairs alike,
applied identically to every scale of the image and to the mask (so they stay aligned).

For a full panorama only what keeps it a panorama: turning the camera (a horizontal roll by any
fraction of the width, fractional shifts interpolated linearly, wrapping around) and mirroring
east-west. Otherwise a translation by up to 1/8 of each side with zero fill, and the flip.
Cutout blanks a rectangle of half of each side in the images and the mask alike (on a panorama
it may cross the seam). Colour (brightness, saturation, contrast) changes the images only. Each operation is applied
to each sample with probability ``prob``; parameters come from torch's global generator."""
import torch

MAX_TRANSLATION = 0.125
CUTOUT = 0.5  # side of the blanked rectangle, as a share of the image's side


def shift(x: torch.Tensor, amount: torch.Tensor, dim: int, wrap: bool) -> torch.Tensor:
    """Moves sample b of ``x`` by ``amount[b]`` (a fraction of the side, may be negative or
    fractional in pixels) towards higher indices along ``dim`` (2 or 3): linear interpolation
    between the two nearest whole shifts; wrapping around, or filling with zeros."""
    size = x.shape[dim]
    pixels = amount.to(x.dtype) * size
    whole = pixels.floor()
    frac = (pixels - whole).view(-1, 1, 1, 1)
    source = torch.arange(size, device=x.device)[None, :] - whole.long()[:, None]  # (B, size)

    def take(offset):
        index = source - offset
        valid = (index >= 0) & (index < size)
        index = index % size
        shape = [x.shape[0], 1, 1, 1]
        shape[dim] = size
        picked = x.gather(dim, index.view(shape).expand_as(x))
        return picked if wrap else picked * valid.view(shape).to(x.dtype)

    return take(0) * (1 - frac) + take(1) * frac


class JointAugment:
    """Callable ``(images, mask) -> (images, mask)``: ``images`` a list of (B, 3, h, w) in
    [-1, 1] (any scales), ``mask`` (B, N, H, W)."""

    def __init__(self, panorama: bool, prob: float, colour: bool = True, cutout: bool = True):
        if not 0 <= prob <= 1:
            raise ValueError(f"prob must lie in [0, 1], got {prob!r}")
        self.panorama, self.prob, self.colour, self.cutout = panorama, prob, colour, cutout

    def _chosen(self, batch: int, device) -> torch.Tensor:
        return torch.rand(batch, device=device) < self.prob

    def __call__(self, images: list, mask: torch.Tensor) -> tuple:
        if not self.prob:
            return images, mask
        batch, device = mask.shape[0], mask.device
        tensors = list(images) + [mask]
        flip = self._chosen(batch, device).view(-1, 1, 1, 1)
        tensors = [torch.where(flip, t.flip(3), t) for t in tensors]
        if self.panorama:
            turn = torch.rand(batch, device=device) * self._chosen(batch, device)
            tensors = [shift(t, turn, 3, wrap=True) for t in tensors]
        else:
            for dim in (2, 3):
                move = (torch.rand(batch, device=device) * 2 - 1) * MAX_TRANSLATION
                move = move * self._chosen(batch, device)
                tensors = [shift(t, move, dim, wrap=False) for t in tensors]
        if self.cutout:
            cut, centre = self._chosen(batch, device), torch.rand(2, batch, device=device)
            tensors = [t * keep_outside(t, centre, cut, self.panorama) for t in tensors]
        images, mask = tensors[:-1], tensors[-1]
        if self.colour:
            colour = self._colour_parameters(batch, device)
            images = [recolour(t, *colour) for t in images]
        return images, mask

    def _colour_parameters(self, batch: int, device) -> tuple:
        """(brightness offset, saturation factor, contrast factor) per sample, neutral where
        not chosen: drawn once, so every scale gets the same."""
        def draw(lo, hi, neutral):
            value = lo + (hi - lo) * torch.rand(batch, device=device)
            return torch.where(self._chosen(batch, device), value, torch.full_like(value, neutral)).view(-1, 1, 1, 1)
        return draw(-0.5, 0.5, 0.0), draw(0.0, 2.0, 1.0), draw(0.5, 1.5, 1.0)


def keep_outside(x: torch.Tensor, centre: torch.Tensor, chosen: torch.Tensor, wrap: bool) -> torch.Tensor:
    """(B, 1, h, w) of 0 inside each chosen sample's cutout rectangle (``centre`` (2, B): row and
    column as shares of the side) and 1 elsewhere; columns measured around the seam if ``wrap``."""
    height, width = x.shape[-2:]
    rows = (torch.arange(height, device=x.device) + 0.5) / height
    cols = (torch.arange(width, device=x.device) + 0.5) / width
    dy = (rows[None, :] - centre[0][:, None]).abs()
    dx = (cols[None, :] - centre[1][:, None]).abs()
    if wrap:
        dx = torch.minimum(dx, 1 - dx)
    inside = (dy[:, :, None] < CUTOUT / 2) & (dx[:, None, :] < CUTOUT / 2) & chosen[:, None, None]
    return (~inside).to(x.dtype)[:, None]


def recolour(image, brightness, saturation, contrast):
    """Shifts brightness, scales saturation about each pixel's channel mean and contrast about
    the image's mean (per sample)."""
    image = image + brightness
    grey = image.mean(dim=1, keepdim=True)
    image = (image - grey) * saturation + grey
    mean = image.mean(dim=(1, 2, 3), keepdim=True)
    return (image - mean) * contrast + mean
