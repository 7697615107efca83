"""The pieces that say where panoptic quality is lost, on hand-made maps: connected components
across the seam and the poles, small true instances scored as crowd regions, and the diagnosis
of a network whose semantics are perfect but whose centres are missing."""
import torch
from torch import nn

from panosis_models.data.cityscapes import INSTANCE_STRIDE, VOID
from panosis_models.data.panoptic_targets import panoptic_targets
from panosis_models.panoptic.components import connected_components
from panosis_models.panoptic.diagnose import ROWS, diagnose, table
from panosis_models.panoptic.levels import CATEGORY
from panosis_models.panoptic.quality import PanopticQuality, small_as_crowd

CAR, PERSON = 13, 11  # Cityscapes train ids, things


def test_components_join_across_the_seam_and_over_a_pole_and_never_across_classes():
    semantic = torch.zeros(6, 12, dtype=torch.long)
    semantic[2:4, 0], semantic[2:4, 11] = CAR, CAR   # one car cut by the seam
    semantic[0, 1], semantic[0, 7] = PERSON, PERSON  # one person over the north pole (columns 6 apart)
    semantic[4, 4], semantic[5, 5] = CAR, CAR        # diagonal neighbours: one car
    semantic[4, 5] = PERSON                          # touching the car, another class
    semantic[5, 9], semantic[3, 6] = VOID, 2
    out = connected_components(semantic, things=(PERSON, CAR))
    assert out[2, 0] == out[3, 11] == CAR * INSTANCE_STRIDE + 0
    assert out[0, 1] == out[0, 7] == PERSON * INSTANCE_STRIDE
    assert out[4, 4] == out[5, 5] == CAR * INSTANCE_STRIDE + 1
    assert out[4, 5] == PERSON * INSTANCE_STRIDE + 1
    assert out[5, 9] == VOID and out[3, 6] == 2 and out[1, 1] == 0
    assert len(out[out >= INSTANCE_STRIDE].unique()) == 4


def test_small_true_instances_become_crowd_regions_of_their_class():
    target = torch.zeros(8, 16, dtype=torch.long)
    target[0:3, 0:5] = CAR * INSTANCE_STRIDE + 1       # 15 px
    target[4:8, 4:8] = CAR * INSTANCE_STRIDE + 2       # 16 px
    seen = small_as_crowd(target, 16)
    assert (seen[0:3, 0:5] == CAR).all() and (seen[4:8, 4:8] == CAR * INSTANCE_STRIDE + 2).all()


def test_the_visible_figures_forgive_missing_or_finding_a_small_thing():
    from panosis_models.panoptic.levels import FINE
    target = torch.full((8, 16), 0, dtype=torch.long)
    target[0:2, 0:2] = CAR * INSTANCE_STRIDE        # 4 px: too small to see
    target[3:8, 5:10] = CAR * INSTANCE_STRIDE + 1   # 25 px
    found_big = torch.where(target == CAR * INSTANCE_STRIDE + 1, target, torch.zeros_like(target))
    quality = PanopticQuality(FINE)
    quality.add(found_big[None], target[None])
    report = quality.report()
    assert report["pixel"]["classes"]["car"]["fn"] == 1 and report["pixel"]["things"]["pq"] < 1
    assert report["visible"]["pixel"]["things"]["pq"] == 1.0
    both = PanopticQuality(FINE)
    both.add(target[None], target[None])
    assert both.report()["visible"]["pixel"]["classes"]["car"]["fp"] == 0  # the small find is on crowd


class Perfect(nn.Module):
    """A network that outputs the true semantics (and, if ``centres``, the true heatmaps and
    offsets) of the items it was built from, by index of the batch."""

    def __init__(self, items, classes, centres: bool):
        super().__init__()
        self.items, self.classes, self.centres = items, classes, centres

    def forward(self, images):
        labels = torch.stack([self.items[int(i)][1] for i in images[:, 0, 0, 0]])
        semantic = torch.nn.functional.one_hot(labels.clamp(max=self.classes - 1), self.classes).permute(0, 3, 1, 2)
        targets = [panoptic_targets(self.items[int(i)][2]) for i in images[:, 0, 0, 0]]
        heat = torch.stack([t[0] for t in targets]) * self.centres
        offsets = torch.stack([t[1] for t in targets])
        return {"semantic": semantic.float(), "center": heat, "offset": offsets}


def hand_made_items():
    items = []
    for index in range(2):
        instances = torch.full((8, 16), 0, dtype=torch.long)  # category level: 0 is flat
        instances[2:5, 2 + index:6 + index] = 6 * INSTANCE_STRIDE       # a vehicle
        instances[2:6, 10:13] = 6 * INSTANCE_STRIDE + 1                 # another
        instances[6:8, 0:2] = 5 * INSTANCE_STRIDE                       # a person
        image = torch.zeros(3, 8, 16)
        image[0, 0, 0] = index  # the item's index, for Perfect
        items.append((image, torch.where(instances >= INSTANCE_STRIDE, instances // INSTANCE_STRIDE, instances),
                      instances))
    return items


def test_the_diagnosis_names_missing_centres_as_the_weak_link():
    items = hand_made_items()
    reports = diagnose(Perfect(items, CATEGORY.num_classes, centres=False), items, CATEGORY)
    assert list(reports) == [name for name, *_ in ROWS]
    pq = {name: r["pixel"]["things"]["pq"] for name, r in reports.items()}
    assert pq["all predicted"] == 0.0 and pq["true semantics, predicted centres and offsets"] == 0.0
    assert pq["predicted semantics, true centres and offsets"] == 1.0
    assert pq["predicted semantics, connected components"] == 1.0 and pq["all true"] == 1.0
    assert pq["all predicted, centres split components"] == 1.0  # no centre: each region stays whole
    perfect = diagnose(Perfect(items, CATEGORY.num_classes, centres=True), items, CATEGORY)
    assert all(r["pixel"]["things"]["pq"] == 1.0 for r in perfect.values())
    text = table(reports, CATEGORY)
    assert "| all predicted | 0.000 | n/a | person 0/0/2, vehicle 0/0/4 |" in text  # every thing under 16 px


def test_a_thing_split_into_equal_halves_matches_neither_half_in_any_weighting():
    """IoU 0.5 exactly is no match; the area-weighted sums used to round it to 0.5 + 1 ulp, which
    matched both halves (or failed inside the count) for a third of the rows."""
    from panosis_models.panoptic.quality import segment_statistics
    from panosis_models.sphere_metrics import pixel_areas
    for height in (8, 16, 32):
        areas = pixel_areas(height, 2 * height)[:, None]
        for row in range(height):
            target = torch.zeros(height, 2 * height, dtype=torch.long)
            target[row, 3:5] = 5 * INSTANCE_STRIDE
            halves = target.clone()
            halves[row, 4] = 5 * INSTANCE_STRIDE + 1
            for weight in (None, areas):
                stats = segment_statistics(halves, target, weight, CATEGORY)[0]
                assert stats[5, 0] == 0 and stats[5, 2] == 1 and stats[5, 1] == 2  # no TP, one miss, two FPs
