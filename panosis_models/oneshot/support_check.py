"""The support check, a per-episode decision rule for a learned one-shot network: each episode
is predicted by the network or by the best trivial predictor (the support's colour kept to its
rows, ``baselines.Colour(rows=True)``), whichever redraws the supports' own masks better from
the supports alone (mean IoU over the episode's k supports, each predicted from itself; ties go
to the candidate listed first, the network). No query pixel and no label beyond the supports'
masks is read, so the rule can be applied at test time. Without it, a class that colour alone
solves (sky) is left to features learned on base classes.

With ``colour_gains`` (a network with cues) the candidates between the two are the network with
its learned colour cue's weight multiplied by each gain: a graded trust in colour, chosen per
episode by the same rule."""
import torch

from panosis_models.oneshot.baselines import Colour
from panosis_models.oneshot.metrics import aggregate

COLOUR = Colour(rows=True)
NETWORK_NAME, COLOUR_NAME = "network", "colour in support rows"


def check_gains(colour_gains) -> tuple:
    """``colour_gains`` as floats, refused unless they start at 1 (the network itself) and rise."""
    gains = tuple(float(g) for g in colour_gains)
    if not gains or gains[0] != 1 or any(b <= a for a, b in zip(gains, gains[1:])):
        raise ValueError(f"colour_gains must start at 1 and rise, e.g. (1, 2, 4, 8), got {colour_gains!r}")
    return gains


def candidates(colour_gains=(1.0,)) -> tuple:
    """The check's candidates' names, in the order ``SupportCheck.choice`` indexes them."""
    networks = (NETWORK_NAME if g == 1 else f"{NETWORK_NAME}, colour cue ×{g:g}" for g in check_gains(colour_gains))
    return (*networks, COLOUR_NAME)


def own_iou(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(k, N) IoU of each map's foreground (``logits`` (k, N, H, W) > 0) with ``masks`` (N, k, H, W);
    1 where both are empty."""
    predicted, shown = logits > 0, masks.transpose(0, 1) > 0
    inter, union = (predicted & shown).flatten(2).sum(2), (predicted | shown).flatten(2).sum(2)
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter, dtype=torch.float))


class SupportCheck:
    """The candidates' one-shot logits on an episode batch and their self-check scores;
    ``prediction(k, how)`` is the (N, H, W) foreground mask of the first k supports from the
    candidate each episode chose on those supports (``choice(k)``, (N,) indices into
    ``names``): a network's k maps joined by ``how``, colour's always OR-ed (the trivial
    predictors' k-shot rule; averaging colour logits keeps only the rows every support shows).
    ``network`` holds the network's maps (G, k, N, H, W), the first at gain 1.

    ``shot_logits(model, supports, masks, query[, colour_gains=])`` is ``oneshot.loop.shot_logits``
    (passed in, so the network's own decision rule stays the one place it is applied)."""

    def __init__(self, shot_logits, model, supports: torch.Tensor, masks: torch.Tensor, query: torch.Tensor,
                 colour_gains=(1.0,)):
        gains = check_gains(colour_gains)
        self.names = candidates(gains)
        self.network = shot_logits(model, supports, masks, query, colour_gains=gains)  # (G, k, N, H, W)
        self.colour_logits = shot_logits(COLOUR, supports, masks, query)
        shots = range(supports.shape[1])
        own_network = torch.cat([shot_logits(model, supports[:, s:s + 1], masks[:, s:s + 1], supports[:, s],
                                             colour_gains=gains) for s in shots], 1)
        own_colour = torch.cat([shot_logits(COLOUR, supports[:, s:s + 1], masks[:, s:s + 1], supports[:, s])
                                for s in shots])
        self.scores = torch.stack([*(own_iou(o, masks) for o in own_network), own_iou(own_colour, masks)])  # (C, k, N)

    def choice(self, k: int) -> torch.Tensor:
        """(N,) the index of the candidate that redraws the first k supports best (the first on a tie)."""
        return self.scores[:, :k].mean(1).argmax(0)

    def prediction(self, k: int, how: str) -> torch.Tensor:
        options = torch.stack([*(aggregate(n[:k], how) for n in self.network), aggregate(self.colour_logits[:k], "or")])
        choice = self.choice(k)
        return options[choice, torch.arange(len(choice), device=choice.device)]
