"""The one image-mask pair OSMIS learns from, and the label set that maps the generator's mask
channels to CVRG-Pano labels (only the labels the mask actually has get a channel)."""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from panosis_models.data import World, render_panorama
from panosis_models.data.datasets import derive_seed, read_pair


@dataclass
class TrainingPair:
    """``image`` (3, H, W) in [-1, 1], ``labels`` (H, W) CVRG-Pano label ids, ``label_set`` the
    sorted labels it contains (channel c of a mask means label ``label_set[c]``)."""
    image: torch.Tensor
    labels: torch.Tensor
    label_set: tuple

    @classmethod
    def from_unit_image(cls, image: torch.Tensor, labels: torch.Tensor) -> "TrainingPair":
        labels = labels.long()
        return cls(image * 2 - 1, labels, tuple(int(v) for v in labels.unique()))

    def one_hot(self) -> torch.Tensor:
        """(N, H, W) float one-hot mask over the label set."""
        return F.one_hot(to_channels(self.labels, self.label_set), len(self.label_set)).movedim(-1, 0).float()

    def pyramid(self, levels: int) -> list:
        """The image at ``levels`` scales, coarse to fine, each half the previous side (area
        averaging): what the generator's multi-scale outputs are compared with."""
        scales = [self.image[None]]
        for _ in range(levels - 1):
            scales.insert(0, F.avg_pool2d(scales[0], 2))
        return scales


def to_channels(labels: torch.Tensor, label_set) -> torch.Tensor:
    """Label ids -> channel indices of ``label_set`` (an unknown label is an error)."""
    lookup = torch.full((max(label_set) + 1,), -1, dtype=torch.long, device=labels.device)
    lookup[list(label_set)] = torch.arange(len(label_set), device=labels.device)
    if labels.min() < 0 or labels.max() > max(label_set) or (lookup[labels] < 0).any():
        raise ValueError(f"labels {sorted(set(labels.unique().tolist()) - set(label_set))} are not "
                         f"in the label set {list(label_set)}")
    return lookup[labels]


def to_labels(channels: torch.Tensor, label_set) -> torch.Tensor:
    """Channel indices -> CVRG-Pano label ids."""
    return torch.tensor(label_set, device=channels.device)[channels]


def load_pair(image_path, mask_path, size) -> TrainingPair:
    """The pair from PNG files (an index or a palette-colour mask, told apart by the PNG's
    mode), resized to ``size`` = (H, W)."""
    return TrainingPair.from_unit_image(*read_pair(image_path, mask_path, colour=None, size=size))


def synthetic_pair(seed: int, size) -> TrainingPair:
    """A rendered street panorama (its world drawn from ``seed``, apart from the worlds of the
    synthetic data sets)."""
    image, labels = render_panorama(World.random(derive_seed("osmis-pair", seed)), *size)
    return TrainingPair.from_unit_image((image * 255).round() / 255, labels)


def training_pair(cfg) -> TrainingPair:
    """The pair an OSMIS run (its ``OsmisConfig``) learns from, at the run's size."""
    if cfg.image is None:
        return synthetic_pair(cfg.pair_seed, cfg.size)
    return load_pair(cfg.image, cfg.mask, cfg.size)
