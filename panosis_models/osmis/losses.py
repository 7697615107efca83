"""OSMIS objectives: binary cross-entropy for the low-level and layout decisions, class-weighted
cross-entropy over N + 1 classes for the content decisions (class n for real content of class
n, class N for any generated content), and the diversity regulariser of the generator."""
import torch
import torch.nn.functional as F

WEIGHTS = {"low-level": 1.0, "content": 0.5, "layout": 0.5}


def class_weights(mask: torch.Tensor) -> torch.Tensor:
    """(N,) weights of the content classes from the real one-hot mask (N, H, W): the inverse
    square root of each class's share of the pixels, normalised to mean 1. Rare classes count
    more; the square root keeps a class of a few pixels from drowning out all others."""
    share = mask.float().mean(dim=(1, 2))
    if (share <= 0).any():
        raise ValueError("every class of the label set must occur in the training mask")
    weights = share.rsqrt()
    return weights / weights.mean()


def binary(logits: list, real: bool) -> torch.Tensor:
    """Mean over the blocks of the mean BCE of each decision map against ``real``."""
    target = float(real)
    return sum(F.binary_cross_entropy_with_logits(x, torch.full_like(x, target)) for x in logits) / len(logits)


def content(logits: list, weights: torch.Tensor, real: bool) -> torch.Tensor:
    """Mean over the blocks of the class-weighted cross-entropy of every (image, class)
    decision (B, N, N + 1). Classes an image lacks are scored too (their attention vector is
    zero): a generator that drops classes cannot make those decisions look real, so it is
    pushed to keep every class of the training mask in play."""
    batch, classes = logits[0].shape[:2]
    if real:
        target = torch.arange(classes, device=weights.device).expand(batch, classes)
    else:
        target = torch.full((batch, classes), classes, device=weights.device)
    w = weights[None, :].expand(batch, classes).reshape(-1)
    return sum((F.cross_entropy(x.reshape(-1, classes + 1).float(), target.reshape(-1), reduction="none")
                * w).sum() / w.sum() for x in logits) / len(logits)


def adversarial(out: dict, weights: torch.Tensor, real: bool) -> dict:
    """The three weighted terms for discriminator outputs ``out`` judged as ``real``."""
    return {"low-level": WEIGHTS["low-level"] * binary(out["low-level"], real),
            "content": WEIGHTS["content"] * content(out["content"], weights, real),
            "layout": WEIGHTS["layout"] * binary(out["layout"], real)}


def diversity(features: list) -> torch.Tensor:
    """Minus the mean L1 distance between the features of every pair of samples, averaged over
    the generator's blocks: minimising it pushes samples apart. Zero for a batch of one."""
    batch = features[0].shape[0]
    if batch < 2:
        return features[0].new_zeros(())
    pairs = torch.triu_indices(batch, batch, offset=1, device=features[0].device)
    return -sum((f[pairs[0]] - f[pairs[1]]).abs().mean() for f in features) / len(features)
