"""Choosing the one-pair routes' U-Net epochs on validation worlds: the summary's paired reading,
the refusals, and a tiny run end to end, read back when repeated."""
import json

import pytest

from panosis_models.experiments import pair_epochs, panosis
from panosis_models.experiments.pair_baselines import COLOUR_IN_ROWS


def fake(pair_seed, epochs, unet, colour):
    return {"pair_seed": pair_seed, "epochs": epochs, "seed": 0,
            "unet": {t: {"miou": unet, "iou": {}} for t in ("level", "tilted")},
            COLOUR_IN_ROWS: {t: {"miou": colour, "iou": {}} for t in ("level", "tilted")}}


def test_the_summary_pairs_each_run_with_colour_on_its_own_pair():
    runs = [fake(0, 10, 0.30, 0.32), fake(1, 10, 0.31, 0.34), fake(2, 10, 0.29, 0.30),
            fake(0, 40, 0.42, 0.32), fake(1, 40, 0.45, 0.34), fake(2, 40, 0.41, 0.30)]
    summary = pair_epochs.summarise(runs, [10, 40])
    assert list(summary) == ["10", "40"]
    level = summary["40"]["level"]
    assert level["unet"]["mean"] == pytest.approx(1.28 / 3)
    assert level["minus_colour_in_rows"]["values"] == pytest.approx([0.10, 0.11, 0.11])
    assert level["above_2std"]  # +0.107 against a std of 0.006
    noisy = summary["10"]["level"]["minus_colour_in_rows"]
    assert noisy["mean"] == pytest.approx(-0.02) and not summary["10"]["level"]["above_2std"]


@pytest.mark.parametrize("flags, says", [(["--epochs", "0"], "at least 1"), (["--pairs", "a"], "whole numbers"),
                                         (["--tilt", "91"], "--tilt"), (["--class-weight", "x"], "--class-weight")])
def test_bad_arguments_are_refused_before_any_run(tmp_path, capsys, flags, says):
    with pytest.raises(SystemExit) as exit:
        pair_epochs.main([str(tmp_path / "root"), str(tmp_path / "out.json"), "--date", "d", *flags])
    assert exit.value.code == 2 and says in capsys.readouterr().err and not (tmp_path / "root").exists()


@pytest.mark.slow  # trains a U-Net
def test_a_tiny_choice_end_to_end_and_read_back(tmp_path, capsys, monkeypatch):
    root, out = tmp_path / "root", tmp_path / "out.json"
    args = ["--pairs", "0", "--epochs", "1", "--num", "2", "--date", "2026-12-07"]
    pair_epochs.main([str(root), str(out), *args])
    written = json.loads(out.read_text())
    (run,) = written["runs"]
    assert (run["pair_seed"], run["epochs"]) == (0, 1) and (root / "pair0-e1/scores.json").is_file()
    for test in ("level", "tilted"):
        assert 0 <= run["unet"][test]["miou"] <= 1 and 0 <= run[COLOUR_IN_ROWS][test]["miou"] <= 1
    assert written["summary"]["1"]["level"]["minus_colour_in_rows"]["std"] is None  # one pair: no spread
    assert written["command"].endswith("--date 2026-12-07")
    assert set(written["pair_shares"]) == {"0"}
    # a second call reads the finished run instead of training again, and never overwrites OUT
    monkeypatch.setattr(panosis, "train_route", lambda *a, **k: pytest.fail("trained again"))
    pair_epochs.main([str(root), str(tmp_path / "again.json"), *args])
    assert json.loads((tmp_path / "again.json").read_text())["runs"] == written["runs"]
    with pytest.raises(SystemExit) as exit:
        pair_epochs.main([str(root), str(out), *args])
    assert exit.value.code == 2 and "out:" in capsys.readouterr().err


def test_a_training_variant_reaches_the_unets_and_names_its_folders(tmp_path):
    assert pair_epochs.variant_name(0.0, None) == ""
    assert pair_epochs.variant_name(30.0, "balanced") == "-tilt30-balanced"
    cfg = panosis.PipelineConfig(quick=True, tilt=30.0, class_weight="balanced")
    unet = panosis.unet_config(cfg, cfg.settings(), tmp_path / "unet", tmp_path / "pair", "std", 1)
    assert (unet.tilt, unet.class_weight) == (30.0, "balanced")
    plain = panosis.PipelineConfig(quick=True)
    assert (panosis.unet_config(plain, plain.settings(), tmp_path / "u", tmp_path / "p", "std", 1).class_weight
            is None)


def test_pair_shares_count_the_pairs_own_mask():
    shares = pair_epochs.pair_shares(0)
    cfg = panosis.PipelineConfig(quick=True, pair_seed=0)
    labels = panosis.training_pair(panosis.osmis_config(cfg, cfg.settings())).labels
    labelled = (labels > 0).sum().item()
    assert "unlabelled" not in shares and sum(shares.values()) == pytest.approx(1, abs=1e-3)
    assert shares["nature"] == pytest.approx((labels == 4).sum().item() / labelled, abs=1e-4)
