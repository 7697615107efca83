"""The ranking score (AUC of the 1-shot logits per class): the histogram's AUC against the exact
pairwise count, and what an evaluation reports."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from panosis_models.data.episodes import IGNORE, Episodes
from panosis_models.engine import distributed
from panosis_models.oneshot.baselines import Everything
from panosis_models.oneshot.loop import evaluate, evaluate_many
from panosis_models.oneshot.metrics import EpisodeScores, roc_auc


def exact_auc(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Share of (foreground, background) pixel pairs ranked right, a tie counted half."""
    valid = target != IGNORE
    scores, labels = logits[valid].double(), target[valid]
    positive, negative = scores[labels == 1], scores[labels == 0]
    pairs = positive[:, None] - negative[None, :]
    return float(((pairs > 0).double() + (pairs == 0).double() / 2).mean())


def test_roc_auc_of_separated_reversed_and_tied_scores():
    assert roc_auc(torch.tensor([[3.0, 0, 0], [0, 0, 2]])) == 1.0
    assert roc_auc(torch.tensor([[0.0, 0, 3], [2, 0, 0]])) == 0.0
    assert roc_auc(torch.tensor([[0.0, 4, 0], [0, 5, 0]])) == 0.5
    assert roc_auc(torch.tensor([[1.0, 2, 0], [0, 0, 0]])) is None  # no foreground pixel


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-40, 40), st.sampled_from([0, 1, IGNORE])), min_size=2, max_size=60))
def test_the_histograms_auc_is_the_exact_pairwise_count_for_logits_bins_apart(pixels):
    # whole-number logits up to 40 in size fall in different bins (bins are 0.008 to 0.03 wide there)
    logits = torch.tensor([float(v) for v, _ in pixels]).reshape(1, 1, -1)
    target = torch.tensor([t for _, t in pixels]).reshape(1, 1, -1)
    scores = EpisodeScores([5], ranking=True)
    half = logits.shape[-1] // 2  # added in two calls: the histograms accumulate
    scores.rank(5, logits[..., :half], target[..., :half])
    scores.rank(5, logits[..., half:], target[..., half:])
    report = scores.report()["ranking"]
    if not ((target == 0).any() and (target == 1).any()):
        assert report["auc"].get(5) is None and report["mean_auc"] is None  # absent where every pixel is void
    else:
        assert abs(report["auc"][5] - exact_auc(logits, target)) < 1e-12
        assert report["mean_auc"] == report["auc"][5]


def test_ranking_is_refused_where_it_was_not_asked_for_and_for_an_unscored_class():
    logits, target = torch.zeros(1, 2, 2), torch.ones(1, 2, 2, dtype=torch.long)
    with pytest.raises(ValueError, match="ranking=True"):
        EpisodeScores([1]).rank(1, logits, target)
    with pytest.raises(ValueError, match="class 2"):
        EpisodeScores([1], ranking=True).rank(2, logits, target)


class Oracle(torch.nn.Module):
    """Logit +-1 by whether the query pixel is of class 1 (read from the query's channel 0, where
    ``LabelledScenes`` writes it), times ``sign``."""

    def __init__(self, sign: float):
        super().__init__()
        self.sign = sign

    def forward(self, query, support, support_mask):
        return self.sign * (query[:, 0] * 2 - 1)


class LabelledScenes(torch.utils.data.Dataset):
    """Six random 8x16 fine masks of classes 0-2, each image's channel 0 saying where class 1 is."""

    def __init__(self):
        gen = torch.Generator().manual_seed(0)
        self.masks = torch.randint(0, 3, (6, 8, 16), generator=gen)
        self.images = torch.rand(6, 3, 8, 16, generator=gen)
        self.images[:, 0] = (self.masks == 1).float()

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.images[i], self.masks[i]


def test_an_evaluation_ranks_one_shot_logits_only_and_not_a_support_checked_choice():
    episodes = Episodes(LabelledScenes(), (1,), 6, seed=2, shots=2)
    ctx = distributed.Context(device=torch.device("cpu"))
    right = evaluate(Oracle(1.0), episodes, episodes.classes, ctx, shots=(1, 2), batch_size=4)
    assert right["1-shot"].report()["ranking"] == {"auc": {1: 1.0}, "mean_auc": 1.0}
    assert "ranking" not in right["2-shot-or"].report() and "ranking" not in right["2-shot-mean"].report()
    wrong = evaluate(Oracle(-1.0), episodes, episodes.classes, ctx, shots=(1,), batch_size=4)
    assert wrong["1-shot"].report()["ranking"]["mean_auc"] == 0.0
    totals = evaluate_many({"flat": Everything(), "checked": Oracle(1.0)}, episodes, episodes.classes, ctx,
                           shots=(1,), batch_size=4, support_check=("checked",))
    assert totals["flat"]["1-shot"].report()["ranking"]["mean_auc"] == 0.5  # one logit everywhere: all ties
    assert "ranking" not in totals["checked"]["1-shot"].report()
