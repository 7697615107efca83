"""The training loop every job's epochs run, in torchvision's references shape: an epoch's
loader (seeded, sharded over processes), ``train_steps`` with the job's loss, autocast, and the
check that stops a diverging run."""
import math

import torch
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from panosis_models.engine import distributed
from panosis_models.errors import InputError


def autocast(device: torch.device, enabled: bool):
    """bfloat16 autocast on GPU when asked for; a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


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
