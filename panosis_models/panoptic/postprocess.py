"""From Panoptic-DeepLab's outputs to a panoptic map (Cityscapes ``instanceIds``: a thing pixel
``train_id * 1000 + k``, a stuff pixel its train id, void 255), on the sphere:

- centres are heatmap peaks above a threshold (0.1) kept by max-pool non-maximum suppression
  over a window padded the way the sphere continues (columns wrap across the seam, rows cross
  the poles), the ``top_k`` (200) strongest;
- each thing pixel joins the centre nearest to where its offset points, columns measured the
  short way round, and an instance takes the majority class of its pixels;
- stuff pixels keep the semantic map's class; thing pixels with no centre at all become void.

The window is Panoptic-DeepLab's 7 px at the ``full`` setting's 512-px width, scaled with the
width like the heatmap's sigma (an odd size, at least 3)."""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import equiconv
from panosis_models.data.cityscapes import INSTANCE_STRIDE, THINGS, VOID
from panosis_models.errors import InputError
from panosis_models.data.panoptic_targets import SIGMA_WIDTH, wrap_columns
from panosis_models.panoptic.components import connected_components

THRESHOLD = 0.1
WINDOW = 7       # px at SIGMA_WIDTH
TOP_K = 200


def window_for(width: int) -> int:
    """The suppression window (odd, at least 3) for panoramas ``width`` px wide."""
    return max(3, 2 * round((WINDOW * width / SIGMA_WIDTH - 1) / 2) + 1)


def find_centres(heatmap: torch.Tensor, threshold: float = THRESHOLD, window: int = None,
                 top_k: int = TOP_K) -> torch.Tensor:
    """(K, 2) int64 (row, column) of the peaks of an (H, W) heatmap, strongest first."""
    if heatmap.dim() != 2:
        raise ValueError(f"heatmap must be (H, W), got shape {tuple(heatmap.shape)}")
    window = window_for(heatmap.shape[-1]) if window is None else window
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd size, got {window!r}")
    padded = equiconv.functional.pad(heatmap[None, None].float(), window // 2)
    pooled = F.max_pool2d(padded, window, stride=1)[0, 0]
    peaks = ((heatmap == pooled) & (heatmap > threshold)).nonzero()
    order = heatmap[peaks[:, 0], peaks[:, 1]].argsort(descending=True, stable=True)
    return peaks[order[:top_k]]


def _check_shapes(semantic: torch.Tensor, heatmap: torch.Tensor, offsets: torch.Tensor) -> None:
    height, width = semantic.shape
    if heatmap.shape != semantic.shape or offsets.shape != (2, height, width):
        raise ValueError(f"heatmap must be (H, W) and offsets (2, H, W) for semantic (H, W) = {(height, width)}, "
                         f"got {tuple(heatmap.shape)} and {tuple(offsets.shape)}")


def pointed_distance(thing: torch.Tensor, offsets: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(P, K) squared distances from where each of the P pixels of the (H, W) mask ``thing``
    points (its offsets (2, H, W)) to each centre (K, 2) float, columns the short way round."""
    rows, columns = thing.nonzero().unbind(1)
    pointed_row = rows + offsets[0][thing].float()
    pointed_column = columns + offsets[1][thing].float()
    return ((pointed_row[:, None] - centres[None, :, 0]) ** 2
            + wrap_columns(pointed_column[:, None] - centres[None, :, 1], thing.shape[1]) ** 2)


def panoptic_map(semantic: torch.Tensor, heatmap: torch.Tensor, offsets: torch.Tensor, things: tuple = THINGS,
                 threshold: float = THRESHOLD, window: int = None, top_k: int = TOP_K) -> torch.Tensor:
    """An (H, W) int64 instance map from a semantic label map (H, W) (labels, ``things`` those
    with instances; void 255 stays void), a centre heatmap (H, W) and offsets (2, H, W) (rows,
    columns, in pixels)."""
    _check_shapes(semantic, heatmap, offsets)
    semantic = semantic.long()
    out = semantic.clone()
    thing = torch.isin(semantic, torch.tensor(things, device=semantic.device))
    centres = find_centres(heatmap, threshold, window, top_k).to(semantic.device).float()
    if not len(centres):
        out[thing] = VOID
        return out
    owner = pointed_distance(thing, offsets, centres).argmin(1)
    classes = max(things) + 1
    votes = torch.bincount(owner * classes + semantic[thing], minlength=len(centres) * classes)
    majority = votes.view(len(centres), classes).argmax(1)
    present = torch.bincount(owner, minlength=len(centres)) > 0
    # k counts the instances of each class in the order of the centres (strongest first)
    same_class_before = (majority[None, :] == majority[:, None]) & present[None, :]
    k = torch.tril(same_class_before, diagonal=-1).sum(1)
    out[thing] = (majority * INSTANCE_STRIDE + k)[owner]
    return out


def split_components(semantic: torch.Tensor, heatmap: torch.Tensor, offsets: torch.Tensor, things: tuple = THINGS,
                     threshold: float = THRESHOLD, window: int = None, top_k: int = TOP_K) -> torch.Tensor:
    """Like ``panoptic_map``, but each connected region of a thing class (``connected_components``,
    across the seam) is one instance unless two or more centres belong to it -- a centre belongs
    to the region most of the pixels pointing to it lie in; then its pixels join the nearest of
    its own centres. A region without a centre stays an instance: the heads only split what
    connected components would merge, so a missed or stray centre costs nothing."""
    _check_shapes(semantic, heatmap, offsets)
    regions = connected_components(semantic, things)
    thing = regions >= INSTANCE_STRIDE
    centres = find_centres(heatmap, threshold, window, top_k).to(semantic.device).float()
    if len(centres) < 2 or not thing.any():
        return regions
    region_ids, region = torch.unique(regions[thing], return_inverse=True)
    distance = pointed_distance(thing, offsets, centres)
    votes = torch.bincount(distance.argmin(1) * len(region_ids) + region, minlength=len(centres) * len(region_ids))
    votes = votes.view(len(centres), len(region_ids))
    centre_region = torch.where(votes.amax(1) > 0, votes.argmax(1), -1)
    distance[region[:, None] != centre_region[None, :]] = float("inf")
    split = (centre_region[None, :] == region[:, None]).sum(1) >= 2
    owner = torch.where(split, distance.argmin(1), -1)
    key = region * (len(centres) + 1) + owner + 1
    keys, instance = torch.unique(key, return_inverse=True)  # sorted: by region, so by class
    label = region_ids[keys // (len(centres) + 1)] // INSTANCE_STRIDE
    k = torch.arange(len(keys), device=label.device) - torch.searchsorted(label, label)
    out = regions.clone()
    out[thing] = (label * INSTANCE_STRIDE + k)[instance]
    return out


GROUPINGS = {"centres": panoptic_map, "split-components": split_components}


@dataclass(frozen=True)
class PostProcessing:
    """How the heads' outputs become a panoptic map: the grouping of ``GROUPINGS`` and its
    centre threshold and suppression window (None: ``window_for`` the width)."""
    grouping: str = "centres"
    threshold: float = THRESHOLD
    window: int = None

    def __post_init__(self):
        if self.grouping not in GROUPINGS:
            raise InputError(f"grouping must be one of {tuple(GROUPINGS)}, got {self.grouping!r}")
        if not 0 <= self.threshold < 1:
            raise InputError(f"threshold must lie in [0, 1), got {self.threshold!r}")
        if self.window is not None and (self.window < 1 or self.window % 2 == 0):
            raise InputError(f"window must be a positive odd size, got {self.window!r}")

    @torch.no_grad()
    def __call__(self, outputs: dict, things: tuple = THINGS) -> torch.Tensor:
        """(B, H, W) instance maps from a batch of the network's outputs ({"semantic", "center",
        "offset"}), ``things`` the labels with instances."""
        group = GROUPINGS[self.grouping]
        semantic = outputs["semantic"].argmax(1)
        return torch.stack([group(s, c[0], o, things, self.threshold, self.window)
                            for s, c, o in zip(semantic, outputs["center"].float(), outputs["offset"].float())])
