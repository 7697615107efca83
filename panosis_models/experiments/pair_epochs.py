"""How long the one-pair routes' U-Nets train, chosen on validation worlds.

For each synthetic training pair and each candidate number of epochs, the U-Net of the pair
route (``panosis.pair_alone``: an epoch is as many images as the generated set with the pair; the
setting's augmentation; the last checkpoint) is trained and scored on validation panoramas
(``data.datasets.validation_panoramas``: worlds apart from every training and test world), level
and tilted, beside colour in the pair's rows on the same panoramas. Both routes see as many images
per epoch, so the number chosen serves both; no OSMIS is trained here. Each (pair, epochs) run
keeps its folder under ROOT (``pair<P>-e<E>/scores.json``; a training variant, ``--tilt`` or
``--class-weight``, adds its name) and a rerun reads the finished ones, so
processes over different pairs can share ROOT; each call gathers what ROOT holds for its pairs
into OUT: each pair's class shares, per run the mean IoU and per-class IoU, per number of epochs mean +- std over the pairs
and the paired difference to colour in rows (the two-standard-deviation rule).

``python -m panosis_models.experiments.pair_epochs ROOT OUT.json --pairs 0,1,2,3,4 --epochs 10,20,40``
"""
import argparse
import json
import sys
from pathlib import Path

from panosis_models.data.datasets import prerender, validation_panoramas
from panosis_models.experiments import panosis
from panosis_models.experiments.pair_baselines import COLOUR_IN_ROWS, ColourInRows
from panosis_models.experiments.results import NOISE_STDS, TEST_SETS, evaluation_row, predictor_row, spread
from panosis_models.metrics import CATEGORY
from panosis_models.segmentation.class_weight import CLASS_WEIGHTS, pixel_counts

CONV = "std"


def validation_sets(settings: dict, num: int, seed: int) -> dict:
    """{"level", "tilted"}: ``num`` validation panoramas at the setting's size, rendered now."""
    sets = dict(zip(TEST_SETS, (validation_panoramas(num, settings["size"], seed, tilted=tilted)
                                for tilted in (False, True))))
    for panoramas in sets.values():
        prerender(panoramas, progress=False)
    return sets


def scores(row: dict) -> dict:
    return {"miou": row["metrics"]["miou"], "iou": row["iou"]}


def variant_name(tilt: float, class_weight) -> str:
    """The folder suffix of a training variant ("" for the pipeline's default training)."""
    return (f"-tilt{tilt:g}" if tilt else "") + (f"-{class_weight}" if class_weight else "")


def run_one(root: Path, pair_seed: int, epochs: int, seed: int, validation: dict, tilt: float = 0.0,
            class_weight=None) -> dict:
    """One (pair, epochs) run's scores on ``validation`` (``validation_sets``), read from its
    folder if it finished before; ``tilt`` and ``class_weight`` as ``PipelineConfig`` takes them."""
    folder = root / f"pair{pair_seed}-e{epochs}{variant_name(tilt, class_weight)}"
    done = folder / "scores.json"
    if done.is_file():
        return json.loads(done.read_text())
    cfg = panosis.PipelineConfig(out=str(folder), quick=True, pair_seed=pair_seed, seed=seed, epochs=epochs,
                                 tilt=tilt, class_weight=class_weight, progress=False, resume=True)
    settings = cfg.settings()
    pair = panosis.training_pair(panosis.osmis_config(cfg, settings))
    pair_folder = panosis.write_pair_folder(pair, folder / "pair")
    checkpoint = panosis.train_route(cfg, settings, folder / f"unet-pair-{CONV}", pair_folder,
                                     panosis.pair_alone(pair_folder, settings), CONV)
    colour = ColourInRows((pair.image + 1) / 2, pair.labels)
    result = {"pair_seed": pair_seed, "epochs": epochs, "seed": seed, "tilt": tilt, "class_weight": class_weight,
              "unet": {}, COLOUR_IN_ROWS: {}}
    for test, panoramas in validation.items():
        result["unet"][test] = scores(evaluation_row(panosis.PAIR, CONV, checkpoint, panoramas,
                                                     folder / f"validation-{test}", "cpu", f"U-Net, {test}",
                                                     progress=False, test=test, seed=seed))
        result[COLOUR_IN_ROWS][test] = scores(predictor_row(COLOUR_IN_ROWS, panosis.PAIR, "-", colour, panoramas,
                                                            folder / f"colour-{test}", "cpu", f"colour, {test}",
                                                            progress=False, test=test, seed=seed))
    done.write_text(json.dumps(result, indent=1) + "\n")
    return result


def pair_shares(pair_seed: int) -> dict:
    """{class name: share of the training pair's labelled pixels}: what the one pair shows of each
    class (a class it barely shows, its U-Net cannot learn)."""
    cfg = panosis.PipelineConfig(quick=True, pair_seed=pair_seed)
    pair = panosis.training_pair(panosis.osmis_config(cfg, cfg.settings()))
    counts = pixel_counts([(pair.image, pair.labels)], CATEGORY.num_outputs)
    return {CATEGORY.names[i]: round(float(counts[i] / counts.sum()), 4) for i in CATEGORY.scored}


def summarise(runs: list, epochs: list) -> dict:
    """Per number of epochs and test set: the U-Net's mean IoU over the pairs and its per-pair
    difference to colour in rows, with the two-standard-deviation verdict."""
    summary = {}
    for e in epochs:
        mine = [r for r in runs if r["epochs"] == e]
        summary[str(e)] = {}
        for test in TEST_SETS:
            unet = [r["unet"][test]["miou"] for r in mine]
            diff = spread([u - r[COLOUR_IN_ROWS][test]["miou"] for u, r in zip(unet, mine)])
            summary[str(e)][test] = {"unet": spread(unet), "minus_colour_in_rows": diff,
                                     "above_2std": diff["std"] is not None
                                     and abs(diff["mean"]) > NOISE_STDS * diff["std"]}
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m panosis_models.experiments.pair_epochs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder of the runs (pair<P>-e<E>/)")
    parser.add_argument("out", type=Path, help="the JSON file to write (refused if it exists)")
    parser.add_argument("--pairs", default="0,1,2,3,4", help="synthetic training pairs (worlds)")
    parser.add_argument("--epochs", default="10,20,40", help="the numbers of epochs compared")
    parser.add_argument("--seed", type=int, default=0, help="training seed, and which validation panoramas")
    parser.add_argument("--num", type=int, default=panosis.SETTINGS["quick"]["num_test"],
                        help="validation panoramas (each level and tilted)")
    parser.add_argument("--tilt", type=float, default=0.0,
                        help="the U-Net's augmentation: a random pitch and roll up to this many degrees")
    parser.add_argument("--class-weight", default=None, choices=CLASS_WEIGHTS, help="the U-Net's class weights")
    parser.add_argument("--date", required=True)
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"out: {args.out} exists; not overwritten")
    try:
        pairs, epochs = ([int(v) for v in text.split(",")] for text in (args.pairs, args.epochs))
    except ValueError:
        parser.error("--pairs and --epochs take comma-separated whole numbers")
    if min(epochs) < 1 or args.num < 1:
        parser.error("--epochs and --num must be at least 1")
    if not 0 <= args.tilt <= 90:
        parser.error("--tilt must lie in [0, 90] degrees")
    validation = validation_sets(panosis.SETTINGS["quick"], args.num, args.seed)
    runs = [run_one(args.root, p, e, args.seed, validation, args.tilt, args.class_weight)
            for p in pairs for e in epochs]
    args.out.write_text(json.dumps({
        "command": "python -m panosis_models.experiments.pair_epochs " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": args.date, "machine": "2-core CPU", "setting": "quick", "conv": CONV, "seed": args.seed,
        "tilt": args.tilt, "class_weight": args.class_weight,
        "validation": f"{args.num} validation panoramas (worlds apart from training and test), level and tilted",
        "pair_shares": {str(p): pair_shares(p) for p in pairs},
        "runs": runs, "summary": summarise(runs, epochs)}, indent=1) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
