"""How much of the synthetic world each fine class takes: its share of the pixels and of the
instances over rendered panoramas (what `panosis-render-preview --shares` writes; see
docs/jobs/segmentation.md, "The synthetic world's classes")."""
import torch
from tqdm import tqdm

from panosis_models.data.cityscapes import FINE_NAMES, INSTANCE_STRIDE, NUM_FINE, VOID, fine_from_instances
from panosis_models.data.datasets import derive_seed
from panosis_models.data.render import render_panorama
from panosis_models.data.world import World


def class_shares(num: int, height: int, width: int, seed: int = 0, progress: bool = True) -> dict:
    """{"pixels": {class: share}, "instances": {thing class: share of all instances},
    "panoramas_with": {class: share of panoramas showing it}} over the panoramas of the worlds
    ``derive_seed(seed, i)`` (those of ``SyntheticPanoramas(num, ..., seed=seed)``); void
    appears as "void"."""
    pixels = torch.zeros(256, dtype=torch.int64)
    instances = torch.zeros(NUM_FINE, dtype=torch.int64)
    showing = torch.zeros(256, dtype=torch.int64)
    for index in tqdm(range(num), desc="rendering", disable=not progress):
        ids = render_panorama(World.random(derive_seed(seed, index)), height, width, level="instance")[1]
        counts = torch.bincount(fine_from_instances(ids).reshape(-1), minlength=256)
        pixels += counts
        showing += counts > 0
        things = ids.unique()
        instances += torch.bincount(things[things >= INSTANCE_STRIDE] // INSTANCE_STRIDE, minlength=NUM_FINE)
    names = {**dict(enumerate(FINE_NAMES)), VOID: "void"}
    return {"pixels": {name: pixels[k].item() / max(pixels.sum().item(), 1) for k, name in names.items()},
            "instances": {name: instances[k].item() / max(instances.sum().item(), 1)
                          for k, name in names.items() if k < NUM_FINE and instances[k] > 0},
            "instance_counts": {name: instances[k].item() for k, name in names.items() if k < NUM_FINE},
            "panoramas_with": {name: showing[k].item() / max(num, 1) for k, name in names.items()}}


def share_table(shares: dict) -> str:
    """A Markdown table: class, pixel share, panoramas showing it, instances and their share."""
    lines = ["| class | pixels | panoramas showing it | instances | share of instances |", "|---|---|---|---|---|"]
    for name, pixel in shares["pixels"].items():
        count = shares["instance_counts"].get(name)
        instance = "" if not count else f"{count} | {shares['instances'][name]:.1%}"
        lines.append(f"| {name} | {pixel:.3%} | {shares['panoramas_with'][name]:.0%} | "
                     f"{instance or ' | '} |")
    return "\n".join(lines)
