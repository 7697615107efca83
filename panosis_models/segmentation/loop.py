"""The segmentation job's loss and evaluation: cross-entropy (with PSPNet's auxiliary loss) and
the confusions of a model's predictions per latitude band, in pixels and steradians, shared out
over processes."""
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from panosis_models.engine import distributed
from panosis_models.engine.loop import autocast
from panosis_models.metrics import CATEGORY, IGNORE_INDEX, Level
from panosis_models.sphere_metrics import SphereConfusion


@torch.no_grad()
def predict(model, images: torch.Tensor, amp: bool = False) -> torch.Tensor:
    with autocast(images.device, amp):
        return model(images).argmax(1)


def segmentation_loss(net, images: torch.Tensor, masks: torch.Tensor, ignore_index: int = IGNORE_INDEX,
                      weight: torch.Tensor = None):
    """Cross-entropy (labels ``ignore_index`` cost nothing; ``weight``: one per class, as
    ``F.cross_entropy`` takes it). A network that returns ``(logits, aux_logits)`` in training
    (PSPNet) adds its auxiliary loss, weighted by its ``aux_weight``."""
    logits = net(images)
    aux = None
    if isinstance(logits, tuple):
        logits, aux = logits
    if weight is not None:
        weight = weight.to(logits.device)
    loss = F.cross_entropy(logits.float(), masks, weight=weight, ignore_index=ignore_index)
    if aux is not None:
        module = getattr(net, "module", net)  # under DDP
        loss = loss + module.aux_weight * F.cross_entropy(aux.float(), masks, weight=weight,
                                                          ignore_index=ignore_index)
    return loss


def evaluate(model, dataset: Dataset, ctx: distributed.Context, batch_size: int, amp: bool = False,
             progress: bool = False, desc: str = "evaluating", level: Level = CATEGORY) -> SphereConfusion:
    """The confusions of ``model`` over ``dataset`` (items ``(image, mask)`` at ``level``),
    shared out over the processes."""
    was_training = model.training
    model.eval()
    part = Subset(dataset, distributed.shard(range(len(dataset)), ctx))
    total = SphereConfusion(level)
    for images, masks in tqdm(DataLoader(part, batch_size=batch_size), desc=desc, leave=False,
                              disable=not (progress and ctx.main)):
        total.add(predict(model, images.to(ctx.device), amp), masks.to(ctx.device))
    model.train(was_training)
    total.counts = distributed.sum_over_processes(total.counts, ctx)
    total.areas = distributed.sum_over_processes(total.areas, ctx)
    return total
