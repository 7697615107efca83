"""PanOSIS end to end: ``python -m panosis_models.pipeline``.

One image-mask pair (default: a rendered synthetic street panorama) -> OSMIS -> a generated
data set -> the U-Net trained on it with standard and with equirectangular convolutions ->
evaluation on held-out synthetic panoramas (or ``--test DIR``, a CVRG-Pano folder). As a
baseline the same U-Nets are trained for as many steps on the one pair itself (with the
panorama augmentation). ``--quick`` finishes on two CPU cores in minutes; the default
setting is for a GPU. Writes a summary table (table.md, results.json, iou.png) under ``--out``.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from panosis_models.convs import CONV_KINDS
from panosis_models.data import PanoramaFolder, SyntheticPanoramas, prerender
from panosis_models.experiment import TEST_SEED, evaluation_row, write_report
from panosis_models.osmis.generate import generate
from panosis_models.osmis.previews import to_uint8
from panosis_models.osmis.train import OsmisConfig, train as train_osmis, training_pair
from panosis_models.train import BEST, TrainConfig, train as train_unet

SETTINGS = {
    # two CPU cores, a few minutes: small networks at 64x128
    "quick": dict(size=(64, 128), iterations=300, channels_g=16, channels_d=16, generated=48,
                  unet_channels=(8, 16, 32, 64), batch_norm=True, epochs=10, batch_size=8, num_test=24),
    # a GPU: PanOSIS sizes
    "full": dict(size=(256, 512), iterations=20000, channels_g=32, channels_d=32, generated=1000,
                 unet_channels=(32, 64, 128, 256, 512), batch_norm=False, epochs=40, batch_size=8,
                 num_test=200),
}


def write_pair_folder(pair, folder: Path) -> Path:
    """The training pair as a one-item CVRG-Pano folder (rgb/, mask/), for the baseline."""
    for name, array in (("rgb", to_uint8(pair.image)), ("mask", pair.labels.numpy().astype(np.uint8))):
        (folder / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(folder / name / "pair.png")
    return folder


def unet_config(setting: dict, args, out: Path, data: Path, conv: str, epochs: int) -> TrainConfig:
    return TrainConfig(out=str(out), data=str(data), size=setting["size"], conv=conv,
                       channels=setting["unet_channels"], batch_norm=setting["batch_norm"], epochs=epochs,
                       batch_size=setting["batch_size"], split=(0.9, 0.1, 0.0), seed=args.seed,
                       device=args.device, resume=args.resume, progress=not args.no_progress)


def main(argv=None) -> list:
    p = argparse.ArgumentParser(prog="python -m panosis_models.pipeline", description=__doc__.split("\n\n")[0])
    p.add_argument("--image", default=None, help="the one image (PNG); default: a synthetic panorama")
    p.add_argument("--mask", default=None, help="its mask (index or palette-colour PNG)")
    p.add_argument("--quick", action="store_true", help="the small CPU setting")
    p.add_argument("--iterations", type=int, default=None, help="OSMIS steps (overrides the setting)")
    p.add_argument("--generated", type=int, default=None, help="pairs to generate (overrides the setting)")
    p.add_argument("--epochs", type=int, default=None, help="U-Net epochs (overrides the setting)")
    p.add_argument("--osmis-conv", choices=CONV_KINDS, default="equi", help="3x3 convolutions of OSMIS")
    p.add_argument("--test", default=None, help="a CVRG-Pano folder to test on (default: held-out synthetic)")
    p.add_argument("--out", type=Path, default=Path("runs/pipeline"))
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the training runs and the held-out test worlds (the synthetic pair is world "
                        f"{OsmisConfig.pair_seed})")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--resume", action="store_true", help="continue interrupted stages")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    setting = dict(SETTINGS["quick" if args.quick else "full"])
    for key in ("iterations", "generated", "epochs"):
        if getattr(args, key) is not None:
            setting[key] = getattr(args, key)
    started, out, stages = time.perf_counter(), args.out, {}

    def stage(name):
        stages[name] = round(time.perf_counter() - started - sum(stages.values()), 1)

    osmis = OsmisConfig(out=str(out / "osmis"), image=args.image, mask=args.mask, size=setting["size"],
                        conv=args.osmis_conv, iterations=setting["iterations"], channels_g=setting["channels_g"],
                        channels_d=setting["channels_d"], seed=args.seed, device=args.device,
                        checkpoint_every=max(setting["iterations"] // 10, 1),
                        preview_every=max(setting["iterations"] // 5, 1), resume=args.resume,
                        progress=not args.no_progress)
    print(f"1/4 OSMIS on one pair ({osmis.conv} conv, {osmis.iterations} steps, {osmis.size[0]}x{osmis.size[1]})")
    train_osmis(osmis)
    stage("osmis")
    print(f"2/4 generating {setting['generated']} pairs")
    generated = generate(out / "osmis" / "last.pt", setting["generated"], out / "generated", seed=args.seed,
                         device=args.device, overwrite=True, progress=not args.no_progress)
    stage("generate")
    made = json.loads((generated / "generated.json").read_text())
    print(f"   labels per mask {made['labels_per_mask']}; label shares generated {made['label_shares']}, "
          f"training {made.get('training_label_shares')}")

    pair_folder = write_pair_folder(training_pair(osmis), out / "pair")
    steps_per_epoch = math.ceil(round(0.9 * setting["generated"]) / setting["batch_size"])
    runs = [("OSMIS set", generated, setting["epochs"]), ("the one pair", pair_folder, setting["epochs"] * steps_per_epoch)]
    print("3/4 U-Nets: " + ", ".join(f"{name} ({epochs} epochs)" for name, _, epochs in runs) + ", std and equi")
    checkpoints = []
    for name, data, epochs in runs:
        for conv in CONV_KINDS:
            folder = out / f"unet-{'osmis' if data == generated else 'pair'}-{conv}"
            train_unet(unet_config(setting, args, folder, data, conv, epochs))
            checkpoints.append((name, conv, folder / BEST))
    stage("unet")

    if args.test:
        test_set = PanoramaFolder(args.test, size=setting["size"])
        test_name = args.test
    else:
        test_set = SyntheticPanoramas(setting["num_test"], *setting["size"], seed=TEST_SEED + args.seed)
        prerender(test_set, progress=not args.no_progress)
        test_name = f"{len(test_set)} synthetic panoramas of held-out worlds"
    print(f"4/4 testing on {test_name}")
    rows = []
    for name, conv, path in checkpoints:
        rows.append(evaluation_row(name, conv, path, test_set, path.parent / "test", args.device,
                             f"{name}, {conv} conv", progress=not args.no_progress))
    stage("test")

    summary = {"setting": "quick" if args.quick else "full",
               "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in setting.items()},
               "osmis_conv": args.osmis_conv, "pair": args.image or f"synthetic (world {osmis.pair_seed})",
               "test": test_name, "device": args.device, "seconds": stages, "rows": rows,
               "generated": {k: made.get(k) for k in ("labels_per_mask", "label_shares", "training_label_shares")}}
    text = write_report(out, summary)
    print(f"\nTest: {test_name}")
    print(text)
    print(f"written: {out} ({round(sum(stages.values()) / 60, 1)} min: {stages})")
    return rows


if __name__ == "__main__":
    main()
