"""Multi-process training under ``torchrun``: process-group set-up from the environment (gloo on
CPU, nccl on GPU), sharding of the evaluation data, and the sum of confusion matrices."""
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str) -> Context:
    """The process group if ``torchrun`` started us (WORLD_SIZE > 1), else a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    want = torch.device(device)
    if world_size == 1:
        return Context(device=want)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if want.type == "cuda":
        want = torch.device("cuda", local_rank)
        torch.cuda.set_device(want)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if want.type == "cuda" else "gloo")
    return Context(rank, world_size, want)


def first_process() -> bool:
    """Whether this is the first process of its job (or the only one), before ``setup``."""
    return int(os.environ.get("RANK", "0")) == 0


@contextmanager
def group(device: str):
    """``setup(device)`` for the block; when it ends well every process waits for the others
    before the group goes (a process leaving while another still talks to it made gloo abort
    that one: 'terminate called without an active exception')."""
    ctx = setup(device)
    try:
        yield ctx
        barrier(ctx)
    finally:
        if ctx.active and dist.is_initialized():
            dist.destroy_process_group()


def shard(indices, ctx: Context):
    """This process's part of ``indices`` (every item exactly once over all processes)."""
    return list(indices)[ctx.rank::ctx.world_size]


def sum_over_processes(t: torch.Tensor, ctx: Context) -> torch.Tensor:
    if ctx.active:
        t = t.to(ctx.device)
        dist.all_reduce(t)
    return t.cpu()


def barrier(ctx: Context) -> None:
    if ctx.active:
        dist.barrier()
