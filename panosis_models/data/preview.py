"""Look at the synthetic streets: renders a panorama and a perspective view per seed and writes
each beside its colour mask as a PNG.

    python -m panosis_models.data.preview --out /tmp/render_check --seeds 0 1 2"""
import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .palette import labels_to_colour
from .render import render_panorama, render_perspective
from .world import World


def side_by_side(image: torch.Tensor, labels: torch.Tensor) -> Image.Image:
    """The image (3, H, W) in [0, 1] and its colour mask, next to each other."""
    rgb = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(np.concatenate([rgb, labels_to_colour(labels.numpy())], axis=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--size", type=int, nargs=2, default=(256, 512), metavar=("H", "W"))
    parser.add_argument("--yaw", type=float, default=0.0, help="perspective view direction")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    height, width = args.size
    for seed in args.seeds:
        world = World.random(seed)
        side_by_side(*render_panorama(world, height, width)).save(args.out / f"panorama_{seed}.png")
        side_by_side(*render_perspective(world, height, height, yaw=args.yaw)).save(
            args.out / f"perspective_{seed}.png")
    print(f"wrote {2 * len(args.seeds)} previews to {args.out}")


if __name__ == "__main__":
    main()
