"""Evaluation of a trained panoptic model: PQ, SQ, RQ per class and over all / things / stuff,
per pixel and area-weighted, the seam figure, and the semantic head's mIoU, as metrics.json, with
a PNG of panoptic predictions over the images."""
import json
from dataclasses import asdict

import torch
from torch.utils.data import Dataset

from panosis_models.engine import checkpoint, distributed
from panosis_models.atomic import writable_folder
from panosis_models.data import Transformed
from panosis_models.data.source import evaluation_data as segmentation_data
from panosis_models.errors import InputError
from panosis_models.metrics import items_scored
from panosis_models.panoptic.config import PanopticConfig, build_model
from panosis_models.panoptic.diagnose import diagnose, table
from panosis_models.panoptic.levels import FINE, PanopticLevel
from panosis_models.panoptic.loop import evaluate as quality_over
from panosis_models.panoptic.loop import predict
from panosis_models.panoptic.postprocess import PostProcessing
from panosis_models.plots import save_panoptic
from panosis_models.panoptic.train import KIND


def load_model(path, device="cpu") -> tuple:
    """(model in eval mode, its training config) from a panoptic checkpoint."""
    state = checkpoint.load(path, KIND, map_location=device)
    cfg = PanopticConfig.from_dict(state["config"])
    model = build_model(cfg)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise InputError(f"{path}: its weights do not fit the network its config describes: "
                         f"{str(error).splitlines()[0]}") from None
    return model.to(device).eval(), cfg


def evaluation_data(cfg: PanopticConfig, split: str = "test", **overrides) -> Dataset:
    """The segmentation evaluation's data (the part ``split`` of the run's data, or of those its
    ``overrides`` describe: data, num, data_seed, size; checked first) with instance ids, at the
    run's level."""
    return Transformed(segmentation_data(cfg, split, instances=True, **overrides), cfg.panoptic_level.item)


def evaluate(model, dataset: Dataset, out=None, batch_size: int = 4, device="cpu", amp: bool = False,
             pictures: int = 4, progress: bool = True, level: PanopticLevel = FINE, split: str = None,
             post: PostProcessing = PostProcessing()) -> dict:
    """{"panoptic": {"pixel", "area", "seam", "visible"}, "components": the same for the
    connected-components baseline on the model's own semantic output, "semantic": IoU report,
    "items", "split", "postprocessing"} of ``model`` on ``dataset`` (items ``(image, labels,
    instances)`` at ``level``, the one the model learnt; ``split``: which part of the data it is,
    recorded; ``post``: how the heads' outputs become instances); with ``out`` (checked before the
    evaluation starts), also metrics.json and panoptic.png."""
    if out is not None:
        out = writable_folder(out)
    ctx = distributed.Context(device=torch.device(device))
    quality, confusion, baseline = quality_over(model, dataset, ctx, batch_size, amp, progress=progress, level=level,
                                                components=True, post=post)
    result = {"panoptic": quality.report(), "components": baseline.report(), "semantic": confusion.report(),
              "items": len(dataset), "split": split,
              "postprocessing": asdict(post)}
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        if pictures and len(dataset):
            rows = []
            for index in range(min(pictures, len(dataset))):
                image, _, true = dataset[index][:3]
                rows.append((f"#{index}", image, predict(model, image[None].to(device), level=level, post=post)[0][0].cpu(), true))
            save_panoptic(rows, out / "panoptic.png", level.colours)
    return result


def summary_line(result: dict) -> str:
    """PQ, SQ, RQ over all classes (and area-weighted PQ), PQ of the things of at least
    ``min_area`` pixels beside the connected-components baseline's, the seam figure and which
    items were scored, in one line."""
    def number(value):
        return "n/a" if value is None else f"{value:.4f}"
    pixel, area, seam, visible = (result["panoptic"][k] for k in ("pixel", "area", "seam", "visible"))
    weighted = f"  area-weighted PQ {number(area['all']['pq'])}" if area else ""
    baseline = result["components"]["visible"]["pixel"]["things"]["pq"]
    return (f"PQ {number(pixel['all']['pq'])} (things {number(pixel['things']['pq'])}, stuff "
            f"{number(pixel['stuff']['pq'])})  SQ {number(pixel['all']['sq'])}  RQ {number(pixel['all']['rq'])}"
            f"{weighted}  things of >= {visible['min_area']} px: PQ {number(visible['pixel']['things']['pq'])} "
            f"(connected components {number(baseline)})  seam {seam['one']}/{seam['instances']} one instance  "
            f"{items_scored(result)}")


def write_diagnosis(model, dataset: Dataset, out, level: PanopticLevel = FINE, device="cpu", batch_size: int = 4,
                    progress: bool = True, split: str = None) -> str:
    """``diagnose``'s table of ``model`` on ``dataset``, also written with every report to
    ``out/diagnosis.json`` (``out`` checked first)."""
    out = writable_folder(out)
    reports = diagnose(model, dataset, level, device, batch_size, progress=progress)
    text = table(reports, level) + f"\n\n{items_scored({'items': len(dataset), 'split': split})}"
    (out / "diagnosis.json").write_text(json.dumps({"rows": reports, "items": len(dataset), "split": split},
                                                   indent=1, allow_nan=False) + "\n")
    return text
