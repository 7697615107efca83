"""The Cityscapes image-pairs layout: written from the renderer, read back through JPEG noise,
and refused with the file named when it is not such a pair."""
import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from panosis_models.data.cityscapes import FINE_COLOURS, VOID, categories_from_fine
from panosis_models.data.cityscapes_pairs import (CityscapesPairs, colours_to_fine, fine_to_colours, pair_files,
                                                  write_pairs, write_pairs_root)
from panosis_models.data.datasets import SyntheticPanoramas
from panosis_models.errors import InputError


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    write_pairs(root, 3, seed=5, cache_dir=root / "cache", progress=False)
    truth = SyntheticPanoramas(3, 256, 256, seed=5, cache_dir=root / "cache", kind="perspective", labels="fine")
    return root, truth


def test_pairs_read_back_through_jpeg_noise(pairs):
    root, truth = pairs
    data = CityscapesPairs(root, "train")
    assert len(data) == 3
    for i in range(3):
        photo, fine = data[i]
        image, want = truth[i]
        assert photo.shape == (3, 256, 256) and fine.shape == (256, 256)
        assert (photo - image).abs().mean() < 0.03  # JPEG of the photo
        labelled = fine != VOID
        assert labelled.float().mean() > 0.95  # JPEG ringing at class edges becomes void, a few percent
        # and rarely another class (chroma subsampling mixes two colours into a third class's at some edges)
        assert (fine[labelled] == want[labelled]).float().mean() > 0.99
        assert len(torch.unique(want)) > 3


def test_category_level_follows_the_table(pairs):
    root, _ = pairs
    fine = CityscapesPairs(root, "train")[0][1]
    assert torch.equal(CityscapesPairs(root, "train", labels="category")[0][1], categories_from_fine(fine))


def test_colours_map_to_their_class_within_the_threshold():
    fine = np.arange(19, dtype=np.uint8).reshape(1, 19)
    colours = fine_to_colours(fine)
    assert np.array_equal(colours_to_fine(colours), fine)
    noisy = np.clip(colours.astype(int) + np.array([9, -9, 9]), 0, 255).astype(np.uint8)  # < 10 of bus/train's 20
    assert np.array_equal(colours_to_fine(noisy), fine)
    far = np.array([[[255, 255, 255], [10, 200, 10]]], dtype=np.uint8)  # white, bright green: no class
    assert (colours_to_fine(far) == VOID).all()
    assert (colours_to_fine(FINE_COLOURS[None]) == np.arange(19)).all()


def test_files_are_taken_in_numeric_order(tmp_path):
    for n in (10, 2, 1):
        Image.new("RGB", (512, 256)).save(tmp_path / f"{n}.jpg")
    assert [p.name for p in pair_files(tmp_path)] == ["1.jpg", "2.jpg", "10.jpg"]


def _pair(tmp_path, array, name="1.jpg"):
    (tmp_path / "train").mkdir(exist_ok=True)
    Image.fromarray(array).save(tmp_path / "train" / name)
    return CityscapesPairs(tmp_path, "train")


def test_a_wrong_size_is_refused_naming_the_file(tmp_path):
    with pytest.raises(InputError, match=r"1\.jpg: a pair must be 512x256.*got 300x200"):
        _pair(tmp_path, np.zeros((200, 300, 3), np.uint8))[0]


def test_an_unreadable_file_is_refused_naming_it(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "7.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match=r"7\.jpg: unreadable"):
        CityscapesPairs(tmp_path, "train")[0]


def test_a_label_half_of_other_colours_is_refused_with_its_share(tmp_path):
    array = np.zeros((256, 512, 3), np.uint8)
    array[:, 256:] = (255, 255, 255)  # white: no Cityscapes class
    array[:64, 256:] = FINE_COLOURS[0]
    data = _pair(tmp_path, array)
    with pytest.raises(InputError, match=r"1\.jpg: 7\d% of its label half lies farther than 40"):
        data[0]


def test_missing_folders_and_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        CityscapesPairs(tmp_path, "val")
    with pytest.raises(ValueError, match="split"):
        CityscapesPairs(tmp_path, "test")
    with pytest.raises(ValueError, match="num"):
        write_pairs(tmp_path, 0)


@pytest.mark.slow  # a console script in a subprocess
def test_the_command_line_writes_both_splits_and_errors_in_one_line(tmp_path):
    from tests.helpers.console import run_cli
    result = run_cli("panosis-cityscapes-pairs", "--out", tmp_path / "pairs", "--train", "2", "--val", "1",
                     "--cache-dir", tmp_path / "cache", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert len(CityscapesPairs(tmp_path / "pairs", "train")) == 2 and len(CityscapesPairs(tmp_path / "pairs", "val")) == 1
    bad = run_cli("panosis-cityscapes-pairs", "--out", tmp_path / "x", "--val", "-2")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--val" in bad.stderr


@pytest.mark.slow  # a training run
def test_a_pairs_folder_trains_with_its_own_split(tmp_path):
    """--layout cityscapes-pairs: train/ trains, val/ validates and tests, every item resized to
    the run's size; a file of the wrong size is refused before training starts."""
    from panosis_models.data.source import split
    from panosis_models.segmentation.config import TrainConfig
    from panosis_models.segmentation.train import train
    write_pairs_root(tmp_path / "pairs", 3, 2, seed=3, cache_dir=tmp_path / "cache", progress=False)
    cfg = TrainConfig(data=str(tmp_path / "pairs"), layout="cityscapes-pairs", size=(32, 32), labels="fine",
                      channels=(4, 8), epochs=1, batch_size=2, device="cpu", progress=False, out=str(tmp_path / "run"))
    train_set, val_set, test_set = split(cfg)
    assert (len(train_set), len(val_set), len(test_set)) == (3, 2, 2)
    image, labels = val_set[1]
    assert image.shape == (3, 32, 32) and labels.shape == (32, 32)
    reference = CityscapesPairs(tmp_path / "pairs", "val", labels="fine")[1][1]
    assert set(labels.unique().tolist()) <= set(reference.unique().tolist())  # nearest: no new labels
    summary = train(cfg)
    assert summary["parameters"] > 0 and summary["history"][0]["train_images_per_s"] > 0
    Image.new("RGB", (300, 256)).save(tmp_path / "pairs/val/9.jpg")
    with pytest.raises(InputError, match=r"9.jpg: a pair must be 512x256"):
        train(dataclasses.replace(cfg, out=str(tmp_path / "again")))
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())
    with pytest.raises(InputError, match="layout 'cityscapes-pairs' describes a folder"):
        train(dataclasses.replace(cfg, data="synthetic"))
