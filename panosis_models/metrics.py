"""Segmentation metrics of the CVRG-Pano protocol: a confusion matrix over labels 0-7 from which
per-class IoU, mIoU over labels 1-7 (0 = unlabelled is ignored) and pixel accuracy follow."""
import torch

from panosis_models.data.palette import NUM_CLASSES

IGNORE_INDEX = 0  # unlabelled pixels: no loss, no score
SCORED = tuple(range(1, NUM_CLASSES))


def confusion_matrix(prediction: torch.Tensor, target: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """int64 (num_classes, num_classes): rows are true labels, columns predictions."""
    if prediction.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(prediction.shape)} differs from target shape {tuple(target.shape)}")
    target, prediction = target.reshape(-1).long(), prediction.reshape(-1).long()
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"target labels must lie in [0, {num_classes}), got {target.min()}..{target.max()}")
    index = target * num_classes + prediction.clamp(0, num_classes - 1)
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes, num_classes).cpu()


def scores(confusion: torch.Tensor) -> dict:
    """Per-class IoU (None for a class absent from both target and prediction), mIoU over the
    scored labels present, and pixel accuracy over labelled pixels; None where undefined (no
    labelled pixel), so that the scores are valid JSON."""
    c = confusion.double()
    c[IGNORE_INDEX, :] = 0  # unlabelled pixels are not scored, whatever was predicted there
    tp = c.diagonal()
    union = c.sum(0) + c.sum(1) - tp
    iou = {}
    for label in SCORED:
        iou[label] = (tp[label] / union[label]).item() if union[label] > 0 else None
    present = [v for v in iou.values() if v is not None]
    labelled = c[list(SCORED)].sum()
    return {
        "iou": iou,
        "miou": sum(present) / len(present) if present else None,
        "pixel_accuracy": (tp[list(SCORED)].sum() / labelled).item() if labelled > 0 else None,
    }
