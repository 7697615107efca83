"""OSLSM: its conditioning branch is the classifier (a toy task learnt in a few seconds), the
sphere reaches every k>1 convolution, k-shot aggregation and the one-shot metrics on hand-made
cases."""
import pytest
import torch
from torch import nn

import equiconv
from panosis_models.models.episodic import cell_weights
from panosis_models.models.oslsm import OSLSM
from panosis_models.oneshot.metrics import BINARY, EpisodeScores, aggregate
from panosis_models.sphere_metrics import pixel_areas

COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9]])


def toy_scenes(gen: torch.Generator, n: int) -> tuple:
    """``n`` 16x32 grey scenes, each with one 6x6 square of every colour in three of eight slots:
    (images (n, 3, 16, 32), labels (n, 16, 32): colour index, -1 for the grey)."""
    images = 0.5 + 0.05 * torch.randn(n, 3, 16, 32, generator=gen)
    labels = torch.full((n, 16, 32), -1)
    for i in range(n):
        for colour, slot in enumerate(torch.randperm(8, generator=gen)[:3].tolist()):
            y, x = 8 * (slot // 4) + 1, 8 * (slot % 4) + 1
            images[i, :, y:y + 6, x:x + 6] = COLOURS[colour][:, None, None]
            labels[i, y:y + 6, x:x + 6] = colour
    return images, labels


def toy_episodes(gen: torch.Generator, n: int, empty: float = 0.25) -> tuple:
    """(query, support, support mask, target): find the support mask's colour in the query; with
    probability ``empty`` the support mask is empty and so is the target (nothing was shown)."""
    support, support_labels = toy_scenes(gen, n)
    query, query_labels = toy_scenes(gen, n)
    colour = torch.randint(0, 3, (n, 1, 1), generator=gen)
    shown = (torch.rand(n, 1, 1, generator=gen) >= empty).float()
    return query, support, (support_labels == colour).float() * shown, (query_labels == colour).float() * shown


@pytest.fixture(scope="module")
def toy_model():
    """A tiny OSLSM trained on the toy task (a few seconds on one core)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = OSLSM(channels=(8, 16), conv="std")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        query, support, mask, target = toy_episodes(gen, 16)
        loss = nn.functional.binary_cross_entropy_with_logits(model(query, support, mask), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.mark.slow  # trains the toy classifier (its fixture)
def test_the_support_pair_is_the_classifier(toy_model):
    gen = torch.Generator().manual_seed(1)
    query, query_labels = toy_scenes(gen, 8)
    support, support_labels = toy_scenes(gen, 8)
    with torch.no_grad():
        for colour in range(3):
            found = toy_model(query, support, (support_labels == colour).float()) > 0
            truth = query_labels == colour
            assert (found & truth).sum() / (found | truth).sum() > 0.8, f"colour {colour}"
        # another mask on the same support image: another class found
        red = toy_model(query, support, (support_labels == 0).float()) > 0
        green = toy_model(query, support, (support_labels == 1).float()) > 0
        assert (red != green).float().mean() > 0.1
        # an all-background support: nothing to find
        empty = toy_model(query, support, torch.zeros_like(support_labels, dtype=torch.float))
        assert (empty < 0).all()


def test_the_conditioning_branch_sees_only_the_masked_support():
    torch.manual_seed(0)
    model = OSLSM(channels=(4, 8)).eval()
    support, mask = torch.rand(2, 3, 8, 16), (torch.rand(2, 8, 16) > 0.5).float()
    other = support + torch.rand_like(support) * (1 - mask[:, None])  # changed outside the mask only
    for a, b in zip(model.classifier_of(support, mask), model.classifier_of(other, mask)):
        assert torch.equal(a, b)
    w, _ = model.classifier_of(support, 1 - mask)
    assert not torch.equal(w, model.classifier_of(support, mask)[0])


def test_an_equi_oslsm_holds_no_standard_kxk_convolution():
    model = OSLSM(channels=(4, 8, 16), conv="equi")
    kxk = [m for m in model.modules() if isinstance(m, (nn.Conv2d, equiconv.EquiConv2d)) and max(m.kernel_size) > 1]
    assert len(kxk) == 2 * 3 * 2 and all(type(m) is equiconv.EquiConv2d for m in kxk)  # 2 branches, 3 levels
    assert model(*torch.rand(2, 1, 3, 16, 32), torch.ones(1, 16, 32)).shape == (1, 16, 32)
    with pytest.raises(ValueError, match="multiples of 4"):
        model(*torch.rand(2, 1, 3, 16, 34), torch.ones(1, 16, 34))
    with pytest.raises(ValueError, match="support_mask"):
        model(*torch.rand(2, 1, 3, 16, 32), torch.ones(1, 16, 16))


def test_pooling_weighs_feature_cells_by_mask_share_and_solid_angle():
    mask = torch.zeros(1, 8, 16)
    mask[0, :, :2] = 1  # a full column of 2x2 cells, half of the last
    mask[0, :, 2] = 1
    weights = cell_weights(mask, 2)[0, 0]
    area = equiconv.solid_angle(4, 8, dtype=torch.float32)[:, 0]
    assert torch.allclose(weights[:, 0], area) and torch.allclose(weights[:, 1], area / 2)
    assert (weights[:, 2:] == 0).all() and weights[0, 0] < weights[1, 0]  # a polar cell covers less
    flat = cell_weights(torch.ones(1, 8, 8), 2)  # not a full panorama: the mask's share only
    assert (flat == 1).all()


def test_k_shot_aggregation():
    logits = torch.tensor([[[[-1.0, 3.0, -2.0]]], [[[0.5, -4.0, -1.0]]]])  # (k=2, N=1, 1, 3)
    assert aggregate(logits, "or").tolist() == [[[True, True, False]]]
    assert aggregate(logits, "mean").tolist() == [[[False, False, False]]]
    assert aggregate(logits[:1], "or").tolist() == aggregate(logits[:1], "mean").tolist() == [[[False, True, False]]]
    with pytest.raises(ValueError, match="how must be"):
        aggregate(logits, "max")
    with pytest.raises(ValueError, match="logits must be"):
        aggregate(logits[0], "or")


def test_episode_metrics_on_hand_made_cases():
    scores = EpisodeScores([3, 7])
    # class 3, two episodes: tp 2, fp 1, fn 1 in all -> IoU 2/4; background: tp 3, fp 1, fn 1 -> 3/5
    scores.add(3, torch.tensor([[[1, 1, 0, 0]]]), torch.tensor([[[1, 0, 0, 0]]]))
    scores.add(3, torch.tensor([[[1, 0, 0, 0]]]), torch.tensor([[[1, 1, 0, BINARY.void]]]))
    # class 7: perfect
    scores.add(7, torch.tensor([[[0, 1], [0, 0]]]), torch.tensor([[[0, 1], [0, 0]]]))
    report = scores.report()["pixel"]
    assert report["iou"] == {3: pytest.approx(0.5), 7: 1.0}
    assert report["miou"] == pytest.approx(0.75)
    assert report["fb_iou"] == pytest.approx(((0.5 + 0.6) / 2 + 1.0) / 2)
    with pytest.raises(ValueError, match="not one of the scored classes"):
        scores.add(5, torch.zeros(1, 1, 2), torch.zeros(1, 1, 2))


def test_area_weighted_metrics_count_solid_angles():
    scores = EpisodeScores([0])
    target = torch.zeros(1, 4, 8, dtype=torch.long)
    target[0, 0, 0] = target[0, 1, 0] = 1  # a polar and an equatorial foreground pixel
    prediction = torch.zeros_like(target)
    prediction[0, 1, 0] = 1  # only the equatorial one found
    report = scores.add(0, prediction, target) or scores.report()
    polar, equatorial = pixel_areas(4, 8)[:2].tolist()
    assert report["pixel"]["iou"][0] == pytest.approx(0.5)
    assert report["area"]["iou"][0] == pytest.approx(equatorial / (polar + equatorial))
