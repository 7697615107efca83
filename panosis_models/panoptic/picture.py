"""Panoptic maps as pictures: stuff in its class colour (Cityscapes' at the fine level), each
thing instance in a colour of its own (distinct hues in the order of the ids), void black,
blended over the image."""
import colorsys

import matplotlib

matplotlib.use("Agg")  # files only: runs on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from panosis_models.data.cityscapes import FINE_COLOURS, INSTANCE_STRIDE, VOID, fine_from_instances  # noqa: E402

GOLDEN = 0.618033988749895  # hue step: consecutive instances get far-apart hues


def panoptic_colours(instances: torch.Tensor, colours: np.ndarray = FINE_COLOURS) -> np.ndarray:
    """(H, W, 3) uint8 colours of an (H, W) instance map, stuff in ``colours`` (by label)."""
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
    fig, axes = plt.subplots(len(rows), 2, figsize=(12, 2.6 * len(rows)), squeeze=False)
    for ax_row, (title, image, predicted, true) in zip(axes, rows):
        rgb = image.permute(1, 2, 0).numpy()
        for ax, instances, name in zip(ax_row, (predicted, true), ("prediction", "ground truth")):
            ax.imshow(np.clip((1 - alpha) * rgb + alpha * panoptic_colours(instances, colours) / 255.0, 0, 1))
            ax.set_title(f"{name}: {title}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
