"""Every matplotlib picture of the reference models and their experiments, in one place.

Figures are ``matplotlib.figure.Figure`` objects drawn and written by the object-oriented API:
no ``matplotlib.use`` and no pyplot, so importing this module (or anything that imports it)
leaves matplotlib's global backend alone and keeps no figure alive after it is saved; writing
a PNG needs no display.
"""
import colorsys

import numpy as np
import torch
from matplotlib.figure import Figure

from panosis_models.data.cityscapes import (CATEGORY_OF, FINE_COLOURS, INSTANCE_STRIDE, VOID, fine_from_instances,
                                            fine_to_colour)
from panosis_models.data.palette import CLASS_NAMES, labels_to_colour
from panosis_models.sphere_metrics import BANDS, band_name

COLOURINGS = {"category": labels_to_colour, "fine": fine_to_colour}
GOLDEN = 0.618033988749895  # hue step: consecutive instances get far-apart hues


def figure(figsize, rows: int = 1, columns: int = 1, **subplots):
    """``(figure, axes)`` like ``pyplot.subplots``, but a figure no global registry holds: it is
    freed with its last reference, and drawing it switches no backend."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, columns, **subplots)


def save(fig: Figure, path, dpi: int = 100) -> None:
    """Lay ``fig`` out tightly and write it to ``path`` (its format from the suffix)."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)


# --- segmentation (``segmentation/evaluate.py``) -------------------------------------------------

def save_confusion(confusion: torch.Tensor, path, title: str = "", names=CLASS_NAMES) -> None:
    """Row-normalised confusion matrix (rows: true label) with the counts' shares printed."""
    c = confusion.double()
    shares = (c / c.sum(1, keepdim=True).clamp_min(1)).numpy()
    side = 4 + 0.3 * len(names)
    fig, ax = figure((side, side * 0.85))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), v in np.ndenumerate(shares):
        if v >= 0.005:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7 if len(names) < 12 else 5,
                    color="white" if v > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title(title or "confusion matrix")
    save(fig, path)


@torch.no_grad()
def save_overlays(model, dataset, indices, path, device="cpu", alpha: float = 0.5, level: str = "category") -> None:
    """One row per item: the image, the prediction blended over it, the ground truth, in the
    colours of the label ``level``."""
    to_colour = COLOURINGS[level]
    indices = list(indices)
    fig, axes = figure((12, 2.2 * len(indices)), len(indices), 3, squeeze=False)
    for row, index in zip(axes, indices):
        image, mask = dataset[index]
        prediction = model(image[None].to(device)).argmax(1)[0].cpu()
        rgb = image.permute(1, 2, 0).numpy()
        blended = (1 - alpha) * rgb + alpha * to_colour(prediction.numpy()) / 255.0
        for ax, picture, name in zip(row, (rgb, blended, to_colour(mask.numpy())),
                                     ("image", "prediction", "ground truth")):
            ax.imshow(np.clip(picture, 0, 1) if picture.dtype != np.uint8 else picture)
            ax.set_title(f"{name} #{index}", fontsize=8)
            ax.axis("off")
    save(fig, path, dpi=90)


def group_ious(band_scores: dict, level: str) -> dict:
    """{category name: IoU} of one band's scores: a category's own IoU, or at the fine level the
    mean IoU of its classes that occur (None where none does)."""
    groups = {}
    for label, iou in band_scores["iou"].items():
        category = int(label) if level == "category" else int(CATEGORY_OF[int(label)])
        if iou is not None:
            groups.setdefault(CLASS_NAMES[category], []).append(iou)
    return {name: sum(v) / len(v) for name, v in groups.items()}


def save_latitude_iou(levels: dict, path, title: str = "") -> None:
    """Area-weighted IoU per latitude band, one line per class group (category), one panel per
    label level of ``levels`` (an evaluation's "levels" entry)."""
    fig, axes = figure((5.5 * len(levels), 4), 1, len(levels), squeeze=False)
    centres = [(lo + hi) / 2 for lo, hi in BANDS]
    for ax, (level, report) in zip(axes[0], levels.items()):
        per_band = [group_ious(report["bands"][band_name(band)]["area"], level) for band in BANDS]
        for name in CLASS_NAMES[1:]:
            values = [band.get(name) for band in per_band]
            ax.plot(centres, [np.nan if v is None else v for v in values], marker="o", label=name)
        ax.plot(centres, [report["bands"][band_name(band)]["area"]["miou"] or np.nan for band in BANDS],
                "k--", marker="s", label="mIoU")
        ax.set_xticks(centres, [f"|lat| {band_name(band)}" for band in BANDS])
        ax.set_ylim(0, 1)
        ax.set_ylabel("IoU (area-weighted)" if level == "category" else "mean IoU of the group's classes")
        ax.set_title(f"{title} ({level} level)".strip())
        ax.legend(fontsize=7)
    save(fig, path)


# --- panoptic maps (``panoptic/evaluate.py``) ----------------------------------------------------

def panoptic_colours(instances: torch.Tensor, colours: np.ndarray = FINE_COLOURS) -> np.ndarray:
    """(H, W, 3) uint8 colours of an (H, W) instance map: stuff in ``colours`` (by label), each
    thing instance in a hue of its own (far apart in the order of the ids), void black."""
    table = np.zeros((VOID + 1, 3), dtype=np.uint8)
    table[:len(colours)] = colours
    rgb = table[fine_from_instances(instances).numpy()]
    for n, k in enumerate(torch.unique(instances[instances >= INSTANCE_STRIDE]).tolist()):
        hue = (n * GOLDEN) % 1.0
        rgb[(instances == k).numpy()] = np.array(colorsys.hsv_to_rgb(hue, 0.9, 1.0)) * 255
    return rgb


def save_panoptic(rows, path, colours: np.ndarray = FINE_COLOURS, alpha: float = 0.6) -> None:
    """One row per ``(title, image (3, H, W), predicted instances (H, W), true instances (H, W))``:
    the prediction and the truth blended over the image, stuff in ``colours`` (by label)."""
    rows = list(rows)
    fig, axes = figure((12, 2.6 * len(rows)), len(rows), 2, squeeze=False)
    for ax_row, (title, image, predicted, true) in zip(axes, rows):
        rgb = image.permute(1, 2, 0).numpy()
        for ax, instances, name in zip(ax_row, (predicted, true), ("prediction", "ground truth")):
            ax.imshow(np.clip((1 - alpha) * rgb + alpha * panoptic_colours(instances, colours) / 255.0, 0, 1))
            ax.set_title(f"{name}: {title}", fontsize=8)
            ax.axis("off")
    save(fig, path, dpi=90)


# --- training curves (``osmis/train.py``) ---------------------------------------------------------

def save_loss_curves(history: list, path) -> None:
    """One line per loss term against the training step; nothing written for an empty history."""
    if not history:
        return
    steps = [h["step"] for h in history]
    fig, ax = figure((8, 4))
    for key in (k for k in history[0] if k != "step"):
        ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, ncol=2)
    save(fig, path)


# --- experiments (``experiments/latitude.py``, ``experiments/results.py``) -----------------------

def save_band_accuracy(summary: dict, path, bands, trained_up_to: float, chance: float) -> None:
    """Accuracy against the absolute latitude band of the test glyphs, one line per network of
    ``summary`` ({network: {band: {"mean", "std"}}} in the order of ``bands``, error bars: std
    over seeds), the training latitudes (0 to ``trained_up_to``) shaded and ``chance`` dotted."""
    centres = [(lo + hi) / 2 for lo, hi in bands]
    fig, ax = figure((6, 4))
    for name, per_band in summary.items():
        values = list(per_band.values())
        ax.errorbar(centres, [v["mean"] for v in values], yerr=[v["std"] or 0.0 for v in values], marker="o",
                    capsize=3, label=name)
    ax.axvspan(0, trained_up_to, color="grey", alpha=0.2, label="training latitudes")
    ax.axhline(chance, color="k", linestyle=":", label="chance")
    ax.set_xticks(centres, [f"{lo}-{hi}" for lo, hi in bands])
    ax.set_xlim(0, bands[-1][1])
    ax.set_xlabel("absolute latitude of the test glyphs (degrees)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    save(fig, path)


def save_iou_chart(series: list, path) -> None:
    """Grouped bars of per-class IoU: ``series`` is ``[(label, [{"mean", "std"} per class of
    CLASS_NAMES[1:]])]``, one bar colour per series (error bars: std over seeds)."""
    labels = CLASS_NAMES[1:]
    fig, ax = figure((11, 4))
    width = 0.8 / len(series)
    for k, (label, spreads) in enumerate(series):
        ax.bar([i + k * width for i in range(len(labels))], [s["mean"] or 0.0 for s in spreads], width,
               yerr=[s["std"] or 0.0 for s in spreads], label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))], labels)
    ax.set_ylabel("IoU on held-out panoramas")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    save(fig, path)
