"""Tilted panoramas made by rotating level ones (``data.tilt.TiltedPanoramas``) agree with the
renderer's own tilted panoramas of the same worlds and angles, up to resampling."""
import pytest
import torch

from panosis_models.data.datasets import held_out_panoramas
from panosis_models.data.tilt import TiltedPanoramas


def test_rotated_level_panoramas_match_the_rendered_tilted_ones(tmp_path):
    level = held_out_panoramas(2, (32, 64), 0, cache_dir=tmp_path, instances=True)
    rendered = held_out_panoramas(2, (32, 64), 0, cache_dir=tmp_path, instances=True, tilted=True)
    turned = TiltedPanoramas(level, level.seed)
    assert len(turned) == 2
    for index in range(2):
        image, labels, ids = turned[index]
        true_image, true_labels, true_ids = rendered[index]
        assert labels.dtype == true_labels.dtype and ids.dtype == true_ids.dtype
        assert (labels == true_labels).float().mean() > 0.9
        assert (ids == true_ids).float().mean() > 0.9
        assert set(ids.unique().tolist()) <= set(level[index][2].unique().tolist())  # ids stay whole
        assert (image - true_image).abs().mean() < 0.06
    assert turned.angles(0) != turned.angles(1)
    with pytest.raises(ValueError, match="max_tilt"):
        TiltedPanoramas(level, 0, max_tilt=120.0)


def test_no_tilt_changes_nothing(tmp_path):
    level = held_out_panoramas(1, (16, 32), 1, cache_dir=tmp_path)
    image, labels = TiltedPanoramas(level, 5, max_tilt=0.0)[0]
    assert torch.equal(image, level[0][0]) and torch.equal(labels, level[0][1])


def test_the_projection_experiment_can_tilt_by_rotating(tmp_path):
    from panosis_models.experiments.projection import ExperimentConfig, held_out_sets
    cfg = ExperimentConfig(tilt_by="rotate", cache_dir=str(tmp_path), progress=False)
    sets = held_out_sets({"num_test": 2, "size": (16, 32)}, cfg, seed=0)
    assert isinstance(sets["tilted"], TiltedPanoramas) and sets["tilted"].dataset is sets["level"]
    rendered = held_out_sets({"num_test": 2, "size": (16, 32)}, ExperimentConfig(cache_dir=str(tmp_path)), seed=0)
    assert rendered["tilted"].tilted and not isinstance(rendered["tilted"], TiltedPanoramas)
    with pytest.raises(Exception, match="tilt_by"):
        ExperimentConfig(tilt_by="spin").settings()
