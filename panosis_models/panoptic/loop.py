"""A panoptic evaluation: panoptic quality (plus the semantic head's confusions) of the
post-processed outputs, shared out over processes."""
import torch
from torch.utils.data import Dataset, DataLoader, Subset
from tqdm import tqdm

from panosis_models.engine import distributed
from panosis_models.engine.loop import autocast
from panosis_models.panoptic.components import components_of
from panosis_models.panoptic.levels import FINE, PanopticLevel
from panosis_models.panoptic.postprocess import PostProcessing
from panosis_models.panoptic.quality import PanopticQuality
from panosis_models.sphere_metrics import SphereConfusion


@torch.no_grad()
def predict(model, images: torch.Tensor, amp: bool = False, level: PanopticLevel = FINE,
            post: PostProcessing = PostProcessing()) -> tuple:
    """(instance maps (B, H, W) by ``post``, semantic labels (B, H, W)) of a batch, from a network
    that learnt ``level``."""
    with autocast(images.device, amp):
        outputs = model(images)
    return post(outputs, level.things), outputs["semantic"].argmax(1)


def evaluate(model, dataset: Dataset, ctx: distributed.Context, batch_size: int, amp: bool = False,
             progress: bool = False, desc: str = "evaluating", level: PanopticLevel = FINE,
             components: bool = False, post: PostProcessing = PostProcessing()) -> tuple:
    """(PanopticQuality, SphereConfusion of the semantic head, and with ``components`` the
    PanopticQuality of the connected-components baseline on the same semantic output, else None)
    of ``model`` over ``dataset`` (items ``(image, labels, instances, ...)`` at ``level``), shared
    out over the processes."""
    was_training = model.training
    model.eval()
    part = Subset(dataset, distributed.shard(range(len(dataset)), ctx))
    quality, confusion = PanopticQuality(level), SphereConfusion(level.metrics)
    baseline = PanopticQuality(level) if components else None
    for images, labels, instances, *_ in tqdm(DataLoader(part, batch_size=batch_size), desc=desc, leave=False,
                                            disable=not (progress and ctx.main)):
        panoptic, semantic = predict(model, images.to(ctx.device), amp, level, post)
        quality.add(panoptic.cpu(), instances)
        confusion.add(semantic.cpu(), labels)
        if components:
            baseline.add(components_of(semantic.cpu(), level.things), instances)
    model.train(was_training)
    for total in (quality, baseline):
        if total is not None:
            total.sum_over_processes(ctx)
    confusion.counts = distributed.sum_over_processes(confusion.counts, ctx)
    confusion.areas = distributed.sum_over_processes(confusion.areas, ctx)
    return quality, confusion, baseline
