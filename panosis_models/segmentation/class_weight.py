"""Class weights for the cross-entropy, so that a class drawn on few pixels of the training data
(a strip of vegetation in one panorama) still pulls on the network as much as the sky does.

``balanced`` is scikit-learn's rule applied to pixels: a class seen on ``n_c`` of the ``N``
labelled pixels, one of ``K`` classes seen at all, weighs ``N / (K * n_c)``; every seen class then
contributes the same total weight. Classes the data never shows weigh 1 (no pixel carries them).
"""
import torch
from torch.utils.data import Dataset

from panosis_models.errors import InputError

CLASS_WEIGHTS = ("balanced",)


def check_class_weight(name) -> None:
    if name is not None and name not in CLASS_WEIGHTS:
        raise InputError(f"class_weight must be None or one of {CLASS_WEIGHTS}, got {name!r}")


def pixel_counts(dataset: Dataset, num_classes: int) -> torch.Tensor:
    """Pixels of each class over the masks of ``dataset`` (items ``(image, mask, ...)``); labels
    outside ``[0, num_classes)`` (void) are not counted."""
    counts = torch.zeros(num_classes, dtype=torch.float64)
    for item in dataset:
        mask = torch.as_tensor(item[1]).long().flatten()
        counts += torch.bincount(mask[(mask >= 0) & (mask < num_classes)], minlength=num_classes).double()
    return counts


def balanced(counts: torch.Tensor) -> torch.Tensor:
    """``N / (K * n_c)`` for the seen classes, 1 for the others (float32)."""
    seen = counts > 0
    if not seen.any():
        raise InputError("class_weight='balanced' needs training masks with at least one labelled pixel")
    weights = torch.ones_like(counts)
    weights[seen] = counts.sum() / (seen.sum() * counts[seen])
    return weights.float()


def class_weights(name, dataset: Dataset, num_classes: int):
    """The cross-entropy's ``weight`` for the rule ``name`` on ``dataset``; None for no rule."""
    check_class_weight(name)
    return None if name is None else balanced(pixel_counts(dataset, num_classes))
