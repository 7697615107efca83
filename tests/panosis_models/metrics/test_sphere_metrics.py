"""Metrics by hand: per-pixel and area-weighted IoU, mIoU and pixel accuracy, per latitude band,
at both label levels, and a case where weighting by solid angle changes which prediction wins."""
import math

import pytest
import torch

from panosis_models.data.cityscapes import categories_from_fine
from panosis_models.metrics import CATEGORY, FINE, coarsen, confusion_matrix, level_named, scores
from panosis_models.sphere_metrics import SphereConfusion, latitude_bands, pixel_areas

SKY, FLAT = 5, 1
# a 4x8 panorama: rows 0 and 3 span 45-90 degrees of latitude, rows 1 and 2 0-45 degrees
POLAR = math.pi / 4 * (1 - math.sin(math.pi / 4))  # steradians of one pixel of row 0 or 3
EQUATORIAL = math.pi / 4 * math.sin(math.pi / 4)    # of row 1 or 2


def sky_over_flat():
    target = torch.full((1, 4, 8), FLAT)
    target[:, :2] = SKY
    return target


def two_predictions():
    """A misses 2 equatorial sky pixels, B 3 polar ones (both predict flat there)."""
    target = sky_over_flat()
    a, b = target.clone(), target.clone()
    a[0, 1, :2] = FLAT
    b[0, 0, :3] = FLAT
    return target, a, b


def test_pixel_areas_and_bands():
    torch.testing.assert_close(pixel_areas(4, 8), torch.tensor([POLAR, EQUATORIAL, EQUATORIAL, POLAR],
                                                               dtype=torch.float64))
    assert latitude_bands(6).tolist() == [2, 1, 0, 0, 1, 2]  # centres at 75, 45, 15 degrees
    assert latitude_bands(12).tolist() == [2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2]


def test_pixel_scores_by_hand():
    target, a, _ = two_predictions()
    s = scores(confusion_matrix(a, target))
    assert s["iou"][SKY] == pytest.approx(14 / 16) and s["iou"][FLAT] == pytest.approx(16 / 18)
    assert s["iou"][2] is None
    assert s["miou"] == pytest.approx((14 / 16 + 16 / 18) / 2)
    assert s["pixel_accuracy"] == pytest.approx(30 / 32)


def test_area_weighted_scores_by_hand():
    target, a, _ = two_predictions()
    weights = pixel_areas(4, 8)[:, None]
    s = scores(confusion_matrix(a, target, weight=weights))
    p, e = POLAR, EQUATORIAL
    assert s["iou"][SKY] == pytest.approx((8 * p + 6 * e) / (8 * p + 8 * e))
    assert s["iou"][FLAT] == pytest.approx((8 * p + 8 * e) / (8 * p + 10 * e))
    assert s["pixel_accuracy"] == pytest.approx(1 - 2 * e / (4 * math.pi))


def test_area_weighting_changes_the_ranking():
    """Per pixel A wins (2 errors against 3); on the sphere B wins (3 slivers near the pole
    cover less than 2 pixels near the equator)."""
    target, a, b = two_predictions()
    results = {}
    for name, prediction in (("a", a), ("b", b)):
        confusion = SphereConfusion()
        confusion.add(prediction, target)
        results[name] = confusion.report()
    for metric in ("miou", "pixel_accuracy"):
        assert results["a"]["pixel"][metric] > results["b"]["pixel"][metric]
        assert results["a"]["area"][metric] < results["b"]["area"][metric]
    assert results["b"]["area"]["pixel_accuracy"] == pytest.approx(1 - 3 * POLAR / (4 * math.pi))


def test_bands_by_hand():
    """A 6x12 panorama: sky above, flat below; one error in the 60-90 band (row 0), two in the
    30-60 band (row 4), none in 0-30."""
    target = torch.full((1, 6, 12), FLAT)
    target[:, :3] = SKY
    prediction = target.clone()
    prediction[0, 0, 0] = FLAT
    prediction[0, 4, 5:7] = SKY
    confusion = SphereConfusion()
    confusion.add(prediction, target)
    bands = confusion.report()["bands"]
    assert bands["0-30"]["pixel"]["miou"] == 1.0
    # 30-60: rows 1 (sky) and 4 (flat), 12 pixels each; 2 flat pixels called sky
    assert bands["30-60"]["pixel"]["iou"][SKY] == pytest.approx(12 / 14)
    assert bands["30-60"]["pixel"]["iou"][FLAT] == pytest.approx(10 / 12)
    # 60-90: rows 0 and 5 have equal areas, so weighting changes nothing within the band
    assert bands["60-90"]["pixel"]["iou"][SKY] == pytest.approx(11 / 12)
    assert bands["60-90"]["area"]["iou"][FLAT] == pytest.approx(12 / 13)
    assert bands["60-90"]["pixel"]["pixel_accuracy"] == pytest.approx(23 / 24)


def test_unscored_pixels_count_for_nothing_at_both_levels():
    target = torch.tensor([[[0, 0, 255, 255]]])
    prediction = torch.tensor([[[0, 1, 0, 1]]])
    fine = scores(confusion_matrix(prediction, target, FINE), FINE)
    assert fine["iou"][0] == pytest.approx(1 / 2) and fine["iou"][1] == 0.0
    assert fine["pixel_accuracy"] == pytest.approx(1 / 2)  # the two void pixels are not scored
    category = scores(confusion_matrix(torch.tensor([3, 2]), torch.tensor([0, 2])))
    assert category["pixel_accuracy"] == 1.0 and category["iou"][3] is None


def test_fine_results_coarsen_into_categories():
    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, 19, (2, 6, 12), generator=generator)
    target[0, 0] = 255
    prediction = torch.randint(0, 19, (2, 6, 12), generator=generator)
    fine = SphereConfusion(FINE)
    fine.add(prediction, target)
    direct = SphereConfusion(CATEGORY)
    direct.add(categories_from_fine(prediction), categories_from_fine(target))
    assert torch.equal(fine.coarsened().counts, direct.counts)
    torch.testing.assert_close(fine.coarsened().areas, direct.areas)
    assert set(fine.reports()) == {"fine", "category"} and set(direct.reports()) == {"category"}
    assert torch.equal(coarsen(confusion_matrix(prediction, target, FINE)),
                       confusion_matrix(categories_from_fine(prediction), categories_from_fine(target)))


def test_perspective_views_get_pixel_scores_only():
    confusion = SphereConfusion()
    confusion.add(torch.ones(1, 4, 4, dtype=torch.int64), torch.ones(1, 4, 4, dtype=torch.int64))
    report = confusion.report()
    assert report["pixel"]["miou"] == 1.0 and report["area"] is None and report["bands"] is None


def test_bad_input():
    with pytest.raises(ValueError, match="target labels"):
        SphereConfusion().add(torch.zeros(1, 2, 4), torch.full((1, 2, 4), 9))
    with pytest.raises(ValueError, match="target labels"):
        confusion_matrix(torch.zeros(3), torch.tensor([0, 19, 1]), FINE)
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        SphereConfusion().add(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="labels"):
        level_named("panoptic")
    with pytest.raises(ValueError, match="coarsen"):
        SphereConfusion().coarsened()
