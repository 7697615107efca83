"""Evaluate a trained U-Net: ``python -m panosis_models.evaluate --checkpoint RUN/best.pt``.

Per-class IoU, mIoU over labels 1-7, pixel accuracy and the confusion matrix, as JSON and PNGs
(confusion matrix; predictions overlaid on the panoramas). ``--conv equi`` evaluates the same
weights with every 3x3 convolution made spherical (``equiconv.convert``): how a network trained
on perspective images is carried over to panoramas.
"""
import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import Dataset

import equiconv
from panosis_models import checkpoint, distributed
from panosis_models.metrics import scores
from panosis_models.plots import save_confusion, save_overlays
from panosis_models.train import TrainConfig, build_model, confusion_over, make_dataset, size_arg, split
from panosis_models.unet import CONV_KINDS


def load_model(path, conv: str = None, device="cpu") -> tuple:
    """(model in eval mode, its training config); ``conv`` switches its 3x3 convolutions."""
    state = checkpoint.load(path, map_location=device)
    cfg = TrainConfig.from_dict(state["config"])
    model = build_model(cfg)
    model.load_state_dict(state["model"])
    if conv is not None and conv != cfg.conv:
        if conv != "equi":
            raise ValueError(f"only std -> equi conversion is possible, got {cfg.conv!r} -> {conv!r}")
        model = equiconv.convert(model)
        cfg.conv = conv
    return model.to(device).eval(), cfg


def evaluate(model, dataset: Dataset, out=None, batch_size: int = 4, device="cpu", amp: bool = False,
             overlays: int = 4, title: str = "", progress: bool = True) -> dict:
    """Scores of ``model`` on ``dataset``; with ``out``, also metrics.json and the PNGs."""
    ctx = distributed.Context(device=torch.device(device))
    confusion = confusion_over(model, dataset, ctx, batch_size, amp, progress=progress)
    result = {**scores(confusion), "confusion": confusion.tolist(), "items": len(dataset)}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result, indent=1) + "\n")
        save_confusion(confusion, out / "confusion.png", title=title)
        if overlays and len(dataset):
            save_overlays(model, dataset, range(min(overlays, len(dataset))), out / "predictions.png", device)
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="panosis-evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--data", default=None, help="a CVRG-Pano folder, or 'synthetic'; default: the "
                   "test split of the run's own data")
    p.add_argument("--view", choices=["panorama", "perspective"], default=None, help="synthetic data: view")
    p.add_argument("--items", dest="num", type=int, default=None, help="synthetic data: items")
    p.add_argument("--data-seed", type=int, default=None, help="synthetic data: worlds (another seed = held out)")
    p.add_argument("--size", type=size_arg, default=None)
    p.add_argument("--conv", choices=CONV_KINDS, default=None, help="evaluate with these 3x3 convolutions")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", type=Path, default=None, help="default: beside the checkpoint")
    args = p.parse_args(argv)
    model, cfg = load_model(args.checkpoint, args.conv, args.device)
    if args.data is None and all(v is None for v in (args.view, args.num, args.data_seed, args.size)):
        dataset = split(cfg)[2]  # the held-out part of the run's own split
    else:
        for name in ("data", "view", "num", "data_seed", "size"):
            if getattr(args, name) is not None:
                setattr(cfg, name, getattr(args, name))
        dataset = make_dataset(cfg)
    out = args.out or args.checkpoint.parent / f"eval-{cfg.conv}"
    result = evaluate(model, dataset, out, args.batch_size, args.device, title=f"{cfg.conv} conv")
    print(f"mIoU {result['miou']:.4f}  pixel accuracy {result['pixel_accuracy']:.4f}  ({len(dataset)} items)")
    print(f"written: {out}")
    return result


if __name__ == "__main__":
    main()
