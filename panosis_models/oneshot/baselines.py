"""The trivial one-shot predictors every learned one must beat, on the same episodes: each a
parameter-free module with the networks' interface (``forward(query, support, support_mask)``
-> foreground logits), so ``loop.evaluate`` scores it as it scores them, 1-shot and k-shot (the
k masks OR-ed, or the k logit maps averaged).

- ``nothing``: every pixel background;
- ``everything``: every pixel foreground;
- ``pasted``: the support's mask laid on the query (k-shot OR: the union of the masks);
- ``colour``: the mean colour of the support's foreground and of its background; a query pixel
  is foreground when nearer the first (squared RGB distance);
- ``colour in rows``: ``colour`` only in the image rows where the support shows the class.

An empty support mask means nothing to find: all four but ``everything`` then say background."""
import torch
from torch import nn

from panosis_models.models.episodic import within_support_rows

NO, YES = -1.0, 1.0  # the logits of a plain no and yes


class Nothing(nn.Module):
    def forward(self, query, support, support_mask):
        return torch.full_like(support_mask, NO)


class Everything(nn.Module):
    def forward(self, query, support, support_mask):
        return torch.full_like(support_mask, YES)


class Pasted(nn.Module):
    def forward(self, query, support, support_mask):
        return torch.where(support_mask > 0, YES, NO)


def mean_colour(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N, 3) mean RGB of ``image`` (N, 3, H, W) over ``mask`` (N, H, W); zero where it is empty."""
    weight = mask[:, None].to(image.dtype)
    return (image * weight).sum((2, 3)) / weight.sum((2, 3)).clamp_min(1)


class Colour(nn.Module):
    """Nearest of the support's mean foreground and background colours; ``rows``: only in the
    rows where the support mask has a pixel."""

    def __init__(self, rows: bool = False):
        super().__init__()
        self.rows = rows

    def forward(self, query, support, support_mask):
        shown = support_mask > 0
        distances = [((query - mean_colour(support, side)[:, :, None, None]) ** 2).sum(1) for side in (shown, ~shown)]
        logits = distances[1] - distances[0]  # > 0: nearer the foreground colour
        if self.rows:
            return within_support_rows(logits, support_mask, NO)
        return torch.where(shown.flatten(1).any(1)[:, None, None], logits, logits.clamp_max(NO))


def trivial() -> dict:
    """{name: predictor} of every trivial baseline, in table order."""
    return {"nothing": Nothing(), "all foreground": Everything(), "support mask pasted": Pasted(),
            "colour prototype": Colour(), "colour prototype in support rows": Colour(rows=True)}
