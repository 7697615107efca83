"""The panoptic baseline without instance heads: each connected region of a thing class in a
semantic map is one instance. Regions connect through the 8 neighbours of a pixel as the sphere
continues (``equiconv.functional.pad``: across the +-180 degree seam on any panorama, and over
the poles on a whole-sphere one), so a car cut by the seam is one instance. What the centre and
offset heads must beat."""
import torch
import torch.nn.functional as F

import equiconv
from panosis_models.data.cityscapes import INSTANCE_STRIDE, THINGS


def _spread(labels: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Each pixel of ``inside`` takes the smallest label of its component (labels elsewhere: +inf)."""
    while True:
        padded = equiconv.functional.pad(labels[None, None], 1)
        smallest = -F.max_pool2d(-padded, 3, stride=1)[0, 0]
        spread = torch.where(inside, torch.minimum(labels, smallest), labels)
        if torch.equal(spread, labels):
            return labels
        labels = spread


def connected_components(semantic: torch.Tensor, things: tuple = THINGS) -> torch.Tensor:
    """An (H, W) int64 instance map (Cityscapes ``instanceIds``) from an (H, W) semantic label map:
    stuff keeps its label, void 255 stays void, and each connected region of a thing class ``c``
    becomes ``c * 1000 + k``, k counting the class's regions in the order of their first pixel
    (row by row).

    Example:
        >>> semantic = torch.tensor([[0, 0, 0, 0, 0, 0], [11, 0, 0, 11, 0, 11], [0, 0, 0, 0, 0, 0]])
        >>> connected_components(semantic, things=(11,))[1].tolist()  # the first and last columns touch
        [11000, 0, 0, 11001, 0, 11000]
    """
    if semantic.dim() != 2:
        raise ValueError(f"semantic must be an (H, W) label map, got shape {tuple(semantic.shape)}")
    semantic = semantic.long()
    out = semantic.clone()
    order = torch.arange(semantic.numel(), dtype=torch.float64, device=semantic.device).reshape(semantic.shape)
    for c in things:
        inside = semantic == c
        if not inside.any():
            continue
        first = _spread(torch.where(inside, order, torch.full_like(order, float("inf"))), inside)
        _, k = torch.unique(first[inside], return_inverse=True)  # sorted: by first pixel
        out[inside] = c * INSTANCE_STRIDE + k
    return out


def components_of(semantic: torch.Tensor, things: tuple = THINGS) -> torch.Tensor:
    """(B, H, W) instance maps of a batch of semantic label maps (``connected_components``)."""
    return torch.stack([connected_components(s, things) for s in semantic])

