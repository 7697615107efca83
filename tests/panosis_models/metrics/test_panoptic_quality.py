"""Panoptic quality on hand-made cases (panopticapi's rules), the area-weighted variant, the seam
figure, and agreement with torchmetrics where it is installed."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from panosis_models.data.cityscapes import CAR, PERSON_FINE, ROAD, SKY_FINE, THINGS, VOID, fine_from_instances
from panosis_models.panoptic.levels import CATEGORY
from panosis_models.panoptic.quality import FN, FP, IOU, TP, PanopticQuality, quality, segment_statistics

CAR_0, CAR_1 = CAR * 1000, CAR * 1000 + 1


def scene() -> torch.Tensor:
    """8x16: sky (rows 0-3), road (rows 4-7), two cars of 2x4 pixels on the road."""
    m = torch.full((8, 16), ROAD, dtype=torch.long)
    m[:4] = SKY_FINE
    m[4:6, 1:5] = CAR_0
    m[4:6, 9:13] = CAR_1
    return m


def report(prediction, target):
    return quality(segment_statistics(prediction, target)[0])


def test_a_perfect_prediction_scores_one_whatever_its_instance_numbers():
    target = scene()
    prediction = target.clone()
    prediction[target == CAR_0], prediction[target == CAR_1] = CAR_1, CAR_0  # numbering is free
    r = report(prediction, target)
    for group in ("all", "things", "stuff"):
        assert r[group]["pq"] == r[group]["sq"] == r[group]["rq"] == 1
    assert r["things"]["classes"] == 1 and r["stuff"]["classes"] == 2
    assert r["classes"]["car"]["tp"] == 2


def test_a_missed_instance_is_a_false_negative():
    target = scene()
    prediction = target.clone()
    prediction[target == CAR_1] = ROAD
    car = report(prediction, target)["classes"]["car"]
    assert (car["tp"], car["fp"], car["fn"]) == (1, 0, 1)
    assert car["rq"] == pytest.approx(1 / 1.5) and car["sq"] == 1
    road = report(prediction, target)["classes"]["road"]  # the road grew by the car's 8 pixels
    assert road["sq"] == pytest.approx(48 / 56)


def test_a_split_instance_keeps_its_larger_piece_and_the_smaller_is_a_false_positive():
    target = scene()
    prediction = target.clone()
    prediction[4:6, 4] = CAR * 1000 + 7  # CAR_0 split 6 : 2 pixels
    car = report(prediction, target)["classes"]["car"]
    assert (car["tp"], car["fp"], car["fn"]) == (2, 1, 0)
    assert car["sq"] == pytest.approx((6 / 8 + 1) / 2)
    assert car["pq"] == pytest.approx((6 / 8 + 1) / 2.5)


def test_an_even_split_matches_nothing():
    target = scene()
    prediction = target.clone()
    prediction[4:6, 3:5] = CAR * 1000 + 7  # 4 : 4, IoU 0.5 each, not above it
    car = report(prediction, target)["classes"]["car"]
    assert (car["tp"], car["fp"], car["fn"]) == (1, 2, 1)


def test_void_leaves_a_predicted_segment_and_a_mostly_void_one_is_no_false_positive():
    target = scene()
    target[4:6, 1:3] = VOID  # the left half of CAR_0 is unlabelled
    prediction = scene()
    prediction[0:3, 14:16] = CAR * 1000 + 5  # a car in the sky: a false positive
    prediction[6:8, 0:4] = VOID  # the prediction may leave pixels void: they are no segment
    prediction[target == VOID] = CAR * 1000 + 6  # a predicted segment wholly on void
    prediction[4:6, 1:5][target[4:6, 1:5] != VOID] = CAR_0
    stats, _ = segment_statistics(prediction, target)
    # CAR_0 (4 labelled pixels) against a 4-pixel prediction: IoU 1; the car on void is no FP
    assert stats[CAR, TP] == 2 and stats[CAR, FP] == 1 and stats[CAR, FN] == 0
    assert stats[CAR, IOU] == pytest.approx(2.0)
    # a predicted car spread over void (4 px) and road (2 px): matched to nothing, more than half void
    prediction2 = scene()
    prediction2[4:6, 1:5] = ROAD
    prediction2[4:6, 1:4] = CAR * 1000 + 9
    assert segment_statistics(prediction2, target)[0][CAR, FP] == 0


def test_a_crowd_region_is_never_a_false_negative_nor_does_it_make_one():
    target = scene()
    target[target == CAR_1] = CAR  # a crowd of cars: the bare train id
    prediction = scene()
    stats, _ = segment_statistics(prediction, target)
    assert stats[CAR, TP] == 1 and stats[CAR, FN] == 0 and stats[CAR, FP] == 0


def test_a_stuff_class_is_one_segment_per_image():
    target = scene()
    prediction = target.clone()
    prediction[0, :] = ROAD  # 16 sky pixels predicted as road
    r = report(prediction, target)["classes"]
    assert r["sky"]["sq"] == pytest.approx(48 / 64) and r["sky"]["tp"] == 1
    assert r["road"]["sq"] == pytest.approx(48 / 64)


def test_area_weighting_counts_pixels_by_their_solid_angle():
    """A predicted sky that misses the top row: per pixel IoU 3/4, area-weighted sin 67.5 deg, since
    the top row of a panorama is a sliver around the pole."""
    target = scene()
    prediction = target.clone()
    prediction[0, :] = VOID
    total = PanopticQuality()
    total.add(prediction[None], target[None])
    result = total.report()
    assert result["pixel"]["classes"]["sky"]["sq"] == pytest.approx(0.75)
    assert result["area"]["classes"]["sky"]["sq"] == pytest.approx(math.sin(math.radians(67.5)))


def test_the_seam_figure_counts_instances_across_the_seam_that_come_out_whole():
    target = torch.full((8, 16), ROAD, dtype=torch.long)
    target[3:6, 14:] = CAR_0
    target[3:6, :2] = CAR_0
    target[3:6, 6:9] = CAR_1  # not at the seam: not counted
    whole, split = target.clone(), target.clone()
    split[3:6, :2] = CAR * 1000 + 4  # what a model blind to the seam makes of it: two halves
    total = PanopticQuality()
    total.add(torch.stack([whole, split]), torch.stack([target, target]))
    assert total.report()["seam"] == {"instances": 2, "one": 1, "share": 0.5}


def test_bad_maps_are_refused_naming_the_problem():
    with pytest.raises(ValueError, match="both be"):
        segment_statistics(scene(), scene()[:4])
    bad = scene()
    bad[0, 0] = 42
    with pytest.raises(ValueError, match="instance ids"):
        segment_statistics(bad, scene())


# --- torchmetrics' PanopticQuality, where installed ---------------------------------------------

def _torchmetrics():
    return pytest.importorskip("torchmetrics.detection", reason="torchmetrics is not installed: "
                               "the agreement with torchmetrics.detection.PanopticQuality is not checked")


def _as_pairs(instances: torch.Tensor) -> torch.Tensor:
    """(1, H, W, 2) (category, instance) pairs torchmetrics reads; void 255 is an unknown category."""
    instance = torch.where(instances >= 1000, instances % 1000 + 1, 0)
    return torch.stack([fine_from_instances(instances), instance], -1)[None]


def _agree(prediction, target):
    detection = _torchmetrics()
    theirs = detection.PanopticQuality(things=set(THINGS), stuffs=set(range(min(THINGS))), return_sq_and_rq=True,
                                       allow_unknown_preds_category=True)(_as_pairs(prediction), _as_pairs(target))
    ours = report(prediction, target)["all"]
    assert [ours[k] for k in ("pq", "sq", "rq")] == pytest.approx(theirs.double().tolist(), abs=1e-6)


def blocky(g: torch.Generator) -> torch.Tensor:
    """A random 12x24 instance map of 3x3 blocks: stuff, cars and people, and void."""
    classes = torch.tensor([ROAD, SKY_FINE, CAR, PERSON_FINE, VOID])
    cls = classes[torch.randint(len(classes), (4, 8), generator=g)]
    k = torch.randint(3, (4, 8), generator=g)
    m = torch.where(torch.isin(cls, torch.tensor(THINGS)), cls * 1000 + k, cls)
    return m.repeat_interleave(3, 0).repeat_interleave(3, 1)


@given(seed=st.integers(0, 2 ** 16), noise=st.floats(0.0, 0.5))
def test_plain_pq_agrees_with_torchmetrics_on_random_maps(seed, noise):
    _torchmetrics()
    g = torch.Generator().manual_seed(seed)
    target = blocky(g)
    prediction = target.clone()
    changed = torch.rand(target.shape, generator=g) < noise
    other = blocky(g)
    prediction[changed] = torch.where(other[changed] == VOID, ROAD, other[changed])  # no predicted void (see below)
    _agree(prediction, target)


@pytest.mark.parametrize("case", ["perfect", "missed", "split", "stuff"])
def test_plain_pq_agrees_with_torchmetrics_on_the_hand_made_cases(case):
    target, prediction = scene(), scene()
    if case == "missed":
        prediction[target == CAR_1] = ROAD
    elif case == "split":
        prediction[4:6, 4] = CAR * 1000 + 7
    elif case == "stuff":
        prediction[0, :] = ROAD
    _agree(prediction, target)


def test_the_deliberate_difference_from_torchmetrics_predicted_void():
    """A true car the prediction leaves void: panopticapi (and we) count a false negative,
    torchmetrics does not."""
    detection = _torchmetrics()
    target, prediction = scene(), scene()
    prediction[target == CAR_1] = VOID
    ours = report(prediction, target)["classes"]["car"]
    assert ours["fn"] == 1 and ours["rq"] == pytest.approx(1 / 1.5)
    theirs = detection.PanopticQuality(things=set(THINGS), stuffs=set(range(min(THINGS))), return_per_class=True,
                                       return_sq_and_rq=True, allow_unknown_preds_category=True)
    per_class = theirs(_as_pairs(prediction), _as_pairs(target))  # (classes, 3): pq, sq, rq
    car_row = sorted(THINGS).index(CAR)  # torchmetrics orders things first, then stuff
    assert per_class.reshape(-1, 3)[car_row, 2].item() == pytest.approx(1.0)


def test_quality_at_the_category_level_counts_person_and_vehicle_as_things():
    target = CATEGORY.instances(scene())  # sky, flat and two vehicles
    prediction = target.clone()
    prediction[target == CATEGORY.things[1] * 1000 + 1] = 0  # one vehicle missed: flat
    result = quality(segment_statistics(prediction, target, level=CATEGORY)[0], CATEGORY)
    assert result["classes"]["vehicle"]["tp"] == 1 and result["classes"]["vehicle"]["fn"] == 1
    assert result["things"]["classes"] == 1 and result["stuff"]["classes"] == 2
    total = PanopticQuality(CATEGORY)
    total.add(prediction[None], target[None])
    assert total.report()["pixel"]["things"]["pq"] == pytest.approx(result["things"]["pq"])
    with pytest.raises(ValueError, match="train id"):  # a fine-level map is no category-level one
        segment_statistics(scene(), scene(), level=CATEGORY)
