"""Metrics that respect the sphere: an equirectangular pixel near a pole is a sliver of sphere,
one at the equator a large patch. ``SphereConfusion`` keeps, per latitude band (|phi| 0-30,
30-60, 60-90 degrees), a confusion matrix in pixels and one in steradians (each pixel weighted by
its solid angle), from which the standard, the area-weighted and the per-band scores follow."""
import torch

import equiconv
from panosis_models.metrics import CATEGORY, FINE, Level, coarsen, scores

BANDS = ((0, 30), (30, 60), (60, 90))  # |latitude| in degrees


def band_name(band) -> str:
    return f"{band[0]}-{band[1]}"


def latitude_bands(height: int) -> torch.Tensor:
    """(H,) int64 band of each panorama row, by the |latitude| of its pixel centres."""
    phi = (90.0 - (torch.arange(height, dtype=torch.float64) + 0.5) * 180.0 / height).abs()
    edges = torch.tensor([hi for _, hi in BANDS[:-1]], dtype=torch.float64)
    return torch.bucketize(phi, edges, right=True)


def pixel_areas(height: int, width: int) -> torch.Tensor:
    """(H,) float64 solid angle (steradians) of one pixel of each row of a full panorama."""
    return equiconv.solid_angle(height, width, lat_range=(90.0, -90.0), lon_span=360.0,
                                dtype=torch.float64, device="cpu")[:, 0]


class SphereConfusion:
    """Confusion matrices of panoramas (B, H, W) per latitude band: ``counts`` int64 and
    ``areas`` float64 (steradians), each (bands, size, size). Images that are not 2:1 (e.g.
    perspective views) still count in pixels, but then the sphere's figures are withheld."""

    def __init__(self, level: Level = CATEGORY):
        self.level = level
        shape = (len(BANDS), level.size, level.size)
        self.counts = torch.zeros(shape, dtype=torch.int64)
        self.areas = torch.zeros(shape, dtype=torch.float64)
        self.panoramic = True

    def add(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        if prediction.shape != target.shape or target.ndim != 3:
            raise ValueError(f"prediction and target must both be (B, H, W), got "
                             f"{tuple(prediction.shape)} and {tuple(target.shape)}")
        height, width = target.shape[1:]
        self.panoramic &= width == 2 * height
        size, rows = self.level.size, self.level.target_indices(target)
        band = latitude_bands(height).to(target.device)[None, :, None].expand_as(target)
        index = band * (size * size) + rows * size + self.level.indices(prediction).clamp(0, size - 1)
        count = len(BANDS) * size * size
        self.counts += torch.bincount(index.reshape(-1), minlength=count).view_as(self.counts).cpu()
        weight = pixel_areas(height, width).to(target.device)[None, :, None].expand_as(target)
        self.areas += torch.bincount(index.reshape(-1), weights=weight.reshape(-1),
                                     minlength=count).view_as(self.areas).cpu()

    def pixel_confusion(self) -> torch.Tensor:
        """The standard (level.size, level.size) pixel-count matrix over all bands."""
        return self.counts.sum(0)

    def coarsened(self) -> "SphereConfusion":
        """The category-level figures of a fine-level confusion."""
        if self.level is not FINE:
            raise ValueError(f"only fine-level confusions coarsen, this one is {self.level.name!r}")
        out = SphereConfusion(CATEGORY)
        out.counts, out.areas, out.panoramic = coarsen(self.counts), coarsen(self.areas), self.panoramic
        return out

    def report(self) -> dict:
        """{"pixel": scores, "area": scores, "bands": {"0-30": {"pixel", "area"}, ...}}; on a
        non-panoramic data set "area" and "bands" are None."""
        result = {"pixel": scores(self.pixel_confusion(), self.level), "area": None, "bands": None}
        if self.panoramic:
            result["area"] = scores(self.areas.sum(0), self.level)
            result["bands"] = {band_name(band): {"pixel": scores(self.counts[b], self.level),
                                                 "area": scores(self.areas[b], self.level)}
                               for b, band in enumerate(BANDS)}
        return result

    def reports(self) -> dict:
        """``report()`` per level the data has: {"fine": ..., "category": ...} or
        {"category": ...}."""
        if self.level is FINE:
            return {"fine": self.report(), "category": self.coarsened().report()}
        return {self.level.name: self.report()}
