"""Data-parallel context: one process per GPU under ``torchrun`` / ``accelerate launch``.

Without ``WORLD_SIZE`` > 1 in the environment everything here is a no-op (rank 0 of 1), so the
single-process path is the same code.  Rank *r* of *N* takes the global micro-batches ``k·N + r``;
per-step item counts are summed over ranks so the loss keeps its one-big-batch scaling; rank 0 alone
writes checkpoints, metrics and artifacts, and decides when to stop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def device(self) -> torch.device:
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def sum(self, *values: float) -> list[float]:
        """Sum numbers over ranks (float64; exact for counts)."""
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t)
        return t.tolist()

    def decide(self, flag: bool) -> bool:
        """Rank 0's answer, on every rank (e.g. should_stop)."""
        if not self.active:
            return flag
        t = torch.tensor([1 if flag else 0], device=self._comm_device())
        dist.broadcast(t, src=0)
        return bool(t.item())

    def _comm_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")


def from_env() -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend)
    return Dist(rank=rank, world=world, local_rank=local)
