"""Rows → micro-batches: eval split, packing, padding and a deterministic, resumable order.

The order of micro-batches is a pure function of (seed, epoch), so a resumed run recomputes exactly
the batches it would have seen: no data-loader state goes into the checkpoint.

Packing concatenates rows up to ``max_length``; ``position_ids`` restart at 0 for every row and no
attention mask is passed, which makes transformers build a block-diagonal causal mask (its packed
sequence detection), so no token attends to another row.  Padding at the tail of a packed row is
its own block with labels ignored.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from app.training_spec.formatting import IGNORE, Encoded


@dataclass
class Batch:
    input_ids: torch.Tensor
    labels: torch.Tensor
    attention_mask: torch.Tensor | None
    position_ids: torch.Tensor | None
    n_tokens: int  # real (non-pad) tokens
    weights: torch.Tensor | None = None  # per-token loss weights (uploaded loss_weight); None = all 1

    @property
    def n_supervised(self) -> int:
        # labels are shifted inside the loss: position 0 is never a target
        return int((self.labels[:, 1:] != IGNORE).sum())

    @property
    def n_items(self) -> int:
        """What the loss is averaged over: supervised tokens."""
        return self.n_supervised

    def to(self, device: torch.device) -> Batch:
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(
            move(self.input_ids),
            move(self.labels),
            move(self.attention_mask),
            move(self.position_ids),
            self.n_tokens,
            move(self.weights),
        )


def split_eval(rows: Sequence[Encoded], fraction: float, seed: int) -> tuple[list[Encoded], list[Encoded]]:
    if fraction <= 0 or len(rows) < 2:
        return list(rows), []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, int(round(len(rows) * fraction)))
    ev = set(order[:n_eval])
    return [r for i, r in enumerate(rows) if i not in ev], [r for i, r in enumerate(rows) if i in ev]


def pack_rows(rows: Sequence[Encoded], max_length: int) -> list[list[Encoded]]:
    """Greedy first-fit-decreasing into bins of ``max_length`` tokens (deterministic)."""
    order = sorted(range(len(rows)), key=lambda i: (-len(rows[i].input_ids), i))
    bins: list[list[Encoded]] = []
    free: list[int] = []
    for i in order:
        n = len(rows[i].input_ids)
        for b, room in enumerate(free):
            if n <= room:
                bins[b].append(rows[i])
                free[b] -= n
                break
        else:
            bins.append([rows[i]])
            free.append(max_length - n)
    return bins


def _row_weights(r: Encoded) -> torch.Tensor:
    if r.weights is not None:
        return torch.tensor(r.weights, dtype=torch.float32)
    return (torch.tensor(r.labels) != IGNORE).float()


def collate_padded(rows: Sequence[Encoded], pad_id: int) -> Batch:
    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    weights = torch.zeros((len(rows), width)) if any(r.weights is not None for r in rows) else None
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        labels[i, :n] = torch.tensor(r.labels)
        mask[i, :n] = 1
        if weights is not None:
            weights[i, :n] = _row_weights(r)
    return Batch(ids, labels, mask, None, int(mask.sum()), weights)


def collate_packed(bins: Sequence[Sequence[Encoded]], pad_id: int) -> Batch:
    width = max(sum(len(r.input_ids) for r in b) for b in bins)
    ids = torch.full((len(bins), width), pad_id, dtype=torch.long)
    labels = torch.full((len(bins), width), IGNORE, dtype=torch.long)
    pos = torch.zeros((len(bins), width), dtype=torch.long)
    weights = torch.zeros((len(bins), width)) if any(r.weights is not None for b in bins for r in b) else None
    n_tokens = 0
    for i, b in enumerate(bins):
        at = 0
        for r in b:
            n = len(r.input_ids)
            ids[i, at : at + n] = torch.tensor(r.input_ids)
            lab = torch.tensor(r.labels)
            lab[0] = IGNORE  # the first token of a row is never predicted from the previous row
            labels[i, at : at + n] = lab
            if weights is not None:
                weights[i, at : at + n] = _row_weights(r)
            pos[i, at : at + n] = torch.arange(n)
            at += n
        n_tokens += at
        pos[i, at:] = torch.arange(width - at)  # tail padding: its own block
    return Batch(ids, labels, None, pos, n_tokens, weights)


class BatchPlan:
    """Fixed micro-batches with a seeded per-epoch order; ``micro(k)`` is the k-th micro-batch of the run."""

    def __init__(
        self, rows: Sequence[Encoded], batch_size: int, pad_id: int, packing: bool, max_length: int, seed: int
    ):
        self.seed = seed
        self.pad_id = pad_id
        self.packing = packing
        units: list[list[Encoded]] = pack_rows(rows, max_length) if packing else [[r] for r in rows]
        # shuffle once, then cut into fixed groups; per epoch only the group order changes
        random.Random(seed).shuffle(units)
        self.groups = [units[i : i + batch_size] for i in range(0, len(units), batch_size)]
        if not self.groups:
            raise ValueError("no training rows left after filtering")

    def __len__(self) -> int:
        return len(self.groups)

    def _order(self, epoch: int) -> list[int]:
        order = list(range(len(self.groups)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def micro(self, k: int) -> Batch:
        epoch, pos = divmod(k, len(self.groups))
        group = self.groups[self._order(epoch)[pos]]
        if self.packing:
            return collate_packed(group, self.pad_id)
        return collate_padded([u[0] for u in group], self.pad_id)

    def steps_for(self, epochs: float, grad_accum: int) -> int:
        return max(1, math.ceil(epochs * len(self.groups) / grad_accum))


def eval_batches(rows: Sequence[Encoded], batch_size: int, pad_id: int) -> list[Batch]:
    return [collate_padded(rows[i : i + batch_size], pad_id) for i in range(0, len(rows), batch_size)]
