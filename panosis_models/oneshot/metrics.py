"""One-shot scores as OSLSM reports them: per class, the foreground IoU of all its test
episodes' pixels together (one confusion per class, not a mean over episodes), their mean over
the fold's classes, and FB-IoU (per class the mean of foreground and background IoU, then the
mean over classes); each per pixel and area-weighted (solid angles). k-shot predictions join k
one-shot logit maps by OR-ing their masks or by averaging the logits. Beside them, where asked,
how well the logits rank each class's foreground pixels above its background ones (the area
under the ROC curve), which no threshold enters: where it is low, no threshold can mend the
prediction. It weighs every pixel pair alike, so a small class's IoU, which rests on the pixels
ranked highest, can be low under a high AUC."""
import torch

from panosis_models.data.episodes import IGNORE
from panosis_models.engine import distributed
from panosis_models.metrics import Level, mean_of_known, scores
from panosis_models.sphere_metrics import SphereConfusion

BINARY = Level("binary", ("background", "foreground", "void"), ignore=2, void=IGNORE, num_outputs=2)
AGGREGATIONS = ("or", "mean")  # k one-shot masks OR-ed (OSLSM), or the mean of their logits
RANK_BINS, RANK_SPREAD = 8192, 32.0  # logit histograms: RANK_BINS bins over tanh(logit / RANK_SPREAD)


def aggregate(logits: torch.Tensor, how: str = "or") -> torch.Tensor:
    """k one-shot logit maps (k, N, H, W) -> one foreground mask (N, H, W) bool."""
    if how not in AGGREGATIONS:
        raise ValueError(f"how must be one of {AGGREGATIONS}, got {how!r}")
    if logits.dim() != 4:
        raise ValueError(f"logits must be (k, N, H, W), got shape {tuple(logits.shape)}")
    return (logits > 0).any(0) if how == "or" else logits.mean(0) > 0


def roc_auc(histogram: torch.Tensor):
    """Area under the ROC curve from (2, B) counts of background (row 0) and foreground (row 1)
    scores in B ordered bins, two scores in one bin counted as a tie (half); None without both."""
    negative, positive = histogram.double()
    if negative.sum() == 0 or positive.sum() == 0:
        return None
    below = torch.cumsum(negative, 0) - negative
    return float((positive * (below + negative / 2)).sum() / (positive.sum() * negative.sum()))


class EpisodeScores:
    """Per-class binary confusions (pixels and steradians, per latitude band) of ``classes``;
    with ``ranking``, per class also a histogram of the logits of its background and foreground
    pixels (``rank``): fixed memory for any number of episodes, summed over processes, the AUC
    exact up to ties within a bin (about 0.008 logit units wide near 0); with ``choices``, per
    class how many episodes a per-episode decision rule gave to each of its candidates (``choose``).
    """

    def __init__(self, classes, ranking: bool = False, choices: tuple = ()):
        self.confusions = {int(c): SphereConfusion(BINARY) for c in classes}
        self.ranks = {int(c): torch.zeros(2, RANK_BINS, dtype=torch.float64) for c in classes} if ranking else None
        self.choices = tuple(choices)
        self.chosen = {int(c): torch.zeros(len(self.choices), dtype=torch.float64) for c in classes} if choices else {}

    def add(self, cls: int, prediction: torch.Tensor, target: torch.Tensor) -> None:
        """One episode's (or a batch of one class's) foreground masks (B, H, W) against targets
        (0, 1, IGNORE)."""
        if int(cls) not in self.confusions:
            raise ValueError(f"class {cls} is not one of the scored classes {tuple(self.confusions)}")
        self.confusions[int(cls)].add(prediction.long(), target)

    def rank(self, cls: int, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Adds the logits (B, H, W) of one class's queries to its histograms by target (0, 1;
        IGNORE pixels left out)."""
        if self.ranks is None:
            raise ValueError("these scores were made without ranking=True")
        if int(cls) not in self.ranks:
            raise ValueError(f"class {cls} is not one of the scored classes {tuple(self.ranks)}")
        valid = target != IGNORE
        squashed = (torch.tanh(logits[valid].double() / RANK_SPREAD) + 1) / 2
        bins = (squashed * RANK_BINS).long().clamp_(0, RANK_BINS - 1)
        ones = torch.ones(bins.shape, dtype=torch.float64)
        self.ranks[int(cls)].index_put_((target[valid].long().cpu(), bins.cpu()), ones, accumulate=True)

    def choose(self, cls: int, chosen: torch.Tensor) -> None:
        """Counts one class's episodes (B,) by the index of the candidate each was given to."""
        if not self.choices:
            raise ValueError("these scores were made without choices")
        if int(cls) not in self.chosen:
            raise ValueError(f"class {cls} is not one of the scored classes {tuple(self.chosen)}")
        self.chosen[int(cls)] += torch.bincount(chosen.long().cpu(), minlength=len(self.choices)).double()

    def sum_over_processes(self, ctx: distributed.Context) -> None:
        for confusion in self.confusions.values():
            confusion.counts = distributed.sum_over_processes(confusion.counts, ctx)
            confusion.areas = distributed.sum_over_processes(confusion.areas, ctx)
        for cls, histogram in (self.ranks or {}).items():
            self.ranks[cls] = distributed.sum_over_processes(histogram, ctx)
        for cls, counts in self.chosen.items():
            self.chosen[cls] = distributed.sum_over_processes(counts, ctx)

    def report(self) -> dict:
        """{"pixel": ..., "area": ...} each {"iou": {class: foreground IoU}, "miou", "fb_iou"}
        over the classes that had episodes (None where undefined); with ranking, also "ranking":
        {"auc": {class: AUC}, "mean_auc"} (per pixel); with choices, also "choices": {candidate:
        {"episodes": {class: count}, "share"}}, the share over all classes' episodes."""
        result = {}
        for kind, matrix in (("pixel", lambda c: c.pixel_confusion()), ("area", lambda c: c.areas.sum(0))):
            per_class = {c: scores(matrix(conf), BINARY)["iou"] for c, conf in self.confusions.items()
                         if conf.counts.sum() > 0}
            fg = {c: iou[1] for c, iou in per_class.items()}
            fb = [(iou[0] + iou[1]) / 2 for iou in per_class.values() if None not in (iou[0], iou[1])]
            result[kind] = {"iou": fg, "miou": mean_of_known(fg.values()), "fb_iou": mean_of_known(fb)}
        if self.ranks is not None:
            auc = {c: roc_auc(h) for c, h in self.ranks.items() if h.sum() > 0}
            result["ranking"] = {"auc": auc, "mean_auc": mean_of_known(auc.values())}
        if self.choices:
            counted = {c: n for c, n in self.chosen.items() if n.sum() > 0}
            total = sum(float(n.sum()) for n in counted.values())
            result["choices"] = {name: {"episodes": {c: int(n[i]) for c, n in counted.items()},
                                        "share": sum(float(n[i]) for n in counted.values()) / total if total else None}
                                 for i, name in enumerate(self.choices)}
        return result
