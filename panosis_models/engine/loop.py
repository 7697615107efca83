"""The segmentation training loop, in torchvision's references/segmentation shape: an epoch's
loader, ``train_one_epoch`` and ``evaluate`` (confusion matrices per latitude band, in pixels and
steradians, shared out over processes)."""
import math
from functools import partial

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from panosis_models.engine import distributed
from panosis_models.errors import InputError
from panosis_models.metrics import CATEGORY, IGNORE_INDEX, Level
from panosis_models.sphere_metrics import SphereConfusion


def autocast(device: torch.device, enabled: bool):
    """bfloat16 autocast on GPU when asked for; a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


@torch.no_grad()
def predict(model, images: torch.Tensor, amp: bool = False) -> torch.Tensor:
    with autocast(images.device, amp):
        return model(images).argmax(1)


def epoch_loader(dataset: Dataset, ctx: distributed.Context, batch_size: int, workers: int, seed: int) -> DataLoader:
    """This process's share of ``dataset`` in a shuffled order. Seeds torch's global generator
    with ``seed`` first, so the epoch's shuffling, augmentation and dropout repeat on resume;
    every process gets as many items (DDP steps in lockstep). A last batch of one item is left
    out (another item each epoch): BatchNorm cannot normalise a single item where a feature map
    is 1x1, as in PSPNet's coarsest pyramid bin."""
    torch.manual_seed(seed)
    order = torch.randperm(len(dataset)).tolist()
    order = order[:len(order) - len(order) % ctx.world_size]
    if len(order) // ctx.world_size % batch_size == 1 and len(order) > ctx.world_size:
        order = order[:-ctx.world_size]
    return DataLoader(Subset(dataset, distributed.shard(order, ctx)), batch_size=batch_size,
                      num_workers=workers, drop_last=False)


def train_steps(net, optimizer, loader: DataLoader, ctx: distributed.Context, amp: bool, clip: float,
                desc: str, progress: bool, loss_of) -> float:
    """One pass over ``loader`` minimising ``loss_of(net, *batch)`` (the batch on the device, the
    network run under autocast) with gradient clipping; returns the mean loss. Every job's
    training epoch is this loop with its own loss."""
    net.train()
    losses = []
    bar = tqdm(loader, desc=desc, disable=not (progress and ctx.main))
    for batch in bar:
        batch = [t.to(ctx.device) for t in batch]
        with autocast(ctx.device, amp):
            loss = loss_of(net, *batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    return sum(losses) / max(len(losses), 1)


def check_finite(loss: float, model, when: str) -> None:
    """Stops a run whose loss or weights are no longer finite (a learning rate too high, mostly),
    before its checkpoints take them: they keep the last finite state."""
    if math.isfinite(loss) and all(torch.isfinite(p).all() for p in model.parameters()):
        return
    raise InputError(f"training diverged in {when}: the loss ({loss:.4g}) or the weights are not finite, and no "
                     "checkpoint took them; start again with a lower --lr (--overwrite replaces this run)")


def segmentation_loss(net, images: torch.Tensor, masks: torch.Tensor, ignore_index: int = IGNORE_INDEX):
    """Cross-entropy (labels ``ignore_index`` cost nothing). A network that returns ``(logits,
    aux_logits)`` in training (PSPNet) adds its auxiliary loss, weighted by its ``aux_weight``."""
    logits = net(images)
    aux = None
    if isinstance(logits, tuple):
        logits, aux = logits
    loss = F.cross_entropy(logits.float(), masks, ignore_index=ignore_index)
    if aux is not None:
        module = getattr(net, "module", net)  # under DDP
        loss = loss + module.aux_weight * F.cross_entropy(aux.float(), masks, ignore_index=ignore_index)
    return loss


def train_one_epoch(net, optimizer, loader: DataLoader, ctx: distributed.Context, amp: bool, clip: float,
                    desc: str, progress: bool, ignore_index: int = IGNORE_INDEX) -> float:
    """One pass of segmentation training (``segmentation_loss``); returns the mean loss."""
    return train_steps(net, optimizer, loader, ctx, amp, clip, desc, progress,
                       partial(segmentation_loss, ignore_index=ignore_index))


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
