"""Masks inside the discriminator: straight-through hard masks for generated images, and the
masked content attention that turns a feature map into one vector per (image, class)."""
import torch
import torch.nn.functional as F

EPS = 1e-6


def straight_through(soft: torch.Tensor, sample: bool) -> torch.Tensor:
    """A hard mask in the forward pass with the soft mask's gradient: one label per pixel, like
    a real mask. ``sample``: each pixel's label drawn from its probabilities (early training,
    keeps every class in play); otherwise the argmax over channels (dim 1).

    Not a Bernoulli draw per channel (as OSMIS): that gives most pixels of an undecided mask no
    label or several, which no real mask has, so the discriminator could tell generated masks
    by that alone."""
    if sample:
        draw = torch.rand_like(soft[:, :1])
        index = (soft.detach().cumsum(1) < draw).sum(1).clamp_max(soft.shape[1] - 1)
    else:
        index = soft.argmax(1)
    hard = F.one_hot(index, soft.shape[1]).movedim(-1, 1).to(soft.dtype)
    return hard - soft.detach() + soft


def resize_mask(mask: torch.Tensor, size) -> torch.Tensor:
    """Area-average a (B, N, H, W) mask to ``size``: one-hot masks become the fraction of each
    class in every cell, still summing to one."""
    return mask if tuple(mask.shape[-2:]) == tuple(size) else F.adaptive_avg_pool2d(mask, size)


def masked_content(features: torch.Tensor, mask: torch.Tensor) -> tuple:
    """Masked content attention. ``features`` (B, C, h, w), ``mask`` (B, N, h, w) ->
    (vectors (B, N, C), present (B, N) bool): vector n of image b is the spatial mean of the
    image's features multiplied by its class-n mask. It says what class n looks like and, by
    its size, how much of the image it covers; absent classes give zero vectors.

    Dividing by the class's own area instead would hide the area from the content head and,
    for a class that vanishes from a generated mask, send its gradient through 1 / area:
    millions of times too large, enough to flip the generator's whole mask to it in one step."""
    if features.shape[0] != mask.shape[0] or features.shape[-2:] != mask.shape[-2:]:
        raise ValueError(f"features {tuple(features.shape)} and mask {tuple(mask.shape)} must share "
                         "batch and spatial size")
    cells = features.shape[-2] * features.shape[-1]
    vectors = torch.einsum("bnhw,bchw->bnc", mask, features) / cells
    return vectors, mask.sum(dim=(2, 3)) > EPS
