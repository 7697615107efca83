"""Panoptic-DeepLab's targets on the sphere: centres of mass on the sphere, offsets the short way
round, a heatmap that wraps, and post-processing that turns exact targets back into the exact
instances, across the seam too."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from panosis_models.data.cityscapes import CAR, PERSON_FINE, ROAD, SKY_FINE, VOID, fine_from_instances
from panosis_models.data.panoptic_targets import instance_centres, panoptic_targets, sigma_for
from panosis_models.data.seam import roll_to_seam
from panosis_models.panoptic.levels import CATEGORY, FINE
from panosis_models.panoptic.postprocess import find_centres, panoptic_map, window_for

H, W = 16, 32
CAR_0, CAR_1, PERSON_0 = CAR * 1000, CAR * 1000 + 1, PERSON_FINE * 1000


def street() -> torch.Tensor:
    """Sky above, road below, a car across the seam (columns 30, 31 and 0..2), another car and a
    person elsewhere, a void row at the top. Odd widths: no centre falls between two columns."""
    m = torch.full((H, W), ROAD, dtype=torch.long)
    m[:8] = SKY_FINE
    m[0] = VOID
    m[9:12, 30:] = CAR_0
    m[9:12, :3] = CAR_0
    m[10:14, 12:17] = CAR_1
    m[6:10, 22:25] = PERSON_0
    return m


def same_partition(a: torch.Tensor, b: torch.Tensor) -> bool:
    """The two maps hold the same segments of the same classes (instance numbers aside)."""
    pairs = set(zip(a.flatten().tolist(), b.flatten().tolist()))
    return (len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})
            and all(x // 1000 == y // 1000 if x >= 1000 else x == y for x, y in pairs))


def test_an_instance_across_the_seam_has_one_centre_beside_it_and_offsets_that_wrap():
    m = street()
    ids, rows, columns = instance_centres(m)
    centre = dict(zip(ids.tolist(), zip(rows.tolist(), columns.tolist())))
    assert centre[CAR_0][1] == 0  # on the seam, not at mid-image (the columns' plain mean: 12.8)
    heatmap, offsets = panoptic_targets(m)
    assert heatmap.shape == (1, H, W) and offsets.shape == (2, H, W)
    row, column = centre[CAR_0]
    assert heatmap[0, row, column] == 1
    car = m == CAR_0
    assert offsets[1][car].abs().max() <= 3  # the short way round: never half the image
    assert (offsets[1][:, 30:][car[:, 30:]] > 0).all()  # pixels at the right edge point east, across the seam
    # the heatmap wraps: the column left of the seam sees the centre as close as the one right of it
    assert torch.allclose(heatmap[0, row, (column - 1) % W], heatmap[0, row, (column + 1) % W])
    assert (offsets[:, ~(m >= 1000)] == 0).all()


def test_the_centre_of_mass_is_taken_on_the_sphere():
    """A wedge that widens towards the pole: its pixel mean sits in the middle rows, its centre on
    the sphere (pixels weighted by their shrinking solid angles) nearer the equator."""
    m = torch.zeros(32, 64, dtype=torch.long)
    for y in range(1, 12):
        m[y, 32 - (12 - y):32 + (12 - y)] = CAR_0
    rows = torch.nonzero(m == CAR_0)[:, 0].double()
    _, centre_rows, centre_columns = instance_centres(m)
    assert centre_rows.item() > rows.mean().item() + 0.5
    assert centre_columns.item() in (31, 32)


def test_sigma_and_window_scale_with_the_width():
    assert sigma_for(512) == 8 and sigma_for(128) == 2
    assert window_for(512) == 7 and window_for(128) == 3 and window_for(2048) == 29


@given(shift=st.integers(0, W - 1))
def test_targets_turn_with_the_panorama(shift):
    m = street()
    heatmap, offsets = panoptic_targets(m)
    turned_heatmap, turned_offsets = panoptic_targets(m.roll(shift, -1))
    assert torch.allclose(turned_heatmap, heatmap.roll(shift, -1), atol=1e-6)
    assert torch.allclose(turned_offsets, offsets.roll(shift, -1), atol=1e-5)


@given(shift=st.integers(0, W - 1))
def test_exact_targets_come_back_as_the_exact_instances(shift):
    m = street().roll(shift, -1)
    heatmap, offsets = panoptic_targets(m)
    back = panoptic_map(fine_from_instances(m), heatmap[0], offsets)
    assert same_partition(m, back)


@given(seed=st.integers(0, 2 ** 16))
def test_round_trip_of_random_separated_boxes(seed):
    g = torch.Generator().manual_seed(seed)
    m = torch.full((H, W), ROAD, dtype=torch.long)
    for k in range(3):  # three boxes in their own 10-column strips, at random rows and widths
        top = int(torch.randint(1, H - 5, (), generator=g))
        width = int(torch.randint(1, 7, (), generator=g))
        m[top:top + 4, 10 * k:10 * k + width] = CAR * 1000 + k
    m = m.roll(int(torch.randint(W, (), generator=g)), -1)
    heatmap, offsets = panoptic_targets(m)
    assert same_partition(m, panoptic_map(fine_from_instances(m), heatmap[0], offsets))


def test_suppression_wraps_across_the_seam():
    heatmap = torch.zeros(H, W)
    heatmap[5, 0], heatmap[5, W - 1], heatmap[5, 16] = 0.9, 0.8, 0.5
    assert find_centres(heatmap, window=3).tolist() == [[5, 0], [5, 16]]
    assert find_centres(heatmap, threshold=0.6, window=3).tolist() == [[5, 0]]
    assert find_centres(heatmap, window=3, top_k=1).tolist() == [[5, 0]]


def test_thing_pixels_without_any_centre_become_void():
    m = street()
    out = panoptic_map(fine_from_instances(m), torch.zeros(H, W), torch.zeros(2, H, W))
    assert (out[m >= 1000] == VOID).all() and (out[m < 1000] == m[m < 1000]).all()


def test_rolling_to_the_seam_puts_the_largest_thing_across_it():
    m = street().roll(9, -1)  # the seam car now lies whole in columns 7..11
    image = torch.rand(3, H, W)
    rolled_image, fine, rolled = roll_to_seam(image, fine_from_instances(m), m)
    largest = CAR_1  # 20 pixels against the seam car's 15 and the person's 12
    assert (rolled[:, 0] == largest).any() and (rolled[:, -1] == largest).any()
    assert torch.equal(fine, fine_from_instances(rolled))
    shift = next(s for s in range(W) if torch.equal(rolled, m.roll(s, -1)))  # a turn of the camera
    assert torch.equal(rolled_image, image.roll(shift, -1))


def test_the_category_level_merges_vehicles_and_people_and_keeps_every_instance_apart():
    m = torch.tensor([[ROAD, 2, CAR_0, 14000, CAR_1, PERSON_0, 12000, VOID, CAR]])  # 2: building, 12: rider
    vehicle, person = CATEGORY.things[1] * 1000, CATEGORY.things[0] * 1000
    # flat 0, construction 1; the car 0, truck 0 and car 1 become vehicles 0, 2, 1; a crowd stays a crowd
    expected = [[0, 1, vehicle, vehicle + 2, vehicle + 1, person, person + 1, VOID, vehicle // 1000]]
    assert CATEGORY.instances(m).tolist() == expected
    image = torch.rand(3, 1, 9)
    same_image, labels, instances = CATEGORY.item(image, fine_from_instances(m), m)
    assert same_image is image and torch.equal(labels, fine_from_instances(instances))
    assert torch.equal(FINE.instances(m), m)


def test_round_trip_at_the_category_level_across_the_seam():
    m = CATEGORY.instances(street())
    heatmap, offsets = panoptic_targets(m)
    back = panoptic_map(fine_from_instances(m), heatmap[0], offsets, things=CATEGORY.things)
    assert same_partition(m, back) and torch.equal(fine_from_instances(back), fine_from_instances(m))
