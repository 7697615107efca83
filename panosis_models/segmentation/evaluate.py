"""Evaluation of a trained segmentation model: per-class IoU, mIoU and pixel accuracy at the
model's label level (and, for a fine-level model, at the category level too), per pixel and, on
panoramas, area-weighted and per latitude band; the confusion matrix; as metrics.json and PNGs
(the confusion matrix, IoU against latitude, predictions over the images). A network trained with standard convolutions can be evaluated with its 3x3
convolutions made spherical (``equiconv.convert``): how it carries over to panoramas."""
import json

import torch
from torch.utils.data import Dataset

import equiconv
from panosis_models.engine import checkpoint, distributed
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.metrics import CATEGORY, Level, items_scored
from panosis_models.plots import save_confusion, save_latitude_iou, save_overlays
from panosis_models.segmentation.config import TrainConfig, build_model
from panosis_models.segmentation.loop import evaluate as confusion_over
from panosis_models.segmentation.train import KIND


def load_model(path, conv: str = None, device="cpu") -> tuple:
    """(model in eval mode, its training config) from a U-Net checkpoint; ``conv="equi"`` makes
    the 3x3 convolutions of a standard network spherical."""
    state = checkpoint.load(path, KIND, map_location=device)
    cfg = TrainConfig.from_dict(state["config"])
    model = build_model(cfg)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        detail = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line),
                      str(error).splitlines()[0])
        raise InputError(f"{path}: its weights do not fit the U-Net its config describes "
                         f"(channels {cfg.channels}): {detail}") from None
    if conv is not None and conv != cfg.conv:
        if conv != "equi":
            raise InputError(f"only std -> equi conversion is possible, got {cfg.conv!r} -> {conv!r}")
        model = equiconv.convert(model, kinds=("conv",))
        cfg.conv = conv
    return model.to(device).eval(), cfg


def evaluate(model, dataset: Dataset, out=None, batch_size: int = 4, device="cpu", amp: bool = False,
             overlays: int = 4, title: str = "", progress: bool = True, level: Level = CATEGORY,
             split: str = None) -> dict:
    """Scores of ``model`` on ``dataset`` (masks at ``level``; None where undefined, e.g. no
    items): the standard per-pixel ones at the top (iou, miou, pixel_accuracy), every level's
    pixel, area-weighted and per-band ones under "levels", with the item count and ``split``
    (which part of the data ``dataset`` is, recorded); with ``out`` (checked before the
    evaluation starts), also metrics.json and the PNGs."""
    if out is not None:
        out = writable_folder(out)
    ctx = distributed.Context(device=torch.device(device))
    confusions = confusion_over(model, dataset, ctx, batch_size, amp, progress=progress, level=level)
    levels = confusions.reports()
    confusion = confusions.pixel_confusion()
    result = {**levels[level.name]["pixel"], "level": level.name, "levels": levels,
              "confusion": confusion.tolist(), "items": len(dataset), "split": split}
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        save_confusion(confusion, out / "confusion.png", title=title, names=level.names)
        if confusions.panoramic and len(dataset):
            save_latitude_iou(levels, out / "latitude.png", title=title)
        if overlays and len(dataset):
            save_overlays(model, dataset, range(min(overlays, len(dataset))), out / "predictions.png", device,
                          level=level.name)
    return result


def summary_line(result: dict) -> str:
    """mIoU and pixel accuracy (and on panoramas their area-weighted versions) at the model's
    level, and which items were scored, in one line ("n/a" where undefined)."""
    def number(value):
        return "n/a" if value is None else f"{value:.4f}"
    area = result["levels"][result["level"]]["area"]
    weighted = (f"  area-weighted mIoU {number(area['miou'])} pixel accuracy {number(area['pixel_accuracy'])}"
                if area else "")
    return (f"{result['level']}: mIoU {number(result['miou'])}  pixel accuracy {number(result['pixel_accuracy'])}"
            f"{weighted}  {items_scored(result)}")
