"""One-shot scores as OSLSM reports them: per class, the foreground IoU of all its test
episodes' pixels together (one confusion per class, not a mean over episodes), their mean over
the fold's classes, and FB-IoU (per class the mean of foreground and background IoU, then the
mean over classes); each per pixel and area-weighted (solid angles). k-shot predictions join k
one-shot logit maps by OR-ing their masks or by averaging the logits."""
import torch

from panosis_models.data.episodes import IGNORE
from panosis_models.engine import distributed
from panosis_models.metrics import Level, scores
from panosis_models.sphere_metrics import SphereConfusion

BINARY = Level("binary", ("background", "foreground", "void"), ignore=2, void=IGNORE, num_outputs=2)
AGGREGATIONS = ("or", "mean")  # k one-shot masks OR-ed (OSLSM), or the mean of their logits


def aggregate(logits: torch.Tensor, how: str = "or") -> torch.Tensor:
    """k one-shot logit maps (k, N, H, W) -> one foreground mask (N, H, W) bool."""
    if how not in AGGREGATIONS:
        raise ValueError(f"how must be one of {AGGREGATIONS}, got {how!r}")
    if logits.dim() != 4:
        raise ValueError(f"logits must be (k, N, H, W), got shape {tuple(logits.shape)}")
    return (logits > 0).any(0) if how == "or" else logits.mean(0) > 0


class EpisodeScores:
    """Per-class binary confusions (pixels and steradians, per latitude band) of ``classes``."""

    def __init__(self, classes):
        self.confusions = {int(c): SphereConfusion(BINARY) for c in classes}

    def add(self, cls: int, prediction: torch.Tensor, target: torch.Tensor) -> None:
        """One episode's (or a batch of one class's) foreground masks (B, H, W) against targets
        (0, 1, IGNORE)."""
        if int(cls) not in self.confusions:
            raise ValueError(f"class {cls} is not one of the scored classes {tuple(self.confusions)}")
        self.confusions[int(cls)].add(prediction.long(), target)

    def sum_over_processes(self, ctx: distributed.Context) -> None:
        for confusion in self.confusions.values():
            confusion.counts = distributed.sum_over_processes(confusion.counts, ctx)
            confusion.areas = distributed.sum_over_processes(confusion.areas, ctx)

    def report(self) -> dict:
        """{"pixel": ..., "area": ...} each {"iou": {class: foreground IoU}, "miou", "fb_iou"}
        over the classes that had episodes (None where undefined)."""
        result = {}
        for kind, matrix in (("pixel", lambda c: c.pixel_confusion()), ("area", lambda c: c.areas.sum(0))):
            per_class = {c: scores(matrix(conf), BINARY)["iou"] for c, conf in self.confusions.items()
                         if conf.counts.sum() > 0}
            fg = {c: iou[1] for c, iou in per_class.items()}
            known = [v for v in fg.values() if v is not None]
            fb = [(iou[0] + iou[1]) / 2 for iou in per_class.values() if None not in (iou[0], iou[1])]
            result[kind] = {"iou": fg, "miou": sum(known) / len(known) if known else None,
                            "fb_iou": sum(fb) / len(fb) if fb else None}
        return result
