"""Panoptic-DeepLab's training targets measured on the sphere, from an instance map (Cityscapes
``instanceIds``): each thing instance's centre, a Gaussian heatmap around the centres and every
thing pixel's offset to its instance's centre.

- The centre is the centre of mass on the sphere: the mean of the pixels' unit vectors weighted
  by their solid angles, turned back into latitude and longitude (then into the nearest pixel,
  as Panoptic-DeepLab rounds its centres). A car split by the +-180 degree seam into pieces at
  both edges has its centre beside the seam, not in the middle of the image.
- Offsets (row, column) in pixels point from a pixel to its centre; columns go the short way
  round, so they lie in [-W/2, W/2).
- The heatmap is exp(-d^2 / 2 sigma^2) with d in pixels, columns measured the short way round
  (it wraps across the seam). Panoptic-DeepLab's sigma is 8 px; here 8 px belongs to the
  ``full`` setting's 512-px-wide panoramas (5.625 degrees) and scales with the width (2 px at
  64x128), so a centre blob spans the same angle at every resolution (distances stay in pixels:
  near the poles a blob is narrower on the sphere in longitude than in latitude)."""
import torch

import equiconv

from .cityscapes import INSTANCE_STRIDE
from .render import panorama_directions

SIGMA = 8.0          # px, Panoptic-DeepLab's
SIGMA_WIDTH = 512    # px: the panorama width SIGMA belongs to (the full setting's)


def sigma_for(width: int) -> float:
    """The heatmap's sigma in pixels for panoramas ``width`` px wide."""
    return SIGMA * width / SIGMA_WIDTH


def wrap_columns(dx: torch.Tensor, width: int) -> torch.Tensor:
    """Column differences the short way round: into [-width/2, width/2)."""
    return torch.remainder(dx + width / 2, width) - width / 2


def instance_centres(instances: torch.Tensor):
    """(ids (K,), rows (K,), columns (K,)) int64 of the thing instances of an (H, W) map
    (ids from ``INSTANCE_STRIDE`` up), each at the pixel nearest its centre of mass on the
    sphere."""
    height, width = instances.shape
    ids, index = torch.unique(instances.long(), return_inverse=True)
    weighted = panorama_directions(height, width).double() * equiconv.solid_angle(height, width)[..., None]
    sums = torch.zeros(len(ids), 3, dtype=torch.float64).index_add_(0, index.reshape(-1), weighted.reshape(-1, 3))
    things = ids >= INSTANCE_STRIDE
    ids, sums = ids[things], sums[things]
    x, y, z = (sums / sums.norm(dim=1, keepdim=True)).unbind(1)  # x east, y north, z up
    phi, lam = torch.asin(z.clamp(-1, 1)).rad2deg(), torch.atan2(x, y).rad2deg()
    rows = ((90 - phi) * height / 180 - 0.5).round().clamp(0, height - 1).long()
    columns = ((lam + 180) * width / 360 - 0.5).round().long() % width
    return ids, rows, columns


def panoptic_targets(instances: torch.Tensor, sigma: float = None):
    """(heatmap (1, H, W) float32 in [0, 1], offsets (2, H, W) float32: rows then columns, zero
    off thing instances) of an (H, W) instance map; ``sigma`` in pixels defaults to
    ``sigma_for(W)``."""
    if instances.dim() != 2:
        raise ValueError(f"instances must be an (H, W) map, got shape {tuple(instances.shape)}")
    height, width = instances.shape
    sigma = sigma_for(width) if sigma is None else sigma
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    ids, rows, columns = instance_centres(instances)
    y = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width)
    x = torch.arange(width, dtype=torch.float32)[None, :].expand(height, width)
    heatmap = torch.zeros(height, width)
    offsets = torch.zeros(2, height, width)
    for k, row, column in zip(ids.tolist(), rows.float(), columns.float()):
        dy, dx = y - row, wrap_columns(x - column, width)
        heatmap = torch.maximum(heatmap, torch.exp(-(dy ** 2 + dx ** 2) / (2 * sigma ** 2)))
        mine = instances == k
        offsets[0][mine], offsets[1][mine] = -dy[mine], -dx[mine]
    return heatmap[None], offsets


class PanopticTargets:
    """Transform ``(image, fine, instances) -> (image, fine, instances, heatmap, offsets)``: the
    targets of the (augmented) item, for ``Transformed``."""

    def __init__(self, sigma: float = None):
        self.sigma = sigma

    def __call__(self, image, fine, instances):
        return (image, fine, instances, *panoptic_targets(instances, self.sigma))

