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

from panosis_models.models.episodic import colour_logits, within_support_rows

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


class Colour(nn.Module):
    """Nearest of the support's mean foreground and background colours; ``rows``: only in the
    rows where the support mask has a pixel."""

    def __init__(self, rows: bool = False):
        super().__init__()
        self.rows = rows

    def forward(self, query, support, support_mask):
        logits = colour_logits(query, support, support_mask)
        if self.rows:
            return within_support_rows(logits, support_mask, NO)
        return torch.where((support_mask > 0).flatten(1).any(1)[:, None, None], logits, logits.clamp_max(NO))


def trivial() -> dict:
    """{name: predictor} of every trivial baseline, in table order."""
    return {"nothing": Nothing(), "all foreground": Everything(), "support mask pasted": Pasted(),
            "colour prototype": Colour(), "colour prototype in support rows": Colour(rows=True)}
