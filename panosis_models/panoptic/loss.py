"""Panoptic-DeepLab's training loss (Cheng et al. 2020): a bootstrapped cross-entropy in which
the pixels of small instances weigh more, + MSE of the centre heatmap + L1 of the offsets on
thing pixels."""
import torch
import torch.nn.functional as F

from panosis_models.data.cityscapes import INSTANCE_STRIDE, THINGS, VOID

# Panoptic-DeepLab's small instances: under 4096 px on a 1024 x 2048 Cityscapes image, i.e. the
# same share of a panorama at any resolution (16 px at 64 x 128, 256 px at 256 x 512)
SMALL_INSTANCE_SHARE = 4096 / (1024 * 2048)


def small_instance_weights(instances: torch.Tensor, weight: float) -> torch.Tensor:
    """(B, H, W) float pixel weights of a batch of instance maps: ``weight`` on the pixels of
    thing instances covering less than ``SMALL_INSTANCE_SHARE`` of their panorama, 1 elsewhere
    (Panoptic-DeepLab's 3: without it, a network can leave small things out at little cost)."""
    batch, height, width = instances.shape
    per_item = instances.long() + torch.arange(batch, device=instances.device)[:, None, None] * (1 << 32)
    _, inverse, counts = torch.unique(per_item, return_inverse=True, return_counts=True)
    small = (instances >= INSTANCE_STRIDE) & (counts[inverse] < SMALL_INSTANCE_SHARE * height * width)
    return torch.where(small, float(weight), 1.0)


def semantic_weights(labels: torch.Tensor, instances: torch.Tensor, things: tuple, thing_weight: float = 1.0,
                     small_instance_weight: float = 1.0):
    """(B, H, W) pixel weights of the semantic loss, or None when all are 1: ``thing_weight`` on
    every pixel of a thing class (crowds included), times ``small_instance_weight`` on the pixels
    of small instances. Things are about 2.4 % of the synthetic streets' pixels, so an unweighted
    loss is nearly minimised by never predicting them."""
    weights = None
    if small_instance_weight != 1:
        weights = small_instance_weights(instances, small_instance_weight)
    if thing_weight != 1:
        thing = torch.isin(labels, torch.tensor(things, device=labels.device))
        weights = torch.where(thing, float(thing_weight), 1.0) * (1.0 if weights is None else weights)
    return weights


def bootstrapped_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, hard_pixels: float,
                               weights: torch.Tensor = None) -> torch.Tensor:
    """Panoptic-DeepLab's semantic loss: the mean (pixel-weighted with ``weights``) cross-entropy
    of the ``hard_pixels`` share of the batch's labelled pixels that cost most after weighting
    (1: plain, weighted cross-entropy). Small things, which plain cross-entropy lets a network
    ignore, are what the hard pixels mostly are."""
    pixel = F.cross_entropy(logits.float(), labels, ignore_index=VOID, reduction="none")
    if weights is not None:
        pixel = pixel * weights
    pixel = pixel[labels != VOID]
    if not len(pixel):
        return logits.sum() * 0.0
    return pixel.topk(max(1, int(hard_pixels * len(pixel)))).values.mean()


def panoptic_loss(net, images, fine, instances, heatmap, offsets, hard_pixels: float = 0.2,
                  small_instance_weight: float = 3.0, center_weight: float = 200.0,
                  offset_weight: float = 0.01, thing_weight: float = 1.0, things: tuple = THINGS) -> torch.Tensor:
    """Bootstrapped cross-entropy (void costs nothing; pixels weighted by ``semantic_weights``)
    + ``center_weight`` x MSE of the heatmap + ``offset_weight`` x L1 of the offsets (both
    channels) averaged over thing-instance pixels. ``things``: the learnt level's thing labels."""
    out = net(images)
    weights = semantic_weights(fine, instances, things, thing_weight, small_instance_weight)
    semantic = bootstrapped_cross_entropy(out["semantic"], fine, hard_pixels, weights)
    centre = F.mse_loss(out["center"].float(), heatmap)
    things = (instances >= INSTANCE_STRIDE)[:, None].float()
    offset = ((out["offset"].float() - offsets).abs() * things).sum() / things.sum().clamp_min(1)
    return semantic + center_weight * centre + offset_weight * offset
