"""Pictures of OSMIS at work: image-mask pairs side by side in a grid, and the loss curves."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from panosis_models.data.palette import labels_to_colour  # noqa: E402

GAP = 4  # pixels between tiles


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    return ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def pair_grid(images: torch.Tensor, labels: torch.Tensor, columns: int = 2) -> Image.Image:
    """Each image (B, 3, H, W) in [-1, 1] beside its colour mask (labels (B, H, W), ids 0-7),
    ``columns`` pairs per row, on a white background."""
    batch, _, height, width = images.shape
    rows = -(-batch // columns)
    tile_w = 2 * width + GAP
    canvas = np.full((rows * (height + GAP) - GAP, columns * (tile_w + GAP) - GAP, 3), 255, np.uint8)
    for k in range(batch):
        top, left = (k // columns) * (height + GAP), (k % columns) * (tile_w + GAP)
        canvas[top:top + height, left:left + width] = to_uint8(images[k])
        canvas[top:top + height, left + width + GAP:left + tile_w] = labels_to_colour(labels[k].cpu().numpy())
    return Image.fromarray(canvas)


def save_loss_curves(history: list, path) -> None:
    """One line per loss term against the training step."""
    if not history:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(8, 4))
    for key in (k for k in history[0] if k != "step"):
        ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
