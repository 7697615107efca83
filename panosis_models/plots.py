"""Pictures of a segmentation result: the confusion matrix, IoU against latitude and predictions
over the images."""
import matplotlib

matplotlib.use("Agg")  # files only: runs on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from panosis_models.data.cityscapes import CATEGORY_OF, fine_to_colour  # noqa: E402
from panosis_models.data.palette import CLASS_NAMES, labels_to_colour  # noqa: E402
from panosis_models.sphere_metrics import BANDS, band_name  # noqa: E402

COLOURINGS = {"category": labels_to_colour, "fine": fine_to_colour}


def save_confusion(confusion: torch.Tensor, path, title: str = "", names=CLASS_NAMES) -> None:
    """Row-normalised confusion matrix (rows: true label) with the counts' shares printed."""
    c = confusion.double()
    shares = (c / c.sum(1, keepdim=True).clamp_min(1)).numpy()
    side = 4 + 0.3 * len(names)
    fig, ax = plt.subplots(figsize=(side, side * 0.85))
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@torch.no_grad()
def save_overlays(model, dataset, indices, path, device="cpu", alpha: float = 0.5, level: str = "category") -> None:
    """One row per item: the image, the prediction blended over it, the ground truth, in the
    colours of the label ``level``."""
    to_colour = COLOURINGS[level]
    indices = list(indices)
    fig, axes = plt.subplots(len(indices), 3, figsize=(12, 2.2 * len(indices)), squeeze=False)
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
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


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
    fig, axes = plt.subplots(1, len(levels), figsize=(5.5 * len(levels), 4), squeeze=False)
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
