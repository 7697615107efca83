"""The support check, a per-episode decision rule for a learned one-shot network: each episode
is predicted by the network or by the best trivial predictor (the support's colour kept to its
rows, ``baselines.Colour(rows=True)``), whichever redraws the supports' own masks better from
the supports alone (mean IoU over the episode's k supports, each predicted from itself; ties go
to the network). No query pixel and no label beyond the supports' masks is read, so the rule can
be applied at test time. Without it, a class that colour alone solves (sky) is left to features
learned on base classes."""
import torch

from panosis_models.oneshot.baselines import Colour
from panosis_models.oneshot.metrics import aggregate

COLOUR = Colour(rows=True)
CANDIDATES = ("network", "colour in support rows")  # in the order ``SupportCheck.colour`` indexes them


def own_iou(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(k, N) IoU of each map's foreground (``logits`` (k, N, H, W) > 0) with ``masks`` (N, k, H, W);
    1 where both are empty."""
    predicted, shown = logits > 0, masks.transpose(0, 1) > 0
    inter, union = (predicted & shown).flatten(2).sum(2), (predicted | shown).flatten(2).sum(2)
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter, dtype=torch.float))


class SupportCheck:
    """The two candidates' one-shot logits on an episode batch and their self-check scores;
    ``prediction(k, how)`` is the (N, H, W) foreground mask of the first k supports from the
    candidate each episode chose on those supports: the network's k maps joined by ``how``,
    colour's always OR-ed (the trivial predictors' k-shot rule; averaging colour logits keeps
    only the rows every support shows), and ``colour(k)`` (N,) whether colour was chosen.

    ``shot_logits(model, supports, masks, query)`` is ``oneshot.loop.shot_logits`` (passed in,
    so the network's own decision rule stays the one place it is applied)."""

    def __init__(self, shot_logits, model, supports: torch.Tensor, masks: torch.Tensor, query: torch.Tensor,
                 network_logits: torch.Tensor = None):
        k = supports.shape[1]
        self.network = shot_logits(model, supports, masks, query) if network_logits is None else network_logits
        self.colour_logits = shot_logits(COLOUR, supports, masks, query)
        own = [torch.cat([shot_logits(predictor, supports[:, s:s + 1], masks[:, s:s + 1], supports[:, s])
                          for s in range(k)]) for predictor in (model, COLOUR)]
        self.scores = torch.stack([own_iou(o, masks) for o in own])  # (2, k, N)

    def colour(self, k: int) -> torch.Tensor:
        network, colour = self.scores[:, :k].mean(1)
        return colour > network

    def prediction(self, k: int, how: str) -> torch.Tensor:
        return torch.where(self.colour(k)[:, None, None], aggregate(self.colour_logits[:k], "or"),
                           aggregate(self.network[:k], how))
