"""The one-shot ceiling table: per class the best of every predictor, then the mean over classes."""
import json
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

from tables import oneshot_ceiling, oneshot_folds  # noqa: E402


def scores(iou: dict) -> dict:
    return {"pixel": {"iou": iou, "miou": sum(iou.values()) / len(iou)}}


def method(iou: dict) -> dict:
    return {"class_iou": {c: {"mean": v} for c, v in iou.items()},
            "pixel_miou": {"mean": sum(iou.values()) / len(iou)}}


def fold() -> dict:
    variants = ("1-shot", "5-shot-or", "5-shot-mean")
    colour = {"1-shot": {"a": 0.5, "b": 0.1}, "5-shot-or": {"a": 0.6, "b": 0.1}, "5-shot-mean": {"a": 0.4, "b": 0.0}}
    net = {"1-shot": {"a": 0.2, "b": 0.4}, "5-shot-or": {"a": 0.1, "b": 0.2}, "5-shot-mean": {"a": 0.3, "b": 0.5}}
    return {"baselines": {"colour": {v: scores(colour[v]) for v in variants}},
            "best_trivial": {v: {"name": "colour", "miou": sum(colour[v].values()) / 2} for v in variants},
            "methods": {"prototype": {v: method(net[v]) for v in variants}}}


def test_the_ceiling_takes_each_class_from_its_best_predictor_over_both_five_shot_aggregations():
    assert oneshot_ceiling.class_best(fold(), ("1-shot",)) == {"a": 0.5, "b": 0.4}
    assert oneshot_ceiling.class_best(fold(), ("5-shot-or", "5-shot-mean")) == {"a": 0.6, "b": 0.5}


def test_the_rows_give_the_target_the_methods_and_the_ceiling_against_it_at_each_size_of_a_fold(tmp_path):
    for source in oneshot_ceiling.SOURCES:
        folds = {"0": fold(), "1": fold()} if source == oneshot_folds.PROTOCOL else {source.split("fold")[1][0]: fold()}
        if "fold2" in source:
            folds["2"]["methods"]["oslsm"] = folds["2"]["methods"]["prototype"]
        (tmp_path / source).write_text(json.dumps({"target": {"minus_best_trivial": 0.05}, "folds": folds}))
    lines = oneshot_ceiling.render(tmp_path).splitlines()
    assert lines[0].split(" | ")[4:6] == ["prototype", "OSLSM"]  # the methods some file holds, and no others
    assert lines[2].split(" | ") == ["| 0", "64×128", "1", "0.350", "0.300", "–", "0.450", "+0.100 |"]
    assert lines[3].split(" | ") == ["| 0", "64×128", "5", "0.400", "0.400", "–", "0.550", "+0.150 |"]
    assert lines[-1].split(" | ")[3:6] == ["0.400", "0.400", "0.400"]
    assert [line.split(" | ")[:2] for line in lines[4:]] == [["| 1", "64×128"]] * 2 + [["| 1", "128×256"]] * 2 + [
        ["| 2", "128×256"]] * 2


def test_files_with_different_targets_are_refused_rather_than_headed_with_one_of_them(tmp_path):
    for i, source in enumerate(oneshot_ceiling.SOURCES):
        (tmp_path / source).write_text(json.dumps({"target": {"minus_best_trivial": 0.05 + 0.01 * (i == 2)},
                                                   "folds": {"0": fold()}}))
    with pytest.raises(ValueError, match="different targets"):
        oneshot_ceiling.render(tmp_path)
