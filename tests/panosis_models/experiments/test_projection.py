"""The projection experiment: several seeds summarised as mean +- standard deviation, level and
tilted test panoramas, and the rule that a difference under two standard deviations is noise."""
import json

import pytest

from panosis_models.cli.experiment import main as experiment_main
from panosis_models.experiments import projection
from panosis_models.experiments.results import METRICS, summarise, verdict

TINY = dict(size=(32, 64), view_side=16, channels=(4, 8), batch_norm=True, pspnet="tiny", num_train=6, num_test=2,
            epochs=1, batch_size=3)


def row(conv, seed, miou):
    return {"train": "panorama", "conv": conv, "test": "level", "seed": seed,
            "metrics": {name: miou for name in METRICS}, "iou": {"1": miou}}


def test_summary_over_seeds_by_hand():
    rows = [row("std", 0, 0.5), row("std", 1, 0.7), row("equi", 0, 0.8), row("equi", 1, 0.8)]
    std, equi = summarise(rows)
    assert std["seeds"] == [0, 1] and std["metrics"]["miou"]["mean"] == pytest.approx(0.6)
    assert std["metrics"]["miou"]["std"] == pytest.approx(0.02 ** 0.5)  # sample std of 0.5, 0.7
    assert equi["iou"]["1"]["std"] == 0.0
    # +0.2 against 2 x 0.1414: noise; against a spread of 0.05: better
    assert verdict(std["metrics"]["miou"], equi["metrics"]["miou"]) == "+0.2000 (noise)"
    assert verdict({"mean": 0.6, "std": 0.05}, {"mean": 0.8, "std": 0.0}) == "+0.2000 (better)"
    assert verdict({"mean": 0.6, "std": 0.05}, {"mean": 0.4, "std": 0.0}) == "-0.2000 (worse)"
    assert "one seed" in verdict({"mean": 0.6, "std": None}, {"mean": 0.7, "std": None})


@pytest.mark.slow  # training runs
def test_two_seeds_with_tilted_panoramas(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(projection.PRESETS, "tiny", TINY)
    experiment_main(["--preset", "tiny", "--seeds", "0,1", "--out", str(tmp_path / "x"), "--device", "cpu",
                     "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    results = json.loads((tmp_path / "x/results.json").read_text())
    assert len(results["rows"]) == 2 * 4 * 2  # seeds x (train, conv) x test sets
    assert {(r["test"], r["seed"]) for r in results["rows"]} == {(t, s) for t in ("level", "tilted") for s in (0, 1)}
    summary = results["summary"]
    assert len(summary) == 8 and all(r["seeds"] == [0, 1] for r in summary)
    assert all(r["metrics"]["area_miou"]["std"] is not None for r in summary)
    table = (tmp_path / "x/table.md").read_text()
    assert "±" in table and "area mIoU |lat| 60-90" in table and "tested on tilted panoramas" in table
    assert (tmp_path / "x/seed-1/unet/panorama-equi/test-equi-tilted/latitude.png").is_file()
    assert "written" in capsys.readouterr().out


@pytest.mark.parametrize("seeds", ["", "0,0", "a"])
def test_bad_seeds_are_one_line_errors(seeds, capsys):
    with pytest.raises(SystemExit):
        experiment_main(["--seeds", seeds])
    assert "seeds must be distinct integers" in capsys.readouterr().err


@pytest.mark.slow  # training runs
def test_pspnet_trained_on_image_pairs(tmp_path, monkeypatch):
    """--model pspnet --pairs synthetic: a cityscapes-image-pairs folder written per seed trains the
    perspective arm (std, converted to equi, and equi-trained), beside the panorama arm; every row
    names its model, parameter count and training speed."""
    monkeypatch.setitem(projection.PRESETS, "tiny", {**TINY, "view_side": 48})  # PSPNet equi: >= 6 columns at stride 8
    experiment_main(["--preset", "tiny", "--model", "pspnet", "--pairs", "synthetic", "--out", str(tmp_path / "x"),
                     "--device", "cpu", "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    results = json.loads((tmp_path / "x/results.json").read_text())
    assert [(r["train"], r["conv"]) for r in results["summary"] if r["test"] == "level"] == [
        ("pairs", "std"), ("pairs", "converted"), ("pairs", "equi"), ("panorama", "std"), ("panorama", "equi")]
    assert all(r["model"] == "pspnet" and r["parameters"] > 0 and r["train_images_per_s"] > 0 for r in results["rows"])
    assert len(list((tmp_path / "x/seed-0/pairs/train").glob("*.jpg"))) == 5  # 6 items, 90/10
    assert json.loads((tmp_path / "x/seed-0/pspnet/pairs-std/summary.json").read_text())["config"]["layout"] \
        == "cityscapes-pairs"
    table = (tmp_path / "x/table.md").read_text()
    assert "| pspnet | pairs | converted | level | 1 |" in table and "pspnet trained on pairs" in table


@pytest.mark.parametrize("flags,message", [(["--model", "unet,segnet"], "expected distinct names from unet, pspnet"),
                                           (["--pairs", "/nonexistent"], "pairs must be 'synthetic' or a cityscapes"),
                                           (["--study", "latitude", "--model", "pspnet"], "--model apply to")])
def test_bad_model_and_pairs_flags_are_one_line_errors(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        experiment_main([*flags, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0
