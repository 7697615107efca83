"""Where a panoptic network loses its quality: the same post-processing fed, for each of
semantics, centres and offsets, either the ground truth or the network's output, and connected
components (no centre heads) on either semantics. The row that jumps when one input turns true
names the weak link; "all true" checks the post-processing itself (PQ 1 up to targets that the
centre rule cannot separate)."""
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from panosis_models.data.panoptic_targets import panoptic_targets
from panosis_models.engine.loop import autocast
from panosis_models.panoptic.components import connected_components
from panosis_models.panoptic.levels import FINE, PanopticLevel
from panosis_models.panoptic.postprocess import GROUPINGS
from panosis_models.panoptic.quality import PanopticQuality

# (row, semantics, centres, offsets, grouping): "true" or "predicted"; grouping one of
# postprocess.GROUPINGS, or "components" (connected components, no centre heads)
ROWS = (
    ("all predicted", "predicted", "predicted", "predicted", "centres"),
    ("all predicted, centres split components", "predicted", "predicted", "predicted", "split-components"),
    ("true semantics, predicted centres and offsets", "true", "predicted", "predicted", "centres"),
    ("predicted semantics, true centres and offsets", "predicted", "true", "true", "centres"),
    ("true semantics and centres, predicted offsets", "true", "true", "predicted", "centres"),
    ("predicted semantics, connected components", "predicted", None, None, "components"),
    ("true semantics, connected components", "true", None, None, "components"),
    ("all true", "true", "true", "true", "centres"),
)


@torch.no_grad()
def diagnose(model, dataset: Dataset, level: PanopticLevel = FINE, device="cpu", batch_size: int = 4,
             amp: bool = False, progress: bool = False) -> dict:
    """{row: PanopticQuality report} over ``dataset`` (items ``(image, labels, instances, ...)`` at
    ``level``, the one the model learnt), for every row of ``ROWS``."""
    model.eval()
    totals = {name: PanopticQuality(level) for name, *_ in ROWS}
    for images, labels, instances, *_ in tqdm(DataLoader(dataset, batch_size=batch_size), desc="diagnosing",
                                            leave=False, disable=not progress):
        with autocast(torch.device(device), amp):
            outputs = model(images.to(device))
        predicted = {"semantics": outputs["semantic"].argmax(1).cpu(), "centres": outputs["center"].float().cpu(),
                     "offsets": outputs["offset"].float().cpu()}
        for item in range(len(images)):
            heatmap, offsets = panoptic_targets(instances[item])
            sources = {"true": {"semantics": labels[item], "centres": heatmap, "offsets": offsets},
                       "predicted": {name: value[item] for name, value in predicted.items()}}
            for name, semantics, centres, offset, grouping in ROWS:
                semantic = sources[semantics]["semantics"]
                if grouping == "components":
                    found = connected_components(semantic, level.things)
                else:
                    found = GROUPINGS[grouping](semantic, sources[centres]["centres"][0], sources[offset]["offsets"],
                                                things=level.things)
                totals[name].add(found[None], instances[item][None])
    return {name: total.report() for name, total in totals.items()}


def table(reports: dict, level: PanopticLevel = FINE) -> str:
    """The diagnosis as a Markdown table: PQ of the things, of those of at least the minimum area,
    and each thing class's true and false positives and misses where it occurs."""
    def number(value):
        return "n/a" if value is None else f"{value:.3f}"
    first = next(iter(reports.values()))
    lines = [f"| inputs to the post-processing | PQ things | PQ things >= {first['visible']['min_area']} px | "
             "TP / FP / FN per thing class |", "|---|---|---|---|"]
    for name, report in reports.items():
        things = [level.names[t] for t in level.things]
        counts = ", ".join(f"{c} {v['tp']}/{v['fp']}/{v['fn']}" for c, v in report["pixel"]["classes"].items()
                           if c in things)
        lines.append(f"| {name} | {number(report['pixel']['things']['pq'])} | "
                     f"{number(report['visible']['pixel']['things']['pq'])} | {counts} |")
    return "\n".join(lines)
