"""One-shot episodes over fine-labelled panoramas, PASCAL-5i style: the 19 Cityscapes classes
in 4 folds; for fold i its classes are novel (test only) and the others base (training).

An episode is a class, ``shots`` support panoramas that show it with its binary mask, and a
query panorama that shows it with its binary target. Every other class is background, so a
training episode (base classes only) never shows a novel class as foreground. A panorama
"shows" a class when it covers at least ``MIN_SHARE`` of the pixels.

The folds take every fourth train id, so each mixes frequent stuff and rare things. The
renderer makes all 19 classes, but at 64x128 the small ones seldom cover MIN_SHARE: of the 200
training panoramas (seed 0), road, sidewalk, building and sky show in all, vegetation in 180,
terrain 156, car 108, fence 106, pole 102, wall 96, truck and train 33, bus 23, person 22,
traffic lights and signs, motorcycles and bicycles in 3-5 and riders in 1. Fold 0's rider thus
gets no test episodes, and the rarest base classes few distinct panoramas.
"""
import random

import torch
from torch.utils.data import Dataset

from panosis_models.data.cityscapes import (BICYCLE, BUILDING, BUS, CAR, FENCE, MOTORCYCLE, NUM_FINE,
                                            PERSON_FINE, POLE, RIDER, ROAD, SIDEWALK, SKY_FINE, TERRAIN,
                                            TRAFFIC_LIGHT, TRAFFIC_SIGN, TRAIN, TRUCK, VEGETATION, VOID, WALL)
from panosis_models.data.datasets import derive_seed
from panosis_models.errors import InputError

FOLDS = (
    (ROAD, FENCE, VEGETATION, RIDER, TRAIN),
    (SIDEWALK, POLE, TERRAIN, CAR, MOTORCYCLE),
    (BUILDING, TRAFFIC_LIGHT, SKY_FINE, TRUCK, BICYCLE),
    (WALL, TRAFFIC_SIGN, PERSON_FINE, BUS),
)
MIN_SHARE = 0.002  # of a panorama's pixels, for it to show a class
IGNORE = VOID      # binary targets: 0 background, 1 foreground, IGNORE void (never scored)


def check_fold(fold: int) -> int:
    if fold not in range(len(FOLDS)):
        raise ValueError(f"fold must be one of 0..{len(FOLDS) - 1}, got {fold!r}")
    return fold


def novel_classes(fold: int) -> tuple:
    return FOLDS[check_fold(fold)]


def base_classes(fold: int) -> tuple:
    return tuple(c for c in range(NUM_FINE) if c not in novel_classes(fold))


def binary_target(fine: torch.Tensor, cls: int, ignore=()) -> torch.Tensor:
    """Train ids (H, W) -> 1 where ``cls``, 0 elsewhere, IGNORE where void or one of ``ignore``
    (int64)."""
    void = fine == VOID
    for other in ignore:
        void |= fine == other
    return torch.where(void, IGNORE, (fine == cls).long())


def holders(dataset: Dataset, classes) -> dict:
    """{class: sorted indices of the panoramas of ``dataset`` (fine masks) that show it}, for
    each of ``classes``; reads every item once."""
    found = {c: [] for c in classes}
    for index in range(len(dataset)):
        fine = dataset[index][1]
        counts = torch.bincount(fine[fine != VOID].reshape(-1), minlength=NUM_FINE)
        for c in classes:
            if counts[c] >= MIN_SHARE * fine.numel():
                found[c].append(index)
    return found


class Episodes(Dataset):
    """``num`` episodes of ``classes`` over ``dataset`` (items (image, fine mask)), episode i
    drawn from ``derive_seed(seed, i)``: a class shown by at least ``shots + 1`` panoramas, then
    ``shots`` distinct supports and a query apart from them. Items are (support images (k, 3,
    H, W), support masks (k, H, W) float in {0, 1}, query image (3, H, W), query target (H, W),
    class). Query pixels of the ``ignore`` classes (a fold's novel classes in training) are
    IGNORE in the target, not background. ``index`` (from ``holders``) may be passed to share one scan between data sets. With no
    class shown often enough, an InputError ends with ``more``: how to get more panoramas (a
    command names its flag)."""

    def __init__(self, dataset: Dataset, classes, num: int, seed: int, shots: int = 1, index: dict = None,
                 more: str = "render more", ignore=()):
        if shots < 1:
            raise ValueError(f"shots must be at least 1, got {shots}")
        index = holders(dataset, classes) if index is None else index
        self.classes = tuple(c for c in classes if len(index.get(c, ())) > shots)
        if not self.classes:
            raise InputError(f"no class of {tuple(classes)} is shown by more than {shots} of the "
                             f"{len(dataset)} panoramas: {more}")
        self.dataset, self.num, self.seed, self.shots, self.index = dataset, num, seed, shots, index
        self.ignore = tuple(ignore)

    def __len__(self):
        return self.num

    def draw(self, i: int) -> tuple:
        """(class, support indices, query index) of episode ``i``."""
        rng = random.Random(derive_seed(self.seed, i))
        cls = rng.choice(self.classes)
        *supports, query = rng.sample(self.index[cls], self.shots + 1)
        return cls, supports, query

    def __getitem__(self, i: int):
        if not 0 <= i < self.num:
            raise IndexError(f"episode {i} out of range for {self.num} episodes")
        cls, supports, query = self.draw(i)
        images, masks = zip(*(self.dataset[s] for s in supports))
        query_image, query_fine = self.dataset[query]
        support_masks = torch.stack([(m == cls).float() for m in masks])
        return torch.stack(images), support_masks, query_image, binary_target(query_fine, cls, self.ignore), cls


def support_pairs(index: dict, classes, per_class: int, queries: int, seed: int) -> list:
    """Fixed one-shot test pairs for comparing methods: for each of ``classes`` shown by more
    than ``queries`` panoramas (``index`` from ``holders``), ``per_class`` distinct support
    panoramas, each with ``queries`` query panoramas apart from it; [(class, support, [queries])]
    in class order, drawn from ``seed``."""
    rng, pairs = random.Random(derive_seed("support pairs", seed)), []
    for cls in classes:
        shown = index.get(cls, [])
        if len(shown) <= queries:
            continue
        for support in rng.sample(shown, min(per_class, len(shown))):
            pairs.append((cls, support, rng.sample([i for i in shown if i != support], queries)))
    return pairs
