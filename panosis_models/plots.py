"""Pictures of a segmentation result: the confusion matrix and predictions over the images."""
import matplotlib

matplotlib.use("Agg")  # files only: runs on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from panosis_models.data.palette import CLASS_NAMES, labels_to_colour  # noqa: E402


def save_confusion(confusion: torch.Tensor, path, title: str = "") -> None:
    """Row-normalised confusion matrix (rows: true label) with the counts' shares printed."""
    c = confusion.double()
    shares = (c / c.sum(1, keepdim=True).clamp_min(1)).numpy()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), v in np.ndenumerate(shares):
        if v >= 0.005:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title(title or "confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@torch.no_grad()
def save_overlays(model, dataset, indices, path, device="cpu", alpha: float = 0.5) -> None:
    """One row per item: the image, the prediction blended over it, the ground truth."""
    indices = list(indices)
    fig, axes = plt.subplots(len(indices), 3, figsize=(12, 2.2 * len(indices)), squeeze=False)
    for row, index in zip(axes, indices):
        image, mask = dataset[index]
        prediction = model(image[None].to(device)).argmax(1)[0].cpu()
        rgb = image.permute(1, 2, 0).numpy()
        blended = (1 - alpha) * rgb + alpha * labels_to_colour(prediction.numpy()) / 255.0
        for ax, picture, name in zip(row, (rgb, blended, labels_to_colour(mask.numpy())),
                                     ("image", "prediction", "ground truth")):
            ax.imshow(np.clip(picture, 0, 1) if picture.dtype != np.uint8 else picture)
            ax.set_title(f"{name} #{index}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
