"""The trivial one-shot baselines on hand-made episodes, and scored in the same pass as a model."""
import torch

from panosis_models.data.episodes import Episodes
from panosis_models.engine import distributed
from panosis_models.oneshot.baselines import Colour, Everything, Nothing, Pasted, trivial
from panosis_models.oneshot.loop import evaluate, evaluate_many
from panosis_models.oneshot.metrics import aggregate

RED, BLUE, GREY = torch.tensor([0.9, 0.1, 0.1]), torch.tensor([0.1, 0.1, 0.9]), torch.tensor([0.5, 0.5, 0.5])


def painted(height, width, regions) -> torch.Tensor:
    """A (1, 3, H, W) grey image with ``regions`` [(colour, rows, cols)] painted."""
    image = GREY[:, None, None].expand(3, height, width).clone()
    for colour, rows, cols in regions:
        image[:, rows, cols] = colour[:, None, None]
    return image[None]


def test_nothing_everything_and_the_pasted_mask():
    query, support = torch.rand(2, 1, 3, 4, 8)
    mask = torch.zeros(1, 4, 8)
    mask[0, 1, 2:5] = 1
    assert not (Nothing()(query, support, mask) > 0).any()
    assert (Everything()(query, support, mask) > 0).all()
    assert torch.equal(Pasted()(query, support, mask) > 0, mask > 0)
    other = torch.zeros(1, 4, 8)
    other[0, 3, :2] = 1
    logits = torch.stack([Pasted()(query, support, m) for m in (mask, other)])
    assert torch.equal(aggregate(logits, "or"), (mask + other) > 0)  # k-shot: the union


def test_the_colour_prototype_finds_the_support_colour_anywhere_and_in_rows_only_where_shown():
    support = painted(4, 8, [(RED, slice(0, 2), slice(0, 3)), (BLUE, slice(2, 4), slice(4, 8))])
    mask = torch.zeros(1, 4, 8)
    mask[0, :2, :3] = 1  # the red block
    query = painted(4, 8, [(RED, slice(0, 1), slice(5, 7)), (RED, slice(3, 4), slice(0, 2))])
    expected = torch.zeros(1, 4, 8, dtype=torch.bool)
    expected[0, 0, 5:7] = expected[0, 3, :2] = True
    assert torch.equal(Colour()(query, support, mask) > 0, expected)
    in_rows = expected.clone()
    in_rows[0, 3] = False  # the support shows red in rows 0-1 only
    assert torch.equal(Colour(rows=True)(query, support, mask) > 0, in_rows)


def test_an_empty_support_mask_finds_nothing():
    query, support = torch.rand(2, 1, 3, 4, 8)
    empty = torch.zeros(1, 4, 8)
    for name, predictor in trivial().items():
        found = predictor(query, support, empty) > 0
        assert found.all() if name == "all foreground" else not found.any(), name


class Scenes(torch.utils.data.Dataset):
    """Six random 8x16 images with fine masks of classes 0-2."""

    def __init__(self):
        gen = torch.Generator().manual_seed(0)
        self.images, self.masks = torch.rand(6, 3, 8, 16, generator=gen), torch.randint(0, 3, (6, 8, 16), generator=gen)

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.images[i], self.masks[i]


def test_baselines_are_scored_in_one_pass_exactly_as_alone():
    episodes = Episodes(Scenes(), (1, 2), 7, seed=3, shots=2)
    ctx = distributed.Context(device=torch.device("cpu"))
    together = evaluate_many(trivial(), episodes, episodes.classes, ctx, shots=(1, 2), batch_size=3)
    for name, predictor in trivial().items():
        alone = evaluate(predictor, episodes, episodes.classes, ctx, shots=(1, 2), batch_size=3)
        assert set(alone) == {"1-shot", "2-shot-or", "2-shot-mean"}
        assert all(alone[v].report() == together[name][v].report() for v in alone), name
    report = together["all foreground"]["1-shot"].report()["pixel"]
    for c in (1, 2):  # all foreground: IoU is the class's share of the queries' pixels
        queries = [episodes.draw(i)[2] for i in range(7) if episodes.draw(i)[0] == c]
        if queries:
            share = torch.stack([Scenes().masks[q] == c for q in queries]).float().mean().item()
            assert abs(report["iou"][c] - share) < 1e-6
