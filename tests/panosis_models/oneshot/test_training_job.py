"""The one-shot job: episodic training resumes bit-identically, refuses another run's checkpoint,
and its commands run (``python -m panosis_models.cli.oneshot_train`` too) with one-line errors."""
import json
import runpy
import sys

import pytest
import torch

from panosis_models.cli.oneshot_evaluate import main as evaluate_main
from panosis_models.cli.oneshot_train import main as train_main
from panosis_models.engine.config import LAST


def tiny_args(out, cache, *extra):
    return ["--fold", "1", "--out", str(out), "--size", "16x32", "--num", "6", "--channels", "4,8",
            "--episodes", "2", "--batch-size", "2", "--device", "cpu", "--cache-dir", str(cache),
            "--no-progress", "--validation", "6", "--val-episodes", "4", *extra]


@pytest.mark.slow  # training runs
def test_two_step_training_resumes_bit_identically(tmp_path):
    cache = tmp_path / "cache"
    train_main(tiny_args(tmp_path / "straight", cache, "--epochs", "2"))
    train_main(tiny_args(tmp_path / "resumed", cache, "--epochs", "1"))
    train_main(tiny_args(tmp_path / "resumed", cache, "--epochs", "2", "--resume"))
    straight = torch.load(tmp_path / "straight" / LAST, weights_only=True)
    resumed = torch.load(tmp_path / "resumed" / LAST, weights_only=True)
    assert resumed["epoch"] == straight["epoch"] == 1
    for name, value in straight["model"].items():
        assert torch.equal(value, resumed["model"][name]), name
    assert [h["loss"] for h in straight["history"]] == [h["loss"] for h in resumed["history"]]
    summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert not set(summary["base_classes"]) & {1, 5, 9, 13, 17}  # fold 1's novel classes

    out = tmp_path / "eval"
    evaluate_main(["--checkpoint", str(tmp_path / "resumed" / LAST), "--episodes", "3", "--panoramas", "6",
                   "--shots", "1,2", "--cache-dir", str(cache), "--out", str(out), "--no-progress"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["episodes"] == 3 and set(metrics["scores"]) == {"1-shot", "2-shot-or", "2-shot-mean"}
    assert set(metrics["classes"]) <= {1, 5, 9, 13, 17}
    assert metrics["support_check"] is False

    evaluate_main(["--checkpoint", str(tmp_path / "resumed" / LAST), "--episodes", "3", "--panoramas", "6",
                   "--shots", "1,2", "--cache-dir", str(cache), "--support-check", "--no-progress"])
    checked = json.loads((tmp_path / "resumed" / "eval-checked" / "metrics.json").read_text())
    assert checked["support_check"] is True and checked["baselines"] == metrics["baselines"]

    evaluate_main(["--checkpoint", str(tmp_path / "resumed" / LAST), "--episodes", "3", "--panoramas", "6",
                   "--shots", "1,2", "--cache-dir", str(cache), "--support-check", "--colour-gains", "1,4",
                   "--no-progress"])
    graded = json.loads((tmp_path / "resumed" / "eval-checked-gains" / "metrics.json").read_text())
    assert graded["colour_gains"] == [1.0, 4.0] and graded["baselines"] == metrics["baselines"]
    counted = graded["scores"]["1-shot"]["choices"]
    assert list(counted) == ["network", "network, colour cue ×4", "colour in support rows"]
    assert sum(n for c in counted.values() for n in c["episodes"].values()) == 3


def test_resume_refuses_another_fold_and_commands_fail_in_one_line(tmp_path, capsys):
    cache = tmp_path / "cache"
    train_main(tiny_args(tmp_path / "run", cache, "--epochs", "1"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        train_main([*tiny_args(tmp_path / "run", cache, "--epochs", "2", "--resume")[2:], "--fold", "2"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("panosis-oneshot-train: error: cannot resume") and "fold=1" in err and "\n" not in err
    with pytest.raises(SystemExit):
        evaluate_main(["--checkpoint", str(tmp_path / "missing.pt")])
    assert capsys.readouterr().err.strip() == (f"panosis-oneshot-evaluate: error: checkpoint "
                                              f"{tmp_path / 'missing.pt'} does not exist")
    with pytest.raises(SystemExit):
        evaluate_main(["--checkpoint", "x.pt", "--shots", "0,1"])
    assert "shots must be distinct positive integers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        evaluate_main(["--checkpoint", "x.pt", "--colour-gains", "2,4"])
    assert stop.value.code == 2 and "colour gains must start at 1 and rise" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        evaluate_main(["--checkpoint", str(tmp_path / "run" / LAST), "--colour-gains", "1,2"])
    assert stop.value.code == 2 and capsys.readouterr().err.strip().endswith("add --support-check")
    train_main(tiny_args(tmp_path / "plain", cache, "--epochs", "1", "--no-cues"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        evaluate_main(["--checkpoint", str(tmp_path / "plain" / LAST), "--support-check", "--colour-gains", "1,2"])
    assert stop.value.code == 2 and "needs a network trained with cues" in capsys.readouterr().err
    assert not (tmp_path / "plain" / "eval-checked-gains").exists()
    with pytest.raises(SystemExit) as stop:
        train_main(tiny_args(tmp_path / "aligned", cache, "--method", "oslsm", "--align", "1"))
    assert stop.value.code == 2 and capsys.readouterr().err.strip().endswith(
        "error: align is for --method prototype, got it with --method oslsm")
    with pytest.raises(SystemExit) as stop:
        train_main(tiny_args(tmp_path / "aligned", cache, "--align", "-1"))
    assert stop.value.code == 2 and "--align" in capsys.readouterr().err
    assert not (tmp_path / "aligned").exists()


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # the test imported it already
def test_the_command_module_runs_the_command(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["oneshot_train.py", "--help"])  # python -m panosis_models.cli.oneshot_train --help
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("panosis_models.cli.oneshot_train", run_name="__main__")
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("usage: panosis-oneshot-train")


@pytest.mark.slow  # two training runs
def test_a_prototype_run_then_an_oslsm_run_from_it_through_the_commands(tmp_path, capsys):
    cache = tmp_path / "cache"
    small = ["--epochs", "1"]
    train_main(tiny_args(tmp_path / "prototype", cache, "--method", "prototype", *small))
    train_main(tiny_args(tmp_path / "oslsm", cache, "--method", "oslsm", "--pretrained",
                         str(tmp_path / "prototype" / LAST), *small))
    prototype = torch.load(tmp_path / "prototype" / LAST, weights_only=True)
    oslsm = torch.load(tmp_path / "oslsm" / LAST, weights_only=True)
    assert prototype["config"]["method"] == "prototype" and oslsm["config"]["method"] == "oslsm"
    assert oslsm["config"]["generator"] == "hashed" and oslsm["config"]["novel"] == "ignore"
    assert "val_miou" in oslsm["history"][0] and oslsm["model"]["threshold"].dim() == 0
    out = tmp_path / "eval"
    capsys.readouterr()
    evaluate_main(["--checkpoint", str(tmp_path / "oslsm" / LAST), "--episodes", "3", "--panoramas", "6",
                   "--shots", "1,2", "--cache-dir", str(cache), "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["threshold"] == oslsm["model"]["threshold"].item()
    assert set(metrics["baselines"]) == {"nothing", "all foreground", "support mask pasted", "colour prototype",
                                         "colour prototype in support rows"}
    assert set(metrics["best_baseline"]) == {"1-shot", "2-shot-or", "2-shot-mean"}
    assert "[colour prototype in support rows] 1-shot: mean IoU" in printed
    with pytest.raises(SystemExit) as stop:  # OSLSM cannot start from another OSLSM
        train_main(tiny_args(tmp_path / "again", cache, "--method", "oslsm", "--pretrained",
                             str(tmp_path / "oslsm" / LAST), *small))
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "must be a prototype run of fold 1" in err and "\n" not in err
