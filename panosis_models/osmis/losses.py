"""OSMIS objectives: binary cross-entropy for the low-level and layout decisions, class-weighted
cross-entropy over N + 1 classes for the content decisions (class n for real content of class
n, class N for any generated content), and the diversity regulariser of the generator."""
import torch
import torch.nn.functional as F

WEIGHTS = {"low-level": 1.0, "content": 0.5, "layout": 0.5}


def class_weights(mask: torch.Tensor) -> torch.Tensor:
    """(N,) weights of the content classes from the judged masks (B, N, H, W) (or one mask
    (N, H, W)): the inverse square root of each class's share of their pixels, normalised to
    mean 1 over the classes present; absent classes get 0. Rare classes count more (the square
    root keeps a class of a few pixels from drowning out all others); weighting a generated
    batch by its own shares gives the classes it neglects more say, not the ones it overdoes."""
    mask = mask.detach().float()
    share = mask.mean(dim=(-2, -1)) if mask.dim() == 3 else mask.mean(dim=(0, 2, 3))
    present = share > 0
    if not present.any():
        raise ValueError("the mask holds no class at all")
    weights = torch.where(present, share.clamp_min(1e-12).rsqrt(), torch.zeros_like(share))
    return weights / weights[present].mean()


def binary(logits: list, real: bool) -> torch.Tensor:
    """Mean over the blocks of the mean BCE of each decision map against ``real``."""
    target = float(real)
    return sum(F.binary_cross_entropy_with_logits(x, torch.full_like(x, target)) for x in logits) / len(logits)


def content(logits: list, mask: torch.Tensor, real: bool) -> torch.Tensor:
    """Mean over the blocks of the cross-entropy of every (image, class) decision (B, N, N + 1).
    Judged as real, decision n should be class n, weighted by ``class_weights`` of the judged
    ``mask``; judged as generated, every decision should be class N, all weighted alike.
    Classes an image lacks are scored too (their attention vector is zero): a generator that
    drops classes cannot make those decisions look real."""
    batch, classes = logits[0].shape[:2]
    device = logits[0].device
    if real:
        target = torch.arange(classes, device=device).expand(batch, classes)
        w = class_weights(mask).to(device)[None, :].expand(batch, classes).reshape(-1)
    else:
        target = torch.full((batch, classes), classes, device=device)
        w = torch.ones(batch * classes, device=device)
    return sum((F.cross_entropy(x.reshape(-1, classes + 1).float(), target.reshape(-1), reduction="none")
                * w).sum() / w.sum() for x in logits) / len(logits)


def adversarial(out: dict, mask: torch.Tensor, real: bool) -> dict:
    """The three weighted terms for discriminator outputs ``out`` on a batch with masks
    ``mask``, judged as ``real``."""
    return {"low-level": WEIGHTS["low-level"] * binary(out["low-level"], real),
            "content": WEIGHTS["content"] * content(out["content"], mask, real),
            "layout": WEIGHTS["layout"] * binary(out["layout"], real)}


def diversity(features: list) -> torch.Tensor:
    """Minus the mean L1 distance between the features of every pair of samples, averaged over
    the generator's blocks: minimising it pushes samples apart. Zero for a batch of one."""
    batch = features[0].shape[0]
    if batch < 2:
        return features[0].new_zeros(())
    pairs = torch.triu_indices(batch, batch, offset=1, device=features[0].device)
    return -sum((f[pairs[0]] - f[pairs[1]]).abs().mean() for f in features) / len(features)


def reconstruction(out: dict, images: list, mask: torch.Tensor) -> torch.Tensor:
    """How far the generator's output ``out`` for the anchor noise is from the training pair:
    the mean L1 distance of its images to ``images`` (the pair's pyramid, coarse to fine) plus
    the cross-entropy of its mask probabilities against ``mask`` (N, H, W, one-hot).

    The adversarial terms alone teach the mask's layout slowly: a short run could end with a
    label spread as an even haze of probability over every pixel (its share right, its place
    nowhere), which argmax then drops. One noise map held to reproduce the pair (SinGAN's
    reconstruction noise) ties the mask head to where each label lies from the first steps."""
    pixels = sum((x - y).abs().mean() for x, y in zip(out["images"], images)) / len(images)
    labels = -(mask[None] * out["mask"].clamp_min(1e-8).log()).sum(1).mean()
    return pixels + labels
