"""The panoptic experiment end to end at a tiny preset: both convolutions per seed, both test
sets, and tables that carry the connected-components baseline and each thing class's IoU and PQ."""
import json

import pytest

from panosis_models.experiments import panoptic as experiment


@pytest.mark.slow
def test_a_tiny_experiment_reports_the_baseline_and_each_thing_class(tmp_path, monkeypatch):
    monkeypatch.setitem(experiment.PRESETS, "demo", dict(
        size=(32, 64), level="category", channels=(4, 8), batch_norm=True, head_channels=4, num_train=8, num_validation=2,
        num_test=3, epochs=1, batch_size=4, thing_weight=5.0))
    summary = experiment.run(experiment.PanopticExperimentConfig(out=str(tmp_path / "out"), seeds=(0,),
                                                                 cache_dir=str(tmp_path / "cache")))
    assert {(r["conv"], r["test"]) for r in summary["rows"]} == {(c, t) for c in experiment.CONVS
                                                                 for t in experiment.TESTS}
    metrics = summary["rows"][0]["metrics"]
    for name in ("pixel_pq_things_components", "pixel_iou_vehicle", "pixel_pq_person", "area_iou_person"):
        assert name in metrics
    assert 0 <= metrics["pixel_iou_vehicle"] <= 1
    assert "| vehicle IoU | vehicle PQ |" in summary["table"].replace("person IoU | person PQ | ", "")
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["settings"]["thing_weight"] == 5.0 and "grouping" in saved["rows"][0]["postprocessing"]
    assert (tmp_path / "out" / "table.md").read_text().count("| std | level |") == 3  # PQ x 2 weightings, things
