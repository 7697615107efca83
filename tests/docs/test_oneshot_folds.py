"""The one-shot folds table reads the target as the issue words it: one support +0.05 over the
best trivial predictor (seed std under 0.03), five supports above one, paired per seed."""
import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

from tables import oneshot_folds  # noqa: E402


def variant(per_seed, minus, meets=False) -> dict:
    spread = {"per_seed": per_seed}
    return {"pixel_miou": spread, "area_miou": spread, "minus_best_trivial": {"per_seed": minus},
            "above_2std": False, "meets_target": meets}


def test_five_support_rows_are_judged_by_their_paired_gain_over_one_support(tmp_path):
    methods = {"prototype": {"1-shot": variant([0.30, 0.32, 0.34], [0.10, 0.12, 0.14], meets=True),
                             "5-shot-or": variant([0.29, 0.33, 0.34], [0.0, 0.0, 0.0], meets=True),
                             "5-shot-mean": variant([0.35, 0.38, 0.39], [0.0, 0.0, 0.0])}}
    best = {v: {"name": "colour", "miou": 0.2} for v in oneshot_folds.VARIANTS}
    (tmp_path / "oneshot-4folds-3seeds.json").write_text(json.dumps(
        {"seeds": [0, 1, 2], "machine": "m", "date": "d", "target": {"minus_best_trivial": 0.05, "seed_std_below": 0.03},
         "folds": {"0": {"methods": methods, "best_trivial": best}}}))
    rows = [line.split(" | ") for line in oneshot_folds.render(tmp_path).splitlines()[4:]]
    assert [row[-2:] for row in rows] == [["–", "yes |"], ["0.000 ± 0.010", "no |"], ["0.053 ± 0.006", "yes |"]]

    data = json.loads((tmp_path / "oneshot-4folds-3seeds.json").read_text())
    data["updates"] = [{"folds": [0, 3], "machine": "m2", "date": "d2"}]
    (tmp_path / "oneshot-4folds-3seeds.json").write_text(json.dumps(data))
    assert oneshot_folds.render(tmp_path).startswith(
        "Seeds 0, 1, 2; m, d; folds 0, 3 summarised again from the runs of d2 (m2). Target")

def test_the_support_check_table_sets_each_variant_beside_the_best_trivial_predictor_with_as_many_supports(tmp_path):
    from tables import oneshot_support_check

    def scores(one, five_or, five_mean):
        return {"1-shot": {"miou": one}, "5-shot-or": {"miou": five_or}, "5-shot-mean": {"miou": five_mean}}
    run = {"fold": 1, "seed": 0, "plain": scores(0.10, 0.12, 0.18), "support check": scores(0.15, 0.20, 0.22),
           "best_trivial": {"1-shot": {"miou": 0.14}, "5-shot-or": {"miou": 0.19}, "5-shot-mean": {"miou": 0.08}}}
    (tmp_path / "oneshot-support-check-validation.json").write_text(json.dumps(
        {"machine": "m", "date": "d", "runs": {"fold 1 seed 0": run}}))
    rows = [line.split(" | ") for line in oneshot_support_check.render(tmp_path).splitlines()[4:]]
    assert [row[3:] for row in rows] == [["0.100", "0.150", "+0.050", "0.140 |"],
                                         ["0.120", "0.200", "+0.080", "0.190 |"],
                                         ["0.180", "0.220", "+0.040", "0.190 |"]]


def test_the_ranking_table_gives_seed_means_and_leaves_out_a_class_some_seed_never_drew(tmp_path):
    from tables import oneshot_ranking
    oslsm = {"auc": [{"0": 0.8, "4": 0.6}, {"0": 0.9}], "mean_auc": [0.7, 0.9], "miou": [0.2, 0.3]}
    (tmp_path / "oneshot-ranking-validation.json").write_text(json.dumps(
        {"machine": "m", "date": "d", "seeds": [0, 1], "folds": {"0": {
            "classes": [0, 4], "class_names": {"0": "road", "4": "fence"}, "episodes": 10,
            "predictors": {"oslsm": oslsm}}}}))
    rows = [line.split(" | ") for line in oneshot_ranking.render(tmp_path).splitlines()[4:]]
    assert rows == [["| 0", "oslsm", "0.250 ± 0.071", "0.800 ± 0.141", "road 0.85 |"]]


def test_the_resolution_table_sets_each_fold_at_both_sizes_side_by_side_and_judges_the_larger(tmp_path):
    from tables import oneshot_resolution

    def folds(fold, one, five_mean, meets, classes=(1, 5)):
        methods = {"prototype": {"1-shot": variant(one, [v - 0.1 for v in one], meets=meets),
                                 "5-shot-or": variant(one, [0.0, 0.0, 0.0]),
                                 "5-shot-mean": variant(five_mean, [0.0, 0.0, 0.0])}}
        best = {v: {"name": "colour", "miou": 0.1} for v in oneshot_folds.VARIANTS}
        return {fold: {"classes": list(classes), "methods": methods, "best_trivial": best}}

    def figures(data):
        return {"seeds": [0, 1, 2], "machine": "m", "date": "d", "folds": data}
    low = {**folds("1", [0.10, 0.11, 0.12], [0.1, 0.1, 0.1], False), **folds("2", [0.5] * 3, [0.5] * 3, False, (2, 10))}
    (tmp_path / oneshot_resolution.PROTOCOL).write_text(json.dumps(figures(low)))
    (tmp_path / oneshot_resolution.LARGER["1"]).write_text(json.dumps(figures(
        folds("1", [0.16, 0.17, 0.18], [0.20, 0.21, 0.23], True))))
    (tmp_path / oneshot_resolution.LARGER["2"]).write_text(json.dumps(figures(
        folds("2", [0.52, 0.53, 0.54], [0.50, 0.50, 0.50], False, (2, 6, 10)))))
    text = oneshot_resolution.render(tmp_path)
    assert text.startswith("Fold 1 (sidewalk, pole), seeds 0, 1, 2")
    assert "\n\nFold 2 (building, traffic light, sky; at 64×128: building, sky), seeds" in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert [row[3:] for row in rows[:1]] == [["0.110 ± 0.010", "0.010 ± 0.010", "0.170 ± 0.010", "0.070 ± 0.010",
                                              "no", "–", "yes |"]]
    assert rows[2][-2:] == ["0.043 ± 0.006", "yes |"]
    assert [row[0] for row in rows] == ["| 1"] * 3 + ["| 2"] * 3
    assert rows[3][3:5] == ["0.500 ± 0.000", "0.400 ± 0.000"] and rows[3][-1] == "no |"
    assert rows[5][-2:] == ["-0.030 ± 0.010", "no |"]


def test_a_method_run_only_at_128x256_gets_dashes_in_the_64x128_columns(tmp_path):
    from tables import oneshot_resolution

    def methods(*names):
        one = variant([0.2, 0.2, 0.2], [0.06, 0.06, 0.06], meets=True)
        return {name: {"1-shot": one, "5-shot-or": one, "5-shot-mean": variant([0.3] * 3, [0.1] * 3)} for name in names}
    best = {v: {"name": "colour", "miou": 0.14} for v in oneshot_folds.VARIANTS}

    def figures(*names):
        return json.dumps({"seeds": [0, 1, 2], "machine": "m", "date": "d", "folds": {
            fold: {"classes": [1], "methods": methods(*names), "best_trivial": best} for fold in ("1", "2")}})
    (tmp_path / oneshot_resolution.PROTOCOL).write_text(figures("prototype"))
    for source in oneshot_resolution.LARGER.values():
        (tmp_path / source).write_text(figures("prototype", "prototype + support check, colour gains"))
    rows = [line.split(" | ") for line in oneshot_resolution.render(tmp_path).splitlines() if line.startswith("| 1 ")]
    assert [row[1] for row in rows] == ["prototype"] * 3 + ["prototype + support check, colour gains"] * 3
    assert rows[3][3:6] == ["–", "–", "0.200 ± 0.000"] and rows[0][3] == "0.200 ± 0.000"


def test_a_folds_runs_are_dated_by_the_last_update_that_summarised_it_and_the_ablations_say_so():
    from tables import oneshot
    data = {"date": "d1", "updates": [{"folds": [0, 3], "date": "d2"}, {"folds": [3], "date": "d3"}]}
    assert [oneshot_folds.fold_date(data, f) for f in ("0", "1", "3")] == ["d2", "d1", "d3"]
    one = {"prototype": {"1-shot": {"pixel_miou": {"per_seed": [0.3, 0.4]}}}}
    rows = oneshot.ablations({"methods": one, "seeds": [0, 1], "date": "d2"},
                             {"what": "text", "no cues": {"methods": one, "seeds": [0, 1], "date": "d0"}}).splitlines()
    assert rows[0].split(" | ")[2] == "runs of"
    assert [row.split(" | ")[2] for row in rows[2:]] == ["d2", "d0"]
