"""Pictures of the synthetic streets: a panorama and a perspective view per seed, each beside
its colour mask, to look at what the renderer makes."""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from panosis_models.data.palette import labels_to_colour
from panosis_models.data.render import render_panorama, render_perspective
from panosis_models.data.world import World


def side_by_side(image: torch.Tensor, labels: torch.Tensor) -> Image.Image:
    """The image (3, H, W) in [0, 1] and its colour mask, next to each other."""
    rgb = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(np.concatenate([rgb, labels_to_colour(labels.numpy())], axis=1))


def write_previews(out: Path, seeds, size, yaw: float = 0.0) -> list:
    """``panorama_{seed}.png`` (H x W) and ``perspective_{seed}.png`` (H x H, looking ``yaw``
    degrees round) under ``out``; the paths written."""
    height, width = size
    written = []
    for seed in seeds:
        world = World.random(seed)
        for name, pair in (("panorama", render_panorama(world, height, width)),
                           ("perspective", render_perspective(world, height, height, yaw=yaw))):
            path = Path(out) / f"{name}_{seed}.png"
            side_by_side(*pair).save(path)
            written.append(path)
    return written
