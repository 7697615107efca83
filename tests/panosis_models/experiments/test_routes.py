"""The one-pair routes: the predictors that learn nothing from the pair, the two U-Net routes'
training data (as many images per epoch), and the sweep over pairs and seeds summarised with
paired differences."""
import json

import pytest
import torch
from PIL import Image

from panosis_models.cli.pipeline import main as pipeline_main
from panosis_models.errors import InputError
from panosis_models.experiments import panosis, routes
from panosis_models.experiments.pair_baselines import COLOUR_IN_ROWS, COPIED, ColourInRows, Copied, pair_baselines
from panosis_models.experiments.results import METRICS


def striped_pair():
    """A 4x6 image: rows 0-1 red (label 5), rows 2-3 green (label 1), column 5 of row 3 void."""
    image = torch.zeros(3, 4, 6)
    image[0, :2], image[1, 2:] = 1.0, 1.0
    labels = torch.tensor([[5] * 6] * 2 + [[1] * 6] * 2)
    labels[3, 5] = 0
    return image, labels


def test_the_copied_mask_is_every_prediction():
    _, labels = striped_pair()
    logits = Copied(labels)(torch.rand(3, 3, 4, 6))
    assert logits.shape == (3, 8, 4, 6) and (logits.argmax(1) == labels).all()
    with pytest.raises(ValueError, match="like the pair"):
        Copied(labels)(torch.rand(1, 3, 5, 6))


def test_colour_keeps_to_the_classes_of_each_row():
    image, labels = striped_pair()
    predictor = ColourInRows(image, labels)
    assert (predictor(image[None]).argmax(1)[0] == torch.tensor([[5] * 6] * 2 + [[1] * 6] * 2)).all()
    # a green pixel in a red row stays red: the row shows no other class; turned upside down
    # every pixel is in a row of the other class
    swapped = predictor(image.flip(1)[None]).argmax(1)[0]
    assert (swapped == labels.clamp_min(1)).all()
    # rows the pair leaves void allow every class
    labels[0] = 0
    green = torch.zeros(1, 3, 4, 6)
    green[:, 1] = 1.0
    assert ColourInRows(image, labels)(green).argmax(1)[0, :2].tolist() == [[1] * 6, [5] * 6]


def test_the_baselines_run_on_what_the_pipeline_passes():
    image, labels = striped_pair()
    assert list(pair_baselines(image, labels)) == [COPIED, COLOUR_IN_ROWS]
    assert all(sum(p.numel() for p in m.parameters()) == 0 for m in pair_baselines(image, labels).values())


def write_folder(root, count, size=(8, 16)):
    for name in ("rgb", "mask"):
        (root / name).mkdir(parents=True)
    for k in range(count):
        Image.fromarray(torch.randint(0, 255, (*size, 3), dtype=torch.uint8).numpy()).save(root / "rgb" / f"{k}.png")
        Image.fromarray(torch.full(size, 1 + k % 7, dtype=torch.uint8).numpy()).save(root / "mask" / f"{k}.png")
    return root


def test_both_routes_see_as_many_images_and_the_union_holds_the_pair(tmp_path):
    generated, pair = write_folder(tmp_path / "generated", 5), write_folder(tmp_path / "pair", 1)
    sets = panosis.route_sets(generated, pair, {"size": (8, 16), "generated": 5})
    (union_name, _, union), (pair_name, _, alone) = sets["osmis"], sets["pair"]
    assert (union_name, pair_name) == (panosis.UNION, panosis.PAIR)
    assert len(union) == len(alone) == 6
    assert torch.equal(union[5][0], alone[0][0]) and all(torch.equal(alone[k][1], alone[0][1]) for k in range(6))


def fake_run(pair_seed, seed, union, alone, colour):
    rows = []
    for test, shift in (("level", 0.0), ("tilted", -0.1)):
        for model, train, conv, value in (("unet", panosis.UNION, "equi", union), ("unet", panosis.PAIR, "equi", alone),
                                          (COLOUR_IN_ROWS, panosis.PAIR, "-", colour),
                                          (COPIED, panosis.PAIR, "-", 0.1)):
            rows.append({"model": model, "train": train, "conv": conv, "test": test, "seed": seed,
                         "checkpoint": "x", "metrics": {m: value + shift for m in METRICS}, "iou": {}})
    return (pair_seed, seed, {"rows": rows, "settings": {}, "osmis_budget": {"fraction": 0.004}, "images_seen": 490,
                              "test": "t", "pair": f"synthetic (world {pair_seed})", "seconds": {"osmis": 60.0}})


def test_paired_differences_over_pairs_and_seeds():
    runs = [fake_run(0, 0, 0.30, 0.20, 0.25), fake_run(0, 1, 0.32, 0.24, 0.25), fake_run(1, 0, 0.40, 0.30, 0.35)]
    summary = routes.summarise(routes.RoutesConfig(pair_seeds=(0, 1), seeds=(0, 1)), runs)
    assert len(summary["rows"]) == 3 * 8 and all("checkpoint" not in r and "pair_seed" in r for r in summary["rows"])
    union = next(r for r in summary["summary"] if r["train"] == panosis.UNION and r["test"] == "level")
    assert union["runs"] == 3 and union["metrics"]["miou"]["mean"] == pytest.approx(0.34)
    first = summary["differences"][0]
    assert (first["a"], first["b"], first["test"], first["metric"]) == (["unet", panosis.PAIR], ["unet", panosis.UNION],
                                                                          "level", "miou")
    assert first["difference"]["values"] == pytest.approx([0.10, 0.08, 0.10]) and first["b_higher"] == 3
    # per run the union leads by 0.08-0.10: more than twice the differences' spread, though the
    # two routes' own spreads over pairs are wider
    assert first["verdict"] == "+0.0933 (better)"
    colour = next(d for d in summary["differences"] if d["b"] == ["unet", panosis.PAIR])
    assert colour["difference"]["values"] == pytest.approx([-0.05, -0.01, -0.05])
    assert colour["verdict"] == "-0.0367 (noise)"
    assert routes.paired_verdict({"mean": 0.1, "std": None}).endswith("(one run: spread unknown)")
    assert len(summary["differences"]) == len(routes.DIFFERENCES) * 2 * len(routes.METRICS)  # tests x metrics, one conv
    text = routes.table(summary)
    assert "| U-Net on the one pair | equi | 3 | 0.247 ± 0.050 | 0.147 ± 0.050 |" in text
    assert f"| {COLOUR_IN_ROWS} | - | 3 |" in text and summary["runs"][2]["pair"] == "synthetic (world 1)"


def test_a_sweep_refuses_what_applies_to_one_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        pipeline_main(["--quick", "--pair-seeds", "0,1", "--seed", "0", "--osmis-conv", "std", "--out",
                       str(tmp_path / "r")])
    assert exit.value.code == 2 and "(--pair-seeds/--seeds): --seed, --osmis-conv\n" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_unets_training_choices_reach_every_run_and_are_checked_before_any(tmp_path, capsys):
    one = routes.RoutesConfig(quick=True, tilt=30.0, class_weight="balanced").pipeline(1, 0)
    assert (one.tilt, one.class_weight) == (30.0, "balanced")
    with pytest.raises(InputError, match="class_weight"):
        routes.run(routes.RoutesConfig(out=str(tmp_path / "r"), quick=True, class_weight="inverse"))
    with pytest.raises(InputError, match="tilt"):
        panosis.PipelineConfig(quick=True, tilt=120.0).settings()
    with pytest.raises(SystemExit) as exit:
        pipeline_main(["--quick", "--class-weight", "inverse", "--out", str(tmp_path / "p")])
    assert exit.value.code == 2 and "--class-weight" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and not (tmp_path / "p").exists()


@pytest.mark.slow  # training runs
def test_a_tiny_sweep_end_to_end_and_resumed(tmp_path, capsys):
    args = ["--quick", "--iterations", "2", "--num", "3", "--epochs", "1", "--pair-seeds", "0,1", "--seeds", "0",
            "--out", str(tmp_path / "r"), "--device", "cpu", "--no-progress"]
    pipeline_main(args)
    results = json.loads((tmp_path / "r/results.json").read_text())
    assert [(r["pair_seed"], r["seed"]) for r in results["runs"]] == [(0, 0), (1, 0)]
    assert results["osmis_budget"] == {"iterations": 2, "authors": 150_000, "fraction": 2 / 150_000}
    assert results["images_seen"] == 4 and {r["test"] for r in results["rows"]} == {"level", "tilted"}
    # both runs tested on the same panoramas: the copied masks differ, the test items do not
    per_run = {(r["pair_seed"], r["test"]): r for r in results["rows"] if r["model"] == COPIED}
    assert per_run[(0, "level")]["items"] == per_run[(1, "level")]["items"] == 24
    assert per_run[(0, "level")]["metrics"] != per_run[(1, "level")]["metrics"]
    pipeline_main(args + ["--resume"])
    assert "pair 1, seed 0: done" in capsys.readouterr().out
    assert json.loads((tmp_path / "r/results.json").read_text())["rows"] == results["rows"]
