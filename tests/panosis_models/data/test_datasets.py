"""Data sets (CVRG-Pano folder, synthetic streets with their cache), the split and the
sphere-preserving augmentation."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from torch.utils.data import Subset

from panosis_models.data import (PanoramaAugment, PanoramaFolder, SyntheticPanoramas,
                                 Transformed, labels_to_colour, prerender, render_panorama,
                                 split_indices)
from panosis_models.data.augment import hflip, roll
from panosis_models.data.cityscapes import categories_from_fine, fine_from_instances
from panosis_models.data.datasets import CACHE_FORMAT, derive_seed
from panosis_models.data.render import RENDERER_VERSION
from panosis_models.data.world import World
from panosis_models.errors import InputError


def write_pair(root, stem, image, mask):
    (root / "rgb").mkdir(parents=True, exist_ok=True)
    (root / "mask").mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(root / "rgb" / f"{stem}.png")
    Image.fromarray(mask).save(root / "mask" / f"{stem}.png")


@pytest.fixture
def folder(tmp_path):
    """Three 6x12 pairs a, b, c with random pixels and labels."""
    rng = np.random.default_rng(0)
    pairs = {}
    for stem in "abc":
        pairs[stem] = (rng.integers(0, 256, (6, 12, 3), dtype=np.uint8),
                       rng.integers(0, 8, (6, 12), dtype=np.uint8))
        write_pair(tmp_path, stem, *pairs[stem])
    return tmp_path, pairs


def test_folder_reads_pairs_by_stem(folder):
    root, pairs = folder
    data = PanoramaFolder(root)
    assert len(data) == 3
    for i, stem in enumerate("abc"):
        image, mask = data[i]
        assert image.dtype == torch.float32 and mask.dtype == torch.int64
        np.testing.assert_array_equal((image * 255).round().byte().permute(1, 2, 0).numpy(),
                                      pairs[stem][0])
        np.testing.assert_array_equal(mask.numpy(), pairs[stem][1])


def test_folder_with_colour_masks(tmp_path):
    labels = np.arange(8, dtype=np.uint8).repeat(3).reshape(2, 12)
    write_pair(tmp_path, "x", np.zeros((2, 12, 3), np.uint8), labels_to_colour(labels))
    _, mask = PanoramaFolder(tmp_path, colour_masks=True)[0]
    np.testing.assert_array_equal(mask.numpy(), labels)


def test_folder_resizes_images_bilinear_and_masks_nearest(folder):
    root, pairs = folder
    image, mask = PanoramaFolder(root, size=(3, 6))[0]
    assert image.shape == (3, 3, 6) and mask.shape == (3, 6)
    assert set(mask.unique().tolist()) <= set(np.unique(pairs["a"][1]).tolist())
    assert 0 <= image.min() and image.max() <= 1


def test_folder_resize_nearest_keeps_pixel_centres(tmp_path):
    labels = np.arange(8, dtype=np.uint8).repeat(2)[None].repeat(4, axis=0)  # 4x16, 2-px stripes
    write_pair(tmp_path, "x", np.zeros((4, 16, 3), np.uint8), labels)
    _, mask = PanoramaFolder(tmp_path, size=(2, 8))[0]
    assert mask.tolist() == [list(range(8))] * 2


@pytest.mark.parametrize("damage, culprit", [
    ("corrupt image", "rgb/b.png"), ("corrupt mask", "mask/b.png"), ("bad label", "mask/b.png"),
    ("size mismatch", "mask/b.png"), ("colour mask", "mask/b.png")])
def test_folder_errors_name_the_file(folder, damage, culprit):
    root, _ = folder
    if damage == "corrupt image":
        (root / "rgb/b.png").write_bytes(b"\x89PNG not really")
    elif damage == "corrupt mask":
        (root / "mask/b.png").write_bytes((root / "mask/b.png").read_bytes()[:40])
    elif damage == "bad label":
        Image.fromarray(np.full((6, 12), 9, np.uint8)).save(root / "mask/b.png")
    elif damage == "size mismatch":
        Image.fromarray(np.zeros((6, 10), np.uint8)).save(root / "mask/b.png")
    else:
        Image.fromarray(np.zeros((6, 12, 3), np.uint8)).save(root / "mask/b.png")
    data = PanoramaFolder(root)
    data[0]
    with pytest.raises(ValueError, match=culprit):
        data[1]


@pytest.mark.parametrize("missing", ["mask/c.png", "rgb/c.png"])
def test_folder_missing_partner_names_the_file(folder, missing):
    root, _ = folder
    (root / missing).unlink()
    partner = "rgb/c.png" if missing.startswith("mask") else "mask/c.png"
    with pytest.raises(ValueError, match=f"{partner} has no partner .*{missing}"):
        PanoramaFolder(root)


def test_folder_layout_errors(tmp_path):
    with pytest.raises(ValueError, match="rgb"):
        PanoramaFolder(tmp_path)
    (tmp_path / "rgb").mkdir()
    (tmp_path / "mask").mkdir()
    with pytest.raises(ValueError, match="no PNG"):
        PanoramaFolder(tmp_path)


@given(st.integers(0, 300), st.integers(0, 10))
def test_split_is_disjoint_and_covering(n, seed):
    train, val, test = split_indices(n, seed=seed)
    assert sorted(train + val + test) == list(range(n))
    assert len(train) == round(0.8 * n)
    assert split_indices(n, seed=seed) == (train, val, test)


def test_split_depends_on_the_seed_and_checks_fractions():
    assert split_indices(100, seed=0) != split_indices(100, seed=1)
    assert split_indices(10, (0.5, 0.5, 0.0))[2] == []
    with pytest.raises(ValueError, match="fractions"):
        split_indices(10, (0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="n must"):
        split_indices(-1)


def test_synthetic_items_are_cached_and_read_back_identically(tmp_path):
    data = SyntheticPanoramas(2, 16, 32, seed=4, cache_dir=tmp_path)
    image, mask = data[1]
    assert image.shape == (3, 16, 32) and image.dtype == torch.float32
    assert mask.shape == (16, 32) and mask.dtype == torch.int64
    assert data.cache_path(1).exists() and not data.cache_path(0).exists()
    again = SyntheticPanoramas(2, 16, 32, seed=4, cache_dir=tmp_path)[1]
    assert torch.equal(image, again[0]) and torch.equal(mask, again[1])
    want_image, want_mask = render_panorama(World.random(derive_seed(4, 1)), 16, 32)
    assert torch.equal(mask, want_mask)
    torch.testing.assert_close(image, want_image, rtol=0, atol=0.5 / 255 + 1e-6)
    assert not list(tmp_path.rglob("*.tmp"))


def test_synthetic_cache_is_keyed_by_every_parameter(tmp_path):
    base = dict(num=1, height=8, width=16, seed=0, cache_dir=tmp_path)
    variants = [base, {**base, "seed": 1}, {**base, "height": 10}, {**base, "kind": "perspective"},
                {**base, "kind": "perspective", "fov_deg": 60.0}]
    keys = {SyntheticPanoramas(**kwargs).key() for kwargs in variants}
    assert len(keys) == len(variants)


def test_synthetic_perspective_items_and_prerender(tmp_path):
    data = SyntheticPanoramas(3, 12, 12, seed=0, cache_dir=tmp_path, kind="perspective",
                              fov_deg=70.0)
    prerender(data, progress=False)
    assert all(data.cache_path(i).exists() for i in range(3))
    items = [data[i] for i in range(3)]
    assert not torch.equal(items[0][0], items[1][0])
    with pytest.raises(IndexError):
        data[3]


@pytest.mark.parametrize("kwargs, name", [(dict(num=-1), "num"), (dict(height=0), "height"),
                                          (dict(kind="cube"), "kind"),
                                          (dict(kind="perspective", fov_deg=0.0), "fov_deg")])
def test_synthetic_bad_arguments(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        SyntheticPanoramas(**{**dict(num=1, height=8, width=16, cache_dir=tmp_path), **kwargs})


def coded_pair(height=6, width=10, seed=0):
    """A mask and an image whose red channel encodes it, so alignment can be checked."""
    mask = torch.randint(0, 8, (height, width), generator=torch.Generator().manual_seed(seed))
    image = torch.stack([mask / 7, torch.rand(height, width), torch.rand(height, width)])
    return image, mask


def test_roll_keeps_image_and_mask_aligned():
    image, mask = coded_pair()
    for seed in range(5):
        rolled_image, rolled_mask = PanoramaAugment(flip=True, jitter=0.0, seed=seed)(image, mask)
        assert torch.equal(rolled_image[0], rolled_mask / 7)
        assert any(torch.equal(rolled_mask, m.roll(s, 1)) for s in range(10)
                   for m in (mask, mask.flip(1)))


def test_flip_twice_is_identity_and_roll_is_a_rotation():
    image, mask = coded_pair()
    flipped = hflip(*hflip(image, mask))
    assert torch.equal(flipped[0], image) and torch.equal(flipped[1], mask)
    turned = roll(*roll(image, mask, 3), 7)
    assert torch.equal(turned[0], image) and torch.equal(turned[1], mask)  # 3 + 7 = W columns


def test_jitter_changes_the_image_only():
    image, mask = coded_pair()
    out_image, out_mask = PanoramaAugment(roll=False, flip=False, jitter=0.5, seed=0)(image, mask)
    assert torch.equal(out_mask, mask)
    assert not torch.equal(out_image, image)
    assert 0 <= out_image.min() and out_image.max() <= 1


def test_augment_is_reproducible_for_a_seed_and_checks_input():
    image, mask = coded_pair()
    first = [PanoramaAugment(seed=3)(image, mask) for _ in range(2)]
    assert torch.equal(first[0][0], first[1][0]) and torch.equal(first[0][1], first[1][1])
    with pytest.raises(ValueError, match="mask"):
        PanoramaAugment()(image, mask[:, :-1])
    with pytest.raises(ValueError, match="jitter"):
        PanoramaAugment(jitter=1.5)


def test_augmented_subset(folder):
    root, _ = folder
    data = PanoramaFolder(root)
    train, _, _ = split_indices(len(data), (0.67, 0.33, 0.0), seed=0)
    augmented = Transformed(Subset(data, train), PanoramaAugment(seed=0))
    assert len(augmented) == len(train) == 2
    image, mask = augmented[0]
    assert image.shape == (3, 6, 12) and mask.shape == (6, 12)


def test_folder_extensions_are_case_insensitive(tmp_path):
    rng = np.random.default_rng(1)
    for stem, suffix in (("a", ".PNG"), ("b", ".Png"), ("c", ".png")):
        for name, array in (("rgb", rng.integers(0, 256, (4, 8, 3), dtype=np.uint8)),
                            ("mask", rng.integers(0, 8, (4, 8), dtype=np.uint8))):
            (tmp_path / name).mkdir(exist_ok=True)
            Image.fromarray(array).save(tmp_path / name / f"{stem}{suffix}", "PNG")
    data = PanoramaFolder(tmp_path)
    assert len(data) == 3 and data[0][0].shape == (3, 4, 8)


@pytest.mark.parametrize("damage, culprit", [
    ("corrupt mask", "mask/b.png: unreadable or corrupt"), ("size mismatch", "mask/b.png: mask is 10x6"),
    ("colour mask", "mask/b.png: expected a single-channel index mask.*--colour-masks")])
def test_verify_reads_every_pair_before_any_work(folder, damage, culprit):
    root, _ = folder
    if damage == "corrupt mask":
        (root / "mask/b.png").write_bytes((root / "mask/b.png").read_bytes()[:60])
    elif damage == "size mismatch":
        Image.fromarray(np.zeros((6, 10), np.uint8)).save(root / "mask/b.png")
    else:
        Image.fromarray(np.zeros((6, 12, 3), np.uint8)).save(root / "mask/b.png")
    with pytest.raises(InputError, match=culprit):
        PanoramaFolder(root).verify()
    if damage == "colour mask":  # what the message suggests works
        PanoramaFolder(root, colour_masks=True).verify()


def test_synthetic_fine_labels_and_instances(tmp_path):
    fine = SyntheticPanoramas(2, 16, 32, seed=4, cache_dir=tmp_path, labels="fine", instances=True)
    image, labels, instances = fine[0]
    assert instances.dtype == torch.int64 and labels.shape == instances.shape == (16, 32)
    want = render_panorama(World.random(derive_seed(4, 0)), 16, 32, level="instance")[1]
    assert torch.equal(instances, want)
    assert torch.equal(labels, fine_from_instances(want))
    category = SyntheticPanoramas(2, 16, 32, seed=4, cache_dir=tmp_path)  # the same cached item
    assert category.key() == fine.key()
    assert torch.equal(category[0][1], categories_from_fine(labels))
    assert torch.equal(category[0][0], image)


def test_synthetic_cache_of_another_format_is_rendered_again(tmp_path):
    data = SyntheticPanoramas(1, 8, 16, seed=0, cache_dir=tmp_path)
    old = {"image": torch.zeros(3, 8, 16, dtype=torch.uint8), "mask": torch.zeros(8, 16, dtype=torch.uint8)}
    data.cache_path(0).parent.mkdir(parents=True)
    torch.save(old, data.cache_path(0))  # what a format-1 cache held
    image, mask = data[0]
    assert torch.equal(mask, render_panorama(World.random(derive_seed(0, 0)), 8, 16)[1])
    assert torch.load(data.cache_path(0), weights_only=True)["format"] == CACHE_FORMAT
    assert f"-v{RENDERER_VERSION}-f{CACHE_FORMAT}" in data.key()


def test_synthetic_tilted_panoramas(tmp_path):
    level = SyntheticPanoramas(2, 16, 32, seed=0, cache_dir=tmp_path, labels="fine")
    tilted = SyntheticPanoramas(2, 16, 32, seed=0, cache_dir=tmp_path, labels="fine", tilted=True)
    assert level.key() != tilted.key()
    assert not torch.equal(level[0][1], tilted[0][1])
    with pytest.raises(ValueError, match="tilted"):
        SyntheticPanoramas(1, 8, 8, kind="perspective", tilted=True, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="labels"):
        SyntheticPanoramas(1, 8, 8, labels="instance", cache_dir=tmp_path)


@pytest.fixture
def fine_folder(tmp_path):
    """Two 4x8 items in the Cityscapes-style layout: rgb/, labels/ (train ids), instances/."""
    rng = np.random.default_rng(0)
    items = {}
    for stem in "ab":
        fine = rng.choice([0, 2, 8, 10, 13, 255], (4, 8)).astype(np.uint8)
        ids = np.where(fine == 13, 13000 + rng.integers(0, 3, (4, 8)), fine).astype(np.uint16)
        items[stem] = fine, ids
        for name, array in (("rgb", rng.integers(0, 256, (4, 8, 3), dtype=np.uint8)),
                            ("labels", fine), ("instances", ids)):
            (tmp_path / name).mkdir(exist_ok=True)
            Image.fromarray(array).save(tmp_path / name / f"{stem}.png")
    return tmp_path, items


def test_folder_fine_layout(fine_folder):
    root, items = fine_folder
    data = PanoramaFolder(root, labels="fine", instances=True)
    data.verify()
    image, labels, instances = data[1]
    np.testing.assert_array_equal(labels.numpy(), items["b"][0])
    np.testing.assert_array_equal(instances.numpy(), items["b"][1])
    _, categories = PanoramaFolder(root)[1]  # no mask/ folder: categories from the train ids
    assert torch.equal(categories, categories_from_fine(labels))
    small = PanoramaFolder(root, size=(2, 4), labels="fine", instances=True)[0]
    assert small[1].shape == small[2].shape == (2, 4)
    assert set(small[2].unique().tolist()) <= set(np.unique(items["a"][1]).tolist())


@pytest.mark.parametrize("damage, culprit", [
    ("bad train id", "labels/b.png: train ids"), ("bad instance id", "instances/b.png: instance ids"),
    ("missing instances", "rgb/b.png has no partner .*instances/b.png"),
    ("no labels folder", "expected root/rgb and root/labels")])
def test_folder_fine_layout_errors_name_the_file(fine_folder, damage, culprit):
    root, _ = fine_folder
    if damage == "bad train id":
        Image.fromarray(np.full((4, 8), 30, np.uint8)).save(root / "labels/b.png")
    elif damage == "bad instance id":
        Image.fromarray(np.full((4, 8), 2001, np.uint16)).save(root / "instances/b.png")
    elif damage == "missing instances":
        (root / "instances/b.png").unlink()
    else:
        (root / "labels/a.png").unlink()
        (root / "labels/b.png").unlink()
        (root / "labels").rmdir()
    with pytest.raises(InputError, match=culprit):
        data = PanoramaFolder(root, labels="fine", instances=True)
        data[0]
        data[1]


def test_folder_level_arguments(fine_folder):
    root, _ = fine_folder
    with pytest.raises(ValueError, match="labels"):
        PanoramaFolder(root, labels="panoptic")
    with pytest.raises(ValueError, match="colour_masks"):
        PanoramaFolder(root, labels="fine", colour_masks=True)


def test_augment_moves_instance_maps_with_the_mask():
    image, mask = coded_pair()
    instances = mask * 1000 + 7
    for seed in range(4):
        out_image, out_mask, out_instances = PanoramaAugment(jitter=0.0, seed=seed)(image, mask, instances)
        assert torch.equal(out_instances, out_mask * 1000 + 7) and torch.equal(out_image[0], out_mask / 7)
    with pytest.raises(ValueError, match="mask"):
        PanoramaAugment()(image, mask, instances[:, :-1])


def test_tilt_turns_the_pair_on_the_sphere_and_keeps_labels_whole():
    """``tilt``: one random pitch and roll for the image (bilinear) and every map (nearest), from
    the augmentation's own draws; without it the draws and results are those of before."""
    from equiconv import rotate, rotation_matrix
    world = World.random(2)
    from panosis_models.data.render import render_panorama
    image, mask = render_panorama(world, 32, 64)
    instances = mask * 1000 + 7
    plain = PanoramaAugment(roll=False, flip=False, jitter=0.0, tilt=20.0, seed=5)
    turned, turned_mask, turned_ids = plain(image, mask, instances)
    draws = torch.Generator().manual_seed(5)
    pitch, roll_ = (-20.0 + 40.0 * torch.rand((), generator=draws).item() for _ in range(2))
    expected = rotation_matrix(pitch=pitch, roll=roll_)
    assert torch.equal(turned, rotate(image, expected))
    assert torch.equal(turned_mask, rotate(mask, expected, mode="nearest"))
    assert torch.equal(turned_ids, turned_mask * 1000 + 7)  # the maps moved together, ids whole
    assert not torch.equal(turned_mask, mask)
    untilted = PanoramaAugment(seed=3)(image, mask)
    again = PanoramaAugment(seed=3, tilt=0.0)(image, mask)
    assert all(torch.equal(a, b) for a, b in zip(untilted, again))
    with pytest.raises(ValueError, match="tilt"):
        PanoramaAugment(tilt=91.0)
