"""Grouping thing pixels into instances with centres splitting connected regions: exact targets
give the exact instances (touching ones too, across the seam), a region without a centre stays
whole, a stray centre splits nothing; and the semantic loss's pixel weights."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from panosis_models.data.cityscapes import CAR, INSTANCE_STRIDE, PERSON_FINE, THINGS, fine_from_instances
from panosis_models.data.panoptic_targets import panoptic_targets
from panosis_models.panoptic.components import connected_components
from panosis_models.panoptic.loss import semantic_weights, small_instance_weights
from panosis_models.panoptic.postprocess import GROUPINGS, PostProcessing, split_components
from tests.panosis_models.data.test_panoptic_targets import H, W, same_partition, street



def touching_cars() -> torch.Tensor:
    """The street with a third car touching the second one on its right."""
    m = street()
    m[10:14, 17:21] = CAR * INSTANCE_STRIDE + 2
    return m


@given(shift=st.integers(0, W - 1))
def test_exact_targets_split_touching_things_that_connected_components_merge(shift):
    m = touching_cars().roll(shift, -1)
    heatmap, offsets = panoptic_targets(m)
    semantic = fine_from_instances(m)
    assert not same_partition(m, connected_components(semantic))  # the two touching cars are one region
    assert same_partition(m, split_components(semantic, heatmap[0], offsets))


def test_a_region_without_a_centre_stays_one_instance_and_a_stray_centre_splits_nothing():
    m = touching_cars()
    semantic = fine_from_instances(m)
    _, offsets = panoptic_targets(m)
    regions = connected_components(semantic)
    assert torch.equal(split_components(semantic, torch.zeros(H, W), offsets), regions)
    stray = torch.zeros(H, W)
    stray[2, 5] = 1.0   # in the sky, no thing pixel points there
    stray[11, 14] = 0.9  # one centre inside the merged region: still one instance
    assert torch.equal(split_components(semantic, stray, torch.zeros(2, H, W)), regions)


def test_grouping_is_checked_and_shapes_are_checked():
    outputs = {"semantic": torch.zeros(1, 19, H, W), "center": torch.zeros(1, 1, H, W),
               "offset": torch.zeros(1, 2, H, W)}
    for grouping in GROUPINGS:
        assert PostProcessing(grouping, 0.3, 5)(outputs).shape == (1, H, W)
    with pytest.raises(ValueError, match="grouping must be one of"):
        PostProcessing("nearest")
    with pytest.raises(ValueError, match="threshold"):
        PostProcessing(threshold=1.5)
    with pytest.raises(ValueError, match="window"):
        PostProcessing(window=4)
    with pytest.raises(ValueError, match="offsets"):
        split_components(torch.zeros(H, W), torch.zeros(H, W), torch.zeros(2, H, W + 1))


def test_thing_pixels_weigh_thing_weight_times_and_small_instances_on_top():
    m = street()
    m[3, 3] = PERSON_FINE  # a crowd pixel of a thing class: weighted like the thing it is
    labels = fine_from_instances(m)[None]
    instances = m[None]
    assert semantic_weights(labels, instances, THINGS) is None
    weights = semantic_weights(labels, instances, THINGS, thing_weight=4.0)
    thing = torch.isin(labels, torch.tensor(THINGS))
    assert (weights[thing] == 4.0).all() and (weights[~thing] == 1.0).all() and weights[0, 3, 3] == 4.0
    both = semantic_weights(labels, instances, THINGS, thing_weight=4.0, small_instance_weight=3.0)
    assert torch.equal(both, weights * small_instance_weights(instances, 3.0))


class Outputs(torch.nn.Module):
    """A 'network' whose outputs are given."""

    def __init__(self, semantic: torch.Tensor, heatmap: torch.Tensor, offsets: torch.Tensor):
        super().__init__()
        self.outputs = {"semantic": semantic, "center": heatmap, "offset": offsets}

    def forward(self, images):
        return {name: value[:len(images)] for name, value in self.outputs.items()}


def test_the_post_processing_chosen_on_validation_items_is_the_one_that_scores_best_there():
    from panosis_models.panoptic.tune import candidates, choose
    from panosis_models.panoptic.levels import FINE
    m = torch.full((H, W), 0, dtype=torch.long)
    m[4:12, 2:10] = CAR * INSTANCE_STRIDE       # two 64-px cars side by side
    m[4:12, 10:18] = CAR * INSTANCE_STRIDE + 1
    heatmap, _ = panoptic_targets(m)
    heatmap[0, 5, 3] = 0.25                     # a stray weaker peak inside each car: at a 0.1 threshold
    heatmap[0, 10, 16] = 0.25                   # each car splits in two (offsets 0: nearest peak wins)
    semantic = torch.nn.functional.one_hot(fine_from_instances(m), 19).permute(2, 0, 1).float()
    model = Outputs(semantic[None], heatmap[None], torch.zeros(1, 2, H, W))
    items = [(torch.zeros(3, H, W), fine_from_instances(m), m)]
    best, scores = choose(model, items, FINE)
    assert scores[candidates()[0]] == 0.5 and scores[best] == 1.0 and best == max(scores, key=scores.get)
    assert choose(model, [], FINE)[0] == candidates()[0]
