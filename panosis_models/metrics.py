"""Segmentation metrics at either label level: a confusion matrix (pixel counts, or any per-pixel
weights such as solid angles) from which per-class IoU, mIoU and pixel accuracy follow.

Category level (CVRG-Pano protocol): labels 0-7, mIoU over 1-7, 0 = unlabelled never scored.
Fine level (Cityscapes): train ids 0-18 scored, void (255) never scored; its matrix keeps void
at index 19 so that fine results coarsen exactly into categories."""
from dataclasses import dataclass

import torch

from panosis_models.data.cityscapes import CATEGORY_OF, FINE_NAMES, NUM_FINE, VOID
from panosis_models.data.palette import CLASS_NAMES, NUM_CLASSES


@dataclass(frozen=True)
class Level:
    """A label level as the metrics see it: matrix index ``i`` holds label ``i``, except that
    pixels labelled ``void`` sit at index ``ignore``, which is never scored."""
    name: str
    names: tuple      # by matrix index
    ignore: int       # matrix index of pixels that are never scored
    void: int         # the label such pixels carry in masks (also the loss' ignore_index)
    num_outputs: int  # classes a network predicts

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def scored(self) -> tuple:
        return tuple(i for i in range(self.size) if i != self.ignore)

    def indices(self, labels: torch.Tensor) -> torch.Tensor:
        """Matrix indices of labels (void moved to ``ignore``)."""
        labels = labels.long()
        return labels if self.void == self.ignore else torch.where(labels == self.void, self.ignore, labels)

    def target_indices(self, target: torch.Tensor) -> torch.Tensor:
        """``indices`` of true labels, refusing any that is neither a class nor void."""
        valid = ((target >= 0) & (target < self.num_outputs)) | (target == self.void)
        if not valid.all():
            raise ValueError(f"target labels must lie in [0, {self.num_outputs}) or be {self.void}, "
                             f"got {target.min()}..{target.max()}")
        return self.indices(target)


CATEGORY = Level("category", CLASS_NAMES, ignore=0, void=0, num_outputs=NUM_CLASSES)
FINE = Level("fine", FINE_NAMES + ("void",), ignore=NUM_FINE, void=VOID, num_outputs=NUM_FINE)
LEVELS = {level.name: level for level in (CATEGORY, FINE)}
IGNORE_INDEX = CATEGORY.void  # unlabelled category pixels: no loss, no score


def level_named(name: str) -> Level:
    if name not in LEVELS:
        raise ValueError(f"labels must be one of {tuple(LEVELS)}, got {name!r}")
    return LEVELS[name]


def confusion_matrix(prediction: torch.Tensor, target: torch.Tensor, level: Level = CATEGORY,
                     weight: torch.Tensor = None) -> torch.Tensor:
    """(size, size) matrix, rows true labels, columns predictions: int64 pixel counts, or with
    ``weight`` (broadcast to the target's shape) float64 sums of the pixels' weights."""
    if prediction.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(prediction.shape)} differs from target shape {tuple(target.shape)}")
    size = level.size
    target = level.target_indices(target).reshape(-1)
    index = target * size + level.indices(prediction).reshape(-1).clamp(0, size - 1)
    if weight is None:
        return torch.bincount(index, minlength=size * size).view(size, size).cpu()
    weight = torch.broadcast_to(weight, prediction.shape).reshape(-1).double()
    return torch.bincount(index, weights=weight, minlength=size * size).view(size, size).cpu()


def coarsen(confusion: torch.Tensor) -> torch.Tensor:
    """A fine-level matrix (..., 20, 20) summed into the category level's (..., 8, 8) through
    the train-id -> category table (void -> unlabelled)."""
    category = CATEGORY_OF[list(range(NUM_FINE)) + [VOID]]
    onto = torch.zeros(FINE.size, CATEGORY.size, dtype=confusion.dtype)
    onto[torch.arange(FINE.size), category] = 1
    return onto.T @ confusion @ onto


def scores(confusion: torch.Tensor, level: Level = CATEGORY) -> dict:
    """Per-class IoU (None for a class absent from both target and prediction), mIoU over the
    scored labels present, and pixel accuracy over labelled pixels; None where undefined (no
    labelled pixel), so that the scores are valid JSON. A weighted matrix gives the weighted
    versions of the same figures."""
    c = confusion.double().clone()
    c[level.ignore, :] = 0  # unscored pixels count for nothing, whatever was predicted there
    tp = c.diagonal()
    union = c.sum(0) + c.sum(1) - tp
    scored = list(level.scored)
    iou = {label: (tp[label] / union[label]).item() if union[label] > 0 else None for label in scored}
    labelled = c[scored].sum()
    return {
        "iou": iou,
        "miou": mean_of_known(iou.values()),
        "pixel_accuracy": (tp[scored].sum() / labelled).item() if labelled > 0 else None,
    }


def mean_of_known(values):
    """The mean of the values that are not None (a score undefined for a class leaves it out);
    None where none is."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def items_scored(result: dict) -> str:
    """"(2 items: the test split)": how many items a result scored and, if recorded, which part
    of the data they are."""
    split = result.get("split")
    part = "" if split is None else ": all the data" if split == "all" else f": the {split} split"
    return f"({result['items']} item{'' if result['items'] == 1 else 's'}{part})"
