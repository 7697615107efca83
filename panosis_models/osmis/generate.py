"""Sampling a data set from a trained OSMIS generator.

Writes N image-mask pairs in the CVRG-Pano folder layout the U-Net training reads directly
(``DIR/rgb/*.png`` images, ``DIR/mask/*.png`` single-channel label masks), plus colour masks
in ``DIR/colour/``, an overview grid and ``generated.json``. Samples come from the averaged
(EMA) generator with seeded noise: the same seed gives the same set. ``generated.json`` puts
each label's share of the generated masks beside its share of the training mask, and how
many labels a mask holds: a generator that collapsed to few classes shows there at once.
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from panosis_models.atomic import atomic_file
from panosis_models.data.palette import labels_to_colour
from panosis_models.engine import checkpoint
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError
from panosis_models.models.osmis.generator import Generator
from panosis_models.osmis.pair import to_labels
from panosis_models.osmis.previews import pair_grid, to_uint8

OVERVIEW = 8  # pairs in overview.png
VISIBLE = 0.01  # a label counts as held by a mask from this share of its pixels
FOLDERS = ("rgb", "mask", "colour")


def load_generator(path, device="cpu") -> tuple:
    """(averaged generator in eval mode, label set, the training mask's share of each label)
    from an OSMIS checkpoint."""
    state = checkpoint.load(path, "osmis", map_location=device)
    generator = Generator(**state["generator_args"])
    generator.load_state_dict(state["ema"])
    return generator.to(device).eval(), tuple(state["label_set"]), state.get("label_shares")


def output_folders(out, overwrite: bool) -> dict:
    """{name: folder} of the set's folders, created; refuses a set that holds pairs already
    unless ``overwrite``."""
    out = writable_folder(out)
    folders = {name: out / name for name in FOLDERS}
    if not overwrite and folders["rgb"].is_dir() and any(folders["rgb"].iterdir()):
        raise InputError(f"{folders['rgb']} already holds files (pass overwrite=True / --overwrite)")
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


class LabelStatistics:
    """Each label's share of all generated pixels, and how many labels a mask holds on average."""

    def __init__(self, label_set: tuple):
        self.label_set, self.masks, self.held = label_set, 0, 0
        self.pixels = torch.zeros(len(label_set), dtype=torch.float64)

    def add(self, channels: torch.Tensor) -> None:
        """``channels`` (B, H, W): the argmax channel of each pixel of a batch of masks."""
        counts = F.one_hot(channels, len(self.label_set)).sum((1, 2)).cpu().double()
        self.pixels += counts.sum(0)
        self.held += int((counts / channels[0].numel() >= VISIBLE).sum())
        self.masks += channels.shape[0]

    def as_dict(self, training_shares=None) -> dict:
        shares = (self.pixels / self.pixels.sum()).tolist()
        info = {"labels_per_mask": round(self.held / self.masks, 3),
                "label_shares": {str(k): round(v, 4) for k, v in zip(self.label_set, shares)}}
        if training_shares is not None:
            info["training_label_shares"] = {str(k): round(v, 4) for k, v in zip(self.label_set, training_shares)}
        return info


def _save_png(array, path: Path) -> None:
    with atomic_file(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def write_pair(folders: dict, name: str, image: torch.Tensor, labels: torch.Tensor) -> None:
    """The image, its label mask and its colour mask, each as ``name`` in its folder."""
    ids = labels.cpu().numpy().astype("uint8")
    _save_png(to_uint8(image), folders["rgb"] / name)
    _save_png(ids, folders["mask"] / name)
    _save_png(labels_to_colour(ids), folders["colour"] / name)


@torch.no_grad()
def generate(checkpoint_path, num: int, out, batch_size: int = 16, seed: int = 0, device="cpu",
             overwrite: bool = False, progress: bool = True) -> Path:
    """Writes ``num`` pairs to ``out`` (see the module's docstring); returns ``out``."""
    if num < 1 or batch_size < 1:
        raise InputError(f"num and batch_size must be at least 1, got num={num}, batch_size={batch_size}")
    generator, label_set, training_shares = load_generator(checkpoint_path, device)
    folders = output_folders(out, overwrite)
    statistics, rng = LabelStatistics(label_set), torch.Generator().manual_seed(seed)
    shown_images, shown_labels = [], []
    with tqdm(total=num, desc="generating", disable=not progress) as bar:
        for start in range(0, num, batch_size):
            count = min(batch_size, num - start)
            result = generator(generator.noise(count, generator=rng).to(device))
            channels = result["mask"].argmax(1)
            images, labels = result["images"][-1], to_labels(channels, label_set)
            statistics.add(channels)
            for k in range(count):
                write_pair(folders, f"{start + k:06d}.png", images[k], labels[k])
            if sum(len(x) for x in shown_images) < OVERVIEW:
                shown_images.append(images[:OVERVIEW].cpu())
                shown_labels.append(labels[:OVERVIEW].cpu())
            bar.update(count)
    out = Path(out)
    pair_grid(torch.cat(shown_images)[:OVERVIEW], torch.cat(shown_labels)[:OVERVIEW]).save(out / "overview.png")
    info = {"checkpoint": str(checkpoint_path), "num": num, "seed": seed, "label_set": list(label_set),
            "size": list(generator.size), **statistics.as_dict(training_shares)}
    (out / "generated.json").write_text(json.dumps(info, indent=1) + "\n")
    return out
