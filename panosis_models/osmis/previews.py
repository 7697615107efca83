"""Pictures of OSMIS at work: image-mask pairs side by side in a grid, as pixels (PIL); its loss
curves are a figure of ``panosis_models.plots``."""
import numpy as np
import torch
from PIL import Image

from panosis_models.data.palette import labels_to_colour

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

