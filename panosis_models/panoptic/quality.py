"""Panoptic quality (Kirillov et al. 2019) of instance maps in the Cityscapes ``instanceIds``
convention, with panopticapi's rules, per pixel and area-weighted (each pixel counted with its
solid angle), and the seam figure.

Per image, every id is a segment (void 255 is none; a thing's bare train id is a crowd region).
A predicted and a true segment match when they have the same class and IoU > 0.5, where the
predicted segment's pixels on true void leave both its area and the union; matches are then
unique. Unmatched true segments are false negatives (crowd regions never are); an unmatched
predicted segment is a false positive unless more than half of it lies on true void or on a
crowd region of its class. Per class PQ = sum of matched IoUs / (TP + FP/2 + FN/2) = SQ x RQ;
averages over the classes that occur (TP + FP + FN > 0), all, things and stuff.

The area-weighted variant runs the same rules on areas in steradians (IoUs, the IoU > 0.5 test,
the half-void test). The seam figure: of the true thing instances with pixels in both the first
and the last column (crossing the +-180 degree seam), how many are matched, i.e. come out as
one predicted instance.

Deliberate difference from torchmetrics' PanopticQuality: torchmetrics does not count as a false
negative a true segment that the prediction leaves more than half void; panopticapi (and this
module) does. torchmetrics knows no crowd regions either. Elsewhere the two agree (tested).

Things too small to see: beside the figures over all instances, the same figures over the
instances of at least ``MIN_AREA`` (16) pixels, the smaller true instances turned into crowd
regions of their class (``small_as_crowd``), so that by panopticapi's crowd rule a prediction on
one is neither a true nor a false positive, and missing one costs nothing."""
import torch

from panosis_models.data.cityscapes import INSTANCE_STRIDE, VOID, check_instances, fine_from_instances
from panosis_models.engine import distributed
from panosis_models.panoptic.levels import FINE, PanopticLevel
from panosis_models.sphere_metrics import pixel_areas

TP, FP, FN, IOU = range(4)  # columns of the per-class statistics
MIN_AREA = 16  # pixels: smaller true instances are scored as crowd regions in the "visible" figures
# An IoU of exactly 0.5 is no match, but sums of pixel areas round: a segment split into two equal
# halves gave both halves IoU 0.5 + 1 ulp (two matches, or a crash). Any true IoU above 0.5 is
# more than 1/(2 x pixels) above it, far beyond this margin.
TIE = 1e-9


def groups(level: PanopticLevel) -> dict:
    """The classes of ``level`` the averages run over: all, things, stuff."""
    every = tuple(range(level.num_classes))
    return {"all": every, "things": level.things, "stuff": tuple(c for c in every if c not in level.things)}


def segment_statistics(prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor = None,
                       level: PanopticLevel = FINE):
    """((classes, 4) float64 per-class TP, FP, FN and sum of matched IoUs, ids of the true
    segments matched) of one (H, W) pair of instance maps at ``level``; ``weight`` (broadcast to
    (H, W)) is each pixel's area, 1 by default."""
    if prediction.shape != target.shape or target.dim() != 2:
        raise ValueError(f"prediction and target must both be (H, W), got {tuple(prediction.shape)} "
                         f"and {tuple(target.shape)}")
    check_instances(target, level.num_classes, level.things)
    check_instances(prediction, level.num_classes, level.things)
    weight = torch.ones(()) if weight is None else weight
    weight = torch.broadcast_to(weight, target.shape).reshape(-1).double().cpu()
    true_ids, true_index = torch.unique(target.long().reshape(-1).cpu(), return_inverse=True)
    pred_ids, pred_index = torch.unique(prediction.long().reshape(-1).cpu(), return_inverse=True)
    overlap = torch.zeros(len(true_ids), len(pred_ids), dtype=torch.float64)
    overlap.index_put_((true_index, pred_index), weight, accumulate=True)
    true_area, pred_area = overlap.sum(1), overlap.sum(0)
    true_class, pred_class = fine_from_instances(true_ids), fine_from_instances(pred_ids)
    true_void, pred_void = true_ids == VOID, pred_ids == VOID
    is_thing = torch.zeros(level.num_classes + 1, dtype=torch.bool)
    is_thing[list(level.things)] = True
    crowd = (true_ids < INSTANCE_STRIDE) & is_thing[true_class.clamp(max=level.num_classes)] & ~true_void
    on_void = overlap[true_void].sum(0)
    same_class = true_class[:, None] == pred_class[None, :]
    union = true_area[:, None] + pred_area[None, :] - overlap - on_void[None, :]
    iou = torch.where(union > 0, overlap / union.clamp_min(1e-300), torch.zeros_like(union))
    candidates = same_class & ~(true_void | crowd)[:, None] & ~pred_void[None, :]
    match = candidates & (iou > 0.5 + TIE)
    stats = torch.zeros(level.num_classes, 4, dtype=torch.float64)
    true_hit, pred_hit = match.any(1), match.any(0)
    matched_class = true_class[true_hit]
    stats[:, TP].index_add_(0, matched_class, torch.ones(len(matched_class), dtype=torch.float64))
    stats[:, IOU].index_add_(0, matched_class, iou[match])
    missed = ~true_hit & ~true_void & ~crowd
    stats[:, FN].index_add_(0, true_class[missed], torch.ones(int(missed.sum()), dtype=torch.float64))
    on_crowd = (overlap * (crowd[:, None] & same_class)).sum(0)
    false = ~pred_hit & ~pred_void & ((on_void + on_crowd) <= 0.5 * pred_area)
    stats[:, FP].index_add_(0, pred_class[false], torch.ones(int(false.sum()), dtype=torch.float64))
    return stats, set(true_ids[true_hit].tolist())


def small_as_crowd(target: torch.Tensor, min_area: int = MIN_AREA) -> torch.Tensor:
    """``target`` (H, W) with every thing instance of fewer than ``min_area`` pixels turned into a
    crowd region of its class (its bare label)."""
    ids, counts = torch.unique(target, return_counts=True)
    small = ids[(ids >= INSTANCE_STRIDE) & (counts < min_area)]
    if not len(small):
        return target
    hit = torch.isin(target, small)
    return torch.where(hit, target // INSTANCE_STRIDE, target)


def seam_instances(target: torch.Tensor) -> set:
    """Ids of the true thing instances of an (H, W) map with pixels in both the first and the
    last column."""
    first, last = set(target[:, 0].tolist()), set(target[:, -1].tolist())
    return {i for i in first & last if i >= INSTANCE_STRIDE}


def quality(stats: torch.Tensor, level: PanopticLevel = FINE) -> dict:
    """PQ, SQ, RQ (and TP, FP, FN) per class that occurs, and their means over all, things and
    stuff (None where no class of the group occurs)."""
    tp, fp, fn, iou = stats.unbind(1)
    denominator = tp + fp / 2 + fn / 2
    per_class = {}
    for c in range(level.num_classes):
        if denominator[c] > 0:
            sq = (iou[c] / tp[c]).item() if tp[c] > 0 else 0.0
            rq = (tp[c] / denominator[c]).item()
            per_class[level.names[c]] = {"pq": sq * rq, "sq": sq, "rq": rq, "tp": int(tp[c]), "fp": int(fp[c]),
                                        "fn": int(fn[c])}
    result = {"classes": per_class}
    for group, members in groups(level).items():
        present = [per_class[level.names[c]] for c in members if level.names[c] in per_class]
        result[group] = {name: (sum(p[name] for p in present) / len(present) if present else None)
                         for name in ("pq", "sq", "rq")}
        result[group]["classes"] = len(present)
    return result


class PanopticQuality:
    """Accumulates ``stats`` (2, classes, 4) float64 at ``level``, per pixel [0] and in steradians
    [1], the same over the instances of at least ``min_area`` pixels (``visible``), and ``seam``
    int64 (true seam-crossing instances matched, all of them) over batches of (B, H, W) instance
    maps. Images that are not 2:1 count in pixels only (the area figures are withheld)."""

    def __init__(self, level: PanopticLevel = FINE, min_area: int = MIN_AREA):
        self.level, self.min_area = level, min_area
        self.stats = torch.zeros(2, level.num_classes, 4, dtype=torch.float64)
        self.visible = torch.zeros(2, level.num_classes, 4, dtype=torch.float64)
        self.seam = torch.zeros(2, dtype=torch.int64)
        self.panoramic = True

    def add(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        if prediction.shape != target.shape or target.dim() != 3:
            raise ValueError(f"prediction and target must both be (B, H, W), got {tuple(prediction.shape)} "
                             f"and {tuple(target.shape)}")
        height, width = target.shape[1:]
        self.panoramic &= width == 2 * height
        areas = pixel_areas(height, width)[:, None]
        for predicted, true in zip(prediction, target):
            stats, matched = segment_statistics(predicted, true, level=self.level)
            self.stats[0] += stats
            self.stats[1] += segment_statistics(predicted, true, areas, self.level)[0]
            seen = small_as_crowd(true, self.min_area)
            self.visible[0] += segment_statistics(predicted, seen, level=self.level)[0]
            self.visible[1] += segment_statistics(predicted, seen, areas, self.level)[0]
            crossing = seam_instances(true)
            self.seam += torch.tensor([len(crossing & matched), len(crossing)])

    def report(self) -> dict:
        """{"pixel": quality, "area": quality or None, "seam": {"instances", "one", "share"},
        "visible": {"min_area", "pixel", "area"}}."""
        one, total = self.seam.tolist()
        return {"pixel": quality(self.stats[0], self.level),
                "area": quality(self.stats[1], self.level) if self.panoramic else None,
                "seam": {"instances": total, "one": one, "share": one / total if total else None},
                "visible": {"min_area": self.min_area, "pixel": quality(self.visible[0], self.level),
                            "area": quality(self.visible[1], self.level) if self.panoramic else None}}

    def sum_over_processes(self, ctx) -> None:
        """Every process's counts added up (``distributed.sum_over_processes``)."""
        for name in ("stats", "visible", "seam"):
            setattr(self, name, distributed.sum_over_processes(getattr(self, name), ctx))
