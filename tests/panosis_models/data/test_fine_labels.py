"""The renderer's fine labels and instances: valid Cityscapes ids, categories by the one table,
each object one connected region on the sphere (across the seam too), tilted panoramas and
perspective views labelled exactly like the panorama."""
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from panosis_models.data import World, render_panorama, render_perspective
from panosis_models.data.cityscapes import (CATEGORY_OF, FINE_CLASSES, INSTANCE_STRIDE, NUM_FINE,
                                            THINGS, VOID, categories_from_fine, check_instances,
                                            fine_from_instances)
from panosis_models.data.class_share import class_shares, share_table
from panosis_models.data.datasets import derive_seed
from panosis_models.data.render import panorama_directions

H, W = 64, 128


def sphere_components(mask: torch.Tensor) -> int:
    """Number of 8-connected regions of a boolean (H, W) panorama mask on the sphere: columns
    wrap, and the row beyond a pole is the same row turned by half a revolution."""
    height, width = mask.shape
    ids = torch.where(mask, torch.arange(1, mask.numel() + 1, dtype=torch.float32).view_as(mask), 0)
    while True:
        padded = torch.cat([ids[:1].roll(width // 2, 1), ids, ids[-1:].roll(width // 2, 1)])
        padded = torch.cat([padded[:, -1:], padded, padded[:, :1]], dim=1)
        spread = F.max_pool2d(padded[None, None], 3, stride=1)[0, 0]
        new = torch.where(mask, spread, 0)
        if torch.equal(new, ids):
            return len(ids[mask].unique())
        ids = new


def only(world: World, instance: int) -> World:
    """The world with every primitive but those of ``instance`` taken away."""
    kept = {}
    for name in ("boxes", "cylinders", "spheres"):
        shapes = getattr(world, name)
        rows = shapes.instance == instance
        kept[name] = type(shapes)(*(getattr(shapes, f.name)[rows] for f in dataclasses.fields(shapes)))
    return dataclasses.replace(world, **kept)


def test_sphere_components_counts_across_the_seam_and_the_poles():
    mask = torch.zeros(6, 8, dtype=torch.bool)
    mask[2:4, 0] = mask[3, 7] = True                 # one region across the seam
    assert sphere_components(mask) == 1
    mask[0, 2] = mask[0, 6] = True                   # neighbours across the north pole
    assert sphere_components(mask) == 2
    mask[5, 3] = True                                # alone
    assert sphere_components(mask) == 3


def test_the_table_is_the_design_table():
    assert NUM_FINE == 19 and THINGS == tuple(range(11, 19))
    assert CATEGORY_OF[:19].tolist() == [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 6, 7, 7, 7, 7, 7, 7]
    assert CATEGORY_OF[VOID] == 0
    assert FINE_CLASSES[6][1:3] == ("traffic light", (250, 170, 30))
    assert FINE_CLASSES[18][1:3] == ("bicycle", (119, 11, 32))


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_ids_are_valid_and_the_levels_agree(seed):
    world = World.random(seed)
    image, instances = render_panorama(world, H, W, level="instance")
    check_instances(instances)
    fine = render_panorama(world, H, W, level="fine")[1]
    category = render_panorama(world, H, W)[1]
    assert torch.equal(fine, fine_from_instances(instances))
    assert torch.equal(category, categories_from_fine(fine))
    things = instances >= INSTANCE_STRIDE
    assert set((instances[things] // INSTANCE_STRIDE).unique().tolist()) <= set(THINGS)
    assert torch.equal(fine[~things], instances[~things])  # stuff pixels hold their train id


def test_bad_ids_are_refused():
    for bad in (19, 254, 1000 * 5 + 1, 20000, -1):
        with pytest.raises(ValueError, match="instance ids"):
            check_instances(torch.tensor([[bad]]))
    check_instances(torch.tensor([[13, 255, 13002, 18000]]))  # a crowd of cars is allowed
    with pytest.raises(ValueError, match="train ids"):
        categories_from_fine(torch.tensor([19]))


@pytest.mark.slow  # renders several worlds
def test_fifteen_classes_appear_in_a_few_worlds():
    seen = set()
    for seed in range(40):
        seen |= set(render_panorama(World.random(seed), 32, 64, level="fine")[1].unique().tolist())
    assert len(seen - {VOID}) >= 15


@pytest.mark.parametrize("seed", [1, 4, 9])
def test_each_object_is_one_region_on_the_sphere(seed):
    """Each instance's own silhouette (its object alone in the world) is one region, and every
    pixel of that id in the full render lies in it (occluders may only take pixels away)."""
    world = World.random(seed)
    instances = render_panorama(world, H, W, level="instance")[1]
    ids = [i for i in instances.unique().tolist() if i >= INSTANCE_STRIDE]
    assert ids
    for instance in ids:
        alone = render_panorama(only(world, instance), H, W, level="instance")[1] == instance
        assert sphere_components(alone) == 1, instance
        assert not ((instances == instance) & ~alone).any()


def test_an_object_across_the_seam_is_one_region():
    """Turn the camera so that the nearest car's centre lies on the +-180 degree seam."""
    world = World.random(2)
    cars = (world.boxes.instance // INSTANCE_STRIDE == 13).nonzero()[:, 0]
    centres = (world.boxes.geometry[cars, :2] + world.boxes.geometry[cars, 3:5]) / 2
    offsets = centres - torch.tensor(world.camera[:2])
    nearest = offsets.norm(dim=1).argmin()
    yaw = math.degrees(math.atan2(offsets[nearest, 0], offsets[nearest, 1])) - 180.0
    instance = int(world.boxes.instance[cars[nearest]])
    for scene in (world, only(world, instance)):
        car = render_panorama(scene, H, W, yaw=yaw, level="instance")[1] == instance
        assert car[:, 0].any() and car[:, -1].any()  # it straddles the seam
        assert sphere_components(car) == 1


@pytest.mark.parametrize("pitch, roll", [(0.0, 0.0), (30.0, 0.0), (-20.0, 25.0), (12.0, -30.0)])
def test_tilted_panoramas_are_labelled_exactly(pitch, roll):
    """Each sampled pixel of a tilted panorama has the label of a narrow view looking along
    that pixel's direction."""
    world = World.random(5)
    instances = render_panorama(world, H, W, pitch=pitch, roll=roll, level="instance")[1]
    dirs = panorama_directions(H, W, pitch=pitch, roll=roll).double()
    generator = torch.Generator().manual_seed(0)
    for _ in range(10):
        y, x = int(torch.randint(H, (), generator=generator)), int(torch.randint(W, (), generator=generator))
        d = dirs[y, x]
        view = render_perspective(world, 3, 3, fov_deg=2.0, yaw=math.degrees(math.atan2(d[0], d[1])),
                                  pitch=math.degrees(math.asin(d[2].clamp(-1, 1))), level="instance")[1]
        assert view[1, 1] == instances[y, x]


def test_tilting_moves_the_horizon():
    world = World.random(5)
    level = render_panorama(world, H, W, level="fine")[1]
    pitched = render_panorama(world, H, W, pitch=30.0, level="fine")[1]
    assert not torch.equal(level, pitched)
    column = W // 2  # looking north: with the camera pitched up 30 degrees the ground starts
    # about 10 rows lower in the image
    ground = {0, 1, 9}
    first_ground = [next(y for y in range(H) if int(m[y, column]) in ground) for m in (level, pitched)]
    assert first_ground[1] > first_ground[0] + 5
    with pytest.raises(ValueError, match="roll"):
        panorama_directions(4, 8, roll=91.0)


def test_perspective_views_carry_the_panorama_instances():
    world = World.random(6)
    instances = render_panorama(world, H, W, level="instance")[1]
    for y, x in ((40, 10), (35, 70), (33, 100)):
        pitch, yaw = 90 - (y + 0.5) * 180 / H, -180 + (x + 0.5) * 360 / W
        view = render_perspective(world, 3, 3, fov_deg=2.0, yaw=yaw, pitch=pitch, level="instance")[1]
        assert view[1, 1] == instances[y, x]


def test_bad_level_is_refused():
    with pytest.raises(ValueError, match="level"):
        render_panorama(World.random(0), 4, 8, level="panoptic")


def test_class_shares_add_up_and_count_objects():
    shares = class_shares(3, 16, 32, seed=0, progress=False)
    assert sum(shares["pixels"].values()) == pytest.approx(1.0)
    assert sum(shares["instances"].values()) == pytest.approx(1.0)
    ids = [render_panorama(World.random(derive_seed(0, i)), 16, 32, level="instance")[1] for i in range(3)]
    cars = sum(int(((i.unique() >= 13000) & (i.unique() < 14000)).sum()) for i in ids)
    assert shares["instance_counts"]["car"] == cars
    assert shares["panoramas_with"]["sky"] == 1.0
    table = share_table(shares)
    assert table.count("\n") == 2 + NUM_FINE and "| void |" in table
