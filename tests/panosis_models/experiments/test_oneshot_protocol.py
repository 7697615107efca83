"""The one-shot protocol's summary: paired differences to the best trivial predictor, the
two-standard-deviation reading and the target, from metrics files as evaluate writes them."""
import json

import pytest

from panosis_models.experiments.oneshot_protocol import VARIANTS, main, paired, summarise


def trivial(miou: float) -> dict:
    """Baselines as evaluate writes them, every trivial predictor reduced to one."""
    return {"nothing": {v: {"pixel": {"miou": miou}, "area": {"miou": miou}} for v in VARIANTS}}


def metrics(miou: float, best: float = 0.2, baselines=None) -> dict:
    score = {"pixel": {"miou": miou, "iou": {"1": miou}}, "area": {"miou": miou + 0.01, "iou": {"1": miou}}}
    return {"classes": [1], "episodes": 10, "panoramas": 4, "threshold": 0.0,
            "scores": {v: score for v in VARIANTS},
            "baselines": baselines or trivial(0.0),
            "best_baseline": {v: {"name": "colour", "miou": best} for v in VARIANTS}}


def write(root, prefix, fold, seed, data):
    path = root / f"{prefix}-f{fold}-s{seed}" / "eval" / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))


def test_differences_are_paired_per_seed_and_read_with_the_rules(tmp_path):
    for seed, miou in enumerate((0.26, 0.27, 0.28)):
        write(tmp_path, "proto", 1, seed, metrics(miou))
    for seed, miou in enumerate((0.10, 0.30, 0.22)):
        write(tmp_path, "oslsm", 1, seed, metrics(miou))
    fold = summarise(tmp_path, [1], [0, 1, 2])["1"]
    proto, oslsm = fold["methods"]["prototype"]["1-shot"], fold["methods"]["oslsm"]["1-shot"]
    assert proto["minus_best_trivial"]["mean"] == pytest.approx(0.07)
    assert proto["minus_best_trivial"]["std"] == pytest.approx(0.01)
    assert proto["above_2std"] and proto["meets_target"]
    assert proto["area_miou"]["mean"] == pytest.approx(0.28)
    assert oslsm["minus_best_trivial"]["mean"] == pytest.approx(0.62 / 3 - 0.2)
    assert not oslsm["above_2std"] and not oslsm["meets_target"]


def test_a_method_without_every_seed_is_left_out_and_an_empty_root_refused(tmp_path, capsys):
    write(tmp_path, "proto", 2, 0, metrics(0.3))
    assert summarise(tmp_path, [2], [0, 1]) == {}
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path), str(tmp_path / "out.json"), "--folds", "2", "--seeds", "0,1", "--date", "d"])
    assert exit_.value.code == 2 and "root" in capsys.readouterr().err


def test_runs_scored_on_different_episodes_are_refused(tmp_path, capsys):
    write(tmp_path, "proto", 3, 0, metrics(0.3))
    write(tmp_path, "proto", 3, 1, metrics(0.3, baselines=trivial(0.1)))
    with pytest.raises(ValueError, match="different episodes"):
        summarise(tmp_path, [3], [0, 1])
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path), str(tmp_path / "out.json"), "--folds", "3", "--seeds", "0,1", "--date", "d"])
    assert exit_.value.code == 2 and "root: fold 3" in capsys.readouterr().err


def test_the_file_is_written_once_and_never_overwritten(tmp_path, capsys):
    for seed in (0, 1):
        write(tmp_path, "proto", 1, seed, metrics(0.3))
    out = tmp_path / "summary.json"
    main([str(tmp_path), str(out), "--folds", "1", "--seeds", "0,1", "--date", "2026-12-03", "--command", "c"])
    data = json.loads(out.read_text())
    assert data["commands"] == ["c"] and list(data["folds"]) == ["1"]
    with pytest.raises(SystemExit):
        main([str(tmp_path), str(out), "--folds", "1", "--seeds", "0,1", "--date", "d"])
    assert "exists" in capsys.readouterr().err


def test_a_k_shot_variant_is_compared_with_the_best_trivial_k_shot_predictor_of_any_aggregation(tmp_path):
    data = metrics(0.25)
    data["best_baseline"]["5-shot-or"] = {"name": "pasted, OR", "miou": 0.3}
    data["best_baseline"]["5-shot-mean"] = {"name": "colour", "miou": 0.1}
    write(tmp_path, "proto", 0, 0, data)
    fold = summarise(tmp_path, [0], [0])["0"]
    assert fold["methods"]["prototype"]["5-shot-mean"]["minus_best_trivial"]["mean"] == pytest.approx(-0.05)
    assert fold["methods"]["prototype"]["1-shot"]["minus_best_trivial"]["mean"] == pytest.approx(0.05)
    assert fold["best_trivial"]["5-shot-mean"]["name"] == "pasted, OR"


def test_a_paired_difference_is_read_per_seed_and_refuses_unequal_seed_lists():
    gain = paired([0.30, 0.35, 0.40], [0.25, 0.27, 0.36])
    assert gain["per_seed"] == pytest.approx([0.05, 0.08, 0.04])
    assert gain["mean"] == pytest.approx(17 / 300) and gain["above_2std"]
    assert not paired([0.3, 0.2], [0.1, 0.25])["above_2std"]
    assert not paired([0.3], [0.1])["above_2std"]  # one seed says nothing about its spread
    with pytest.raises(ValueError):
        paired([0.3, 0.2], [0.1])


def test_a_support_checked_evaluation_is_its_own_method_where_every_seed_has_one(tmp_path):
    for seed in (0, 1):
        write(tmp_path, "proto", 0, seed, metrics(0.3))
        checked = tmp_path / f"proto-f0-s{seed}" / "eval-checked" / "metrics.json"
        checked.parent.mkdir()
        checked.write_text(json.dumps(metrics(0.4)))
    write(tmp_path, "oslsm", 0, 0, metrics(0.1))
    write(tmp_path, "oslsm", 0, 1, metrics(0.1))
    (tmp_path / "oslsm-f0-s0" / "eval-checked").mkdir()  # one seed only: left out
    (tmp_path / "oslsm-f0-s0" / "eval-checked" / "metrics.json").write_text(json.dumps(metrics(0.2)))
    methods = summarise(tmp_path, [0], [0, 1])["0"]["methods"]
    assert set(methods) == {"prototype", "prototype + support check", "oslsm"}
    assert methods["prototype + support check"]["1-shot"]["pixel_miou"]["mean"] == pytest.approx(0.4)


def test_the_support_checks_choices_are_summarised_as_shares_over_seeds_where_every_seed_counted_them(tmp_path):
    counts = ({"1": 3, "2": 1}, {"1": 1, "2": 3}), ({"1": 2, "2": 0}, {"1": 2, "2": 4})  # per seed: network, colour
    for seed, (network, colour) in enumerate(counts):
        data = metrics(0.3)
        total = sum(network.values()) + sum(colour.values())
        counted = {"network": {"episodes": network, "share": sum(network.values()) / total},
                   "colour": {"episodes": colour, "share": sum(colour.values()) / total}}  # as EpisodeScores reports
        data["scores"] = {v: {**s, "choices": counted} for v, s in data["scores"].items()}
        write(tmp_path, "proto", 0, seed, data)
    write(tmp_path, "oslsm", 0, 0, metrics(0.1))
    write(tmp_path, "oslsm", 0, 1, metrics(0.1))
    methods = summarise(tmp_path, [0], [0, 1])["0"]["methods"]
    colour = methods["prototype"]["1-shot"]["choices"]["colour"]
    assert colour["share"]["per_seed"] == pytest.approx([4 / 8, 6 / 8])
    assert colour["class_share"]["1"]["per_seed"] == pytest.approx([0.25, 0.5])
    assert colour["class_share"]["2"]["mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert "choices" not in methods["oslsm"]["1-shot"]  # not counted: nothing to summarise


def test_an_update_replaces_only_the_named_folds_and_records_itself(tmp_path, capsys):
    old, new = tmp_path / "old", tmp_path / "new"
    for fold in (1, 2):
        for seed in (0, 1):
            write(old, "proto", fold, seed, metrics(0.3))
    out = tmp_path / "summary.json"
    main([str(old), str(out), "--folds", "1,2", "--seeds", "0,1", "--date", "d1", "--command", "c1"])
    ranked = metrics(0.4)
    ranked["baselines"]["nothing"]["1-shot"]["ranking"] = {"mean_auc": 0.5}  # added by a later evaluation
    for seed in (0, 1):
        write(new, "proto", 2, seed, ranked)
        checked = new / f"proto-f2-s{seed}" / "eval-checked" / "metrics.json"
        checked.parent.mkdir()
        checked.write_text(json.dumps(metrics(0.45)))
    main([str(new), str(out), "--folds", "2", "--seeds", "0,1", "--date", "d2", "--command", "c2", "--update"])
    data = json.loads(out.read_text())
    assert data["folds"]["1"]["methods"]["prototype"]["1-shot"]["pixel_miou"]["mean"] == pytest.approx(0.3)
    assert data["folds"]["2"]["methods"]["prototype"]["1-shot"]["pixel_miou"]["mean"] == pytest.approx(0.4)
    assert "prototype + support check" in data["folds"]["2"]["methods"]
    assert data["date"] == "d1" and data["updates"] == [{"folds": [2], "machine": "2-core CPU", "date": "d2"}]
    assert data["commands"] == ["c1", "c2"] and list(data["folds"]) == ["1", "2"]


@pytest.mark.parametrize("change, message", [
    ("missing file", "not a file"),
    ("other seeds", "differ"),
    ("other episodes", "other episodes"),
    ("method dropped", "no runs for oslsm"),
    ("fold without runs", "fold 3"),
])
def test_an_update_that_would_lose_or_mix_figures_is_refused_and_the_file_kept(tmp_path, capsys, change, message):
    old, new = tmp_path / "old", tmp_path / "new"
    for seed in (0, 1):
        write(old, "proto", 1, seed, metrics(0.3))
        write(old, "oslsm", 1, seed, metrics(0.2))
    out = tmp_path / "summary.json"
    main([str(old), str(out), "--folds", "1", "--seeds", "0,1", "--date", "d"])
    before = out.read_text()
    seeds, folds = "0,1", "1"
    other = trivial(0.5)
    baselines = other if change == "other episodes" else None
    for seed in (0, 1, 2):
        write(new, "proto", 1, seed, metrics(0.4, baselines=baselines))
        if change != "method dropped":
            write(new, "oslsm", 1, seed, metrics(0.2, baselines=baselines))
    if change == "other seeds":
        seeds = "0,1,2"
    if change == "fold without runs":
        folds = "1,3"
    target = tmp_path / "absent.json" if change == "missing file" else out
    with pytest.raises(SystemExit) as exit_:
        main([str(new), str(target), "--folds", folds, "--seeds", seeds, "--date", "d2", "--update"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()[-1]) > 0
    assert out.read_text() == before and not (tmp_path / "absent.json").exists()
