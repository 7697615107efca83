"""The support check: per episode the network or colour in the support's rows, whichever redraws
the supports' own masks better; ties keep the network; k supports are judged together."""
import torch
from torch import nn

from panosis_models.oneshot.baselines import Colour, Pasted
from panosis_models.oneshot.loop import shot_logits
from panosis_models.oneshot.metrics import aggregate
from panosis_models.oneshot.support_check import SupportCheck, own_iou

RED, GREY = torch.tensor([0.9, 0.1, 0.1]), torch.tensor([0.5, 0.5, 0.5])


class Blind(nn.Module):
    """A network that finds nothing."""

    def forward(self, query, support, support_mask):
        return torch.full_like(support_mask, -5.0)


def episode(k: int = 1, n: int = 1):
    """Supports with a red block (their masks) on grey, and a query with red elsewhere in those rows."""
    supports = GREY[None, None, :, None, None].expand(n, k, 3, 4, 8).clone()
    supports[..., 1:3, 0:3] = RED[:, None, None]
    masks = torch.zeros(n, k, 4, 8)
    masks[..., 1:3, 0:3] = 1
    query = GREY[None, :, None, None].expand(n, 3, 4, 8).clone()
    query[..., 1:3, 4:8] = RED[:, None, None]
    return supports, masks, query


def test_own_iou_scores_each_support_and_counts_two_empty_masks_as_agreeing():
    logits = torch.tensor([[[[1.0, -1.0]]], [[[-1.0, -1.0]]]])  # (k=2, N=1, 1, 2)
    masks = torch.tensor([[[[1.0, 1.0]], [[0.0, 0.0]]]])       # (N=1, k=2, 1, 2)
    assert own_iou(logits, masks).tolist() == [[0.5], [1.0]]


def test_a_network_that_cannot_redraw_its_support_gives_way_to_colour_in_rows():
    supports, masks, query = episode()
    check = SupportCheck(shot_logits, Blind(), supports, masks, query)
    assert check.choice(1).tolist() == [1]
    expected = Colour(rows=True)(query, supports[:, 0], masks[:, 0]) > 0
    assert torch.equal(check.prediction(1, "mean"), expected)
    assert check.prediction(1, "mean")[0, 1:3, 4:8].all()  # the red in the support's rows is found


def test_ties_keep_the_network():
    supports, masks, query = episode()
    check = SupportCheck(shot_logits, Pasted(), supports, masks, query)  # redraws its own support exactly
    assert check.choice(1).tolist() == [0]
    assert torch.equal(check.prediction(1, "mean"), masks[:, 0] > 0)


def test_k_supports_are_judged_together_and_only_the_first_k_count():
    supports, masks, query = episode(k=3)
    masks[:, 0] = 0  # the first support shows nothing: colour and a blind network both redraw it
    supports[:, 0] = GREY[:, None, None]
    check = SupportCheck(shot_logits, Blind(), supports, masks, query)
    assert check.choice(1).tolist() == [0]  # a tie on the first support
    assert check.choice(3).tolist() == [1]   # the other two are colour's
    colour = shot_logits(Colour(rows=True), supports, masks, query)
    assert torch.equal(check.prediction(3, "mean"), aggregate(colour, "or"))  # colour's masks are OR-ed
    assert not torch.equal(aggregate(colour, "mean"), aggregate(colour, "or"))


def test_evaluation_applies_the_check_to_the_named_models_only():
    from panosis_models.data.episodes import Episodes
    from panosis_models.engine import distributed
    from panosis_models.oneshot.loop import evaluate_many

    gen = torch.Generator().manual_seed(1)
    images, labels = torch.rand(6, 3, 8, 16, generator=gen), torch.randint(0, 3, (6, 8, 16), generator=gen)
    episodes = Episodes(torch.utils.data.TensorDataset(images, labels), (1, 2), 7, seed=3, shots=2)
    ctx = distributed.Context(device=torch.device("cpu"))
    models = {"checked": Blind(), "plain": Blind(), "colour": Colour(rows=True)}
    totals = evaluate_many(models, episodes, episodes.classes, ctx, shots=(1, 2), batch_size=3,
                           support_check=("checked",))
    plain = totals["plain"]["1-shot"].report()["pixel"]
    assert all(v == 0 for v in plain["iou"].values())  # a blind network finds nothing
    for variant in totals["checked"]:
        checked = totals["checked"][variant].report()
        assert checked != totals["plain"][variant].report()  # some episodes went to colour


def test_a_checked_evaluation_counts_each_class_episodes_by_the_candidate_chosen():
    from panosis_models.data.episodes import Episodes
    from panosis_models.engine import distributed
    from panosis_models.oneshot.evaluate import summary_lines
    from panosis_models.oneshot.loop import evaluate_many

    gen = torch.Generator().manual_seed(1)
    images, labels = torch.rand(6, 3, 8, 16, generator=gen), torch.randint(0, 3, (6, 8, 16), generator=gen)
    episodes = Episodes(torch.utils.data.TensorDataset(images, labels), (1, 2), 9, seed=3, shots=2)
    per_class = torch.bincount(torch.tensor([episodes[i][4] for i in range(len(episodes))]), minlength=3)
    ctx = distributed.Context(device=torch.device("cpu"))
    totals = evaluate_many({"blind": Blind(), "pasted": Pasted(), "plain": Blind()}, episodes, episodes.classes, ctx,
                           shots=(1, 2), batch_size=4, support_check=("blind", "pasted"))
    for variant in ("1-shot", "2-shot-or", "2-shot-mean"):
        blind, pasted = (totals[key][variant].report()["choices"] for key in ("blind", "pasted"))
        for choices in (blind, pasted):
            counted = {c: choices["network"]["episodes"][c] + choices["colour in support rows"]["episodes"][c]
                       for c in (1, 2)}
            assert counted == {1: int(per_class[1]), 2: int(per_class[2])}
            assert abs(choices["network"]["share"] + choices["colour in support rows"]["share"] - 1) < 1e-9
        assert pasted["network"]["share"] == 1.0  # it redraws every support exactly: ties keep it
        assert blind["colour in support rows"]["share"] > 0.5  # it redraws nothing a support shows
        assert "choices" not in totals["plain"][variant].report()
    lines = summary_lines({"scores": {k: v.report() for k, v in totals["pasted"].items()}})
    assert all(line.endswith("chosen: network 100 %, colour in support rows 0 %") for line in lines)


def test_choices_are_refused_where_they_were_not_asked_for_and_for_an_unscored_class():
    import pytest

    from panosis_models.oneshot.metrics import EpisodeScores
    with pytest.raises(ValueError, match="without choices"):
        EpisodeScores([1]).choose(1, torch.tensor([0]))
    with pytest.raises(ValueError, match="class 2"):
        EpisodeScores([1], choices=("a", "b")).choose(2, torch.tensor([0]))


def cued_networks():
    from panosis_models.models.oslsm import OSLSM
    from panosis_models.models.prototype import PrototypeNet
    torch.manual_seed(0)
    networks = [PrototypeNet(channels=(4, 8), cues=True), OSLSM(channels=(4, 8), cues=True)]
    for net in networks:
        with torch.no_grad():
            net.cue_weights.copy_(torch.tensor([0.3, 0.2]))
        net.eval()
    return networks


def test_the_colour_cue_is_what_a_gain_on_its_weight_adds_to_the_output():
    gen = torch.Generator().manual_seed(2)
    query, support = torch.rand(2, 3, 16, 32, generator=gen), torch.rand(2, 3, 16, 32, generator=gen)
    mask = (torch.rand(2, 16, 32, generator=gen) > 0.7).float()
    for net in cued_networks():
        with torch.no_grad():
            plain = net(query, support, mask)
            cue = net.colour_cue(query, support, mask)
            net.cue_weights[0] *= 4
            scaled = net(query, support, mask)
        assert torch.allclose(scaled, plain + 3 * cue, atol=1e-5), type(net).__name__


def test_shot_logits_at_colour_gains_are_the_networks_with_the_weight_scaled_after_its_decision_rule():
    supports, masks, query = episode(k=2, n=2)
    supports = supports.expand(2, 2, 3, 4, 8).repeat(1, 1, 1, 4, 4)  # 16x32 panoramas for the encoders
    masks, query = masks.repeat(1, 1, 4, 4), query.repeat(1, 1, 4, 4)
    for net in cued_networks():
        net.threshold.fill_(0.25)
        graded = shot_logits(net, supports, masks, query, colour_gains=(1.0, 3.0))
        assert graded.shape == (2, 2, 2, 16, 32)
        assert torch.allclose(graded[0], shot_logits(net, supports, masks, query), atol=1e-5)
        with torch.no_grad():
            net.cue_weights[0] *= 3
        assert torch.allclose(graded[1], shot_logits(net, supports, masks, query), atol=1e-5)


class Cued(nn.Module):
    """A network that only says what its colour cue says, less one: at gain 1 it finds nothing."""

    def __init__(self):
        super().__init__()
        self.cue_weights = nn.Parameter(torch.tensor([1.0, 0.0]))

    def colour_cue(self, query, support, support_mask):
        from panosis_models.models.episodic import colour_logits
        return self.cue_weights[0] * colour_logits(query, support, support_mask)

    def forward(self, query, support, support_mask):
        return self.colour_cue(query, support, support_mask) - 1


def test_a_graded_check_gives_an_episode_to_the_smallest_gain_that_redraws_its_supports_best():
    supports, masks, query = episode()
    check = SupportCheck(shot_logits, Cued(), supports, masks, query, colour_gains=(1, 2, 4, 8))
    assert check.names == ("network", "network, colour cue ×2", "network, colour cue ×4", "network, colour cue ×8",
                           "colour in support rows")
    assert check.scores[:, 0, 0].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]  # red is 0.48 nearer red than grey
    assert check.choice(1).tolist() == [2]
    assert torch.equal(check.prediction(1, "mean"), check.network[2, 0] > 0)
    assert check.prediction(1, "mean")[0, 1:3, 4:8].all()


def test_colour_gains_must_start_at_one_and_rise():
    import pytest

    from panosis_models.oneshot.support_check import check_gains
    assert check_gains([1, 2.5]) == (1.0, 2.5)
    for bad in ((), (2, 4), (1, 1), (1, 4, 2)):
        with pytest.raises(ValueError, match="colour_gains"):
            check_gains(bad)
