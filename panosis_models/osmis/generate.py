"""Sample a data set from a trained OSMIS generator:
``python -m panosis_models.osmis.generate --checkpoint RUN/last.pt --num N --out DIR``.

Writes N image-mask pairs in the CVRG-Pano folder layout the U-Net training reads directly
(``DIR/rgb/*.png`` images, ``DIR/mask/*.png`` single-channel label masks), plus colour masks
in ``DIR/colour/``, an overview grid and ``generated.json``. Samples come from the averaged
(EMA) generator with seeded noise: the same seed gives the same set. ``generated.json`` puts
each label's share of the generated masks beside its share of the training mask, and how
many labels a mask holds: a generator that collapsed to few classes shows there at once.
"""
import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from .. import checkpoint
from ..data.palette import labels_to_colour
from .generator import Generator
from .pair import to_labels
from .previews import pair_grid, to_uint8

OVERVIEW = 8  # pairs in overview.png
VISIBLE = 0.01  # a label counts as held by a mask from this share of its pixels


def load_generator(path, device="cpu") -> tuple:
    """(averaged generator in eval mode, label set, the training mask's share of each label)
    from an OSMIS checkpoint."""
    state = checkpoint.load(path, map_location=device)
    missing = {"generator_args", "ema", "label_set"} - state.keys()
    if missing:
        raise ValueError(f"{path} is not an OSMIS checkpoint (no {', '.join(sorted(missing))})")
    generator = Generator(**state["generator_args"])
    generator.load_state_dict(state["ema"])
    return generator.to(device).eval(), tuple(state["label_set"]), state.get("label_shares")


def _save_png(array, path: Path) -> None:
    with checkpoint.atomic_file(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


@torch.no_grad()
def generate(checkpoint_path, num: int, out, batch_size: int = 16, seed: int = 0, device="cpu",
             overwrite: bool = False, progress: bool = True) -> Path:
    """Writes ``num`` pairs to ``out`` (see the module's docstring); returns ``out``."""
    if num < 1 or batch_size < 1:
        raise ValueError(f"num and batch_size must be at least 1, got num={num}, batch_size={batch_size}")
    out = Path(out)
    folders = {name: out / name for name in ("rgb", "mask", "colour")}
    if not overwrite and folders["rgb"].is_dir() and any(folders["rgb"].iterdir()):
        raise ValueError(f"{folders['rgb']} already holds files (pass overwrite=True / --overwrite)")
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    generator, label_set, training_shares = load_generator(checkpoint_path, device)
    pixels = torch.zeros(len(label_set), dtype=torch.float64)
    held = 0
    rng = torch.Generator().manual_seed(seed)
    shown_images, shown_labels = [], []
    with tqdm(total=num, desc="generating", disable=not progress) as bar:
        for start in range(0, num, batch_size):
            count = min(batch_size, num - start)
            result = generator(generator.noise(count, generator=rng).to(device))
            channels = result["mask"].argmax(1)
            images, labels = result["images"][-1], to_labels(channels, label_set)
            counts = F.one_hot(channels, len(label_set)).sum((1, 2)).cpu().double()
            pixels += counts.sum(0)
            held += int((counts / channels[0].numel() >= VISIBLE).sum())
            for k in range(count):
                name = f"{start + k:06d}.png"
                ids = labels[k].cpu().numpy().astype("uint8")
                _save_png(to_uint8(images[k]), folders["rgb"] / name)
                _save_png(ids, folders["mask"] / name)
                _save_png(labels_to_colour(ids), folders["colour"] / name)
            if sum(len(x) for x in shown_images) < OVERVIEW:
                shown_images.append(images[:OVERVIEW].cpu())
                shown_labels.append(labels[:OVERVIEW].cpu())
            bar.update(count)
    pair_grid(torch.cat(shown_images)[:OVERVIEW], torch.cat(shown_labels)[:OVERVIEW]).save(out / "overview.png")
    info = {"checkpoint": str(checkpoint_path), "num": num, "seed": seed, "label_set": list(label_set),
            "size": list(generator.size), "labels_per_mask": round(held / num, 3),
            "label_shares": {str(k): round(v, 4) for k, v in zip(label_set, (pixels / pixels.sum()).tolist())}}
    if training_shares is not None:
        info["training_label_shares"] = {str(k): round(v, 4) for k, v in zip(label_set, training_shares)}
    (out / "generated.json").write_text(json.dumps(info, indent=1) + "\n")
    return out


def main(argv=None) -> Path:
    p = argparse.ArgumentParser(prog="python -m panosis_models.osmis.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, type=Path, help="an OSMIS run's last.pt")
    p.add_argument("--num", type=int, required=True, help="pairs to write")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--overwrite", action="store_true", help="write into a folder that already has pairs")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    args = p.parse_args(argv)
    out = generate(args.checkpoint, args.num, args.out, args.batch_size, args.seed, args.device,
                   args.overwrite, args.progress)
    print(f"wrote {args.num} pairs to {out}")
    return out


if __name__ == "__main__":
    main()
