"""Reward-model head: a scalar sequence-classification model trained on chosen/rejected pairs.

A pair arrives as a :class:`~scorers.samples.Sample` whose turns end with the **chosen** assistant
reply and whose ``meta["rejected"]`` holds the rejected final reply (a string).  The loss is the
Bradley–Terry ``-log σ(r_chosen − r_rejected)``, averaged over pairs; accuracy is the share of pairs
ranked the right way.  Over-long pairs are truncated from the *left* (the replies, where
chosen and rejected differ, come last).  The output directory loads with ``AutoModelForSequenceClassification``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# the torch-free parts (parsing and encoding pairs) are app/training_spec/pairs.py: the API validates reward data with them
from app.training_spec.pairs import PairRow


@dataclass
class PairBatch:
    input_ids: torch.Tensor  # chosen rows first, then rejected rows
    attention_mask: torch.Tensor
    n_pairs: int
    n_tokens: int

    @property
    def n_items(self) -> int:
        return self.n_pairs

    def to(self, device: torch.device) -> PairBatch:
        return PairBatch(self.input_ids.to(device), self.attention_mask.to(device), self.n_pairs, self.n_tokens)


def collate_pairs(rows: Sequence[PairRow], pad_id: int) -> PairBatch:
    seqs = [r.chosen for r in rows] + [r.rejected for r in rows]
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return PairBatch(ids, mask, len(rows), int(mask.sum()))


def reward_objective(model: nn.Module, b: PairBatch) -> tuple[torch.Tensor, int, torch.Tensor]:
    """(sum of pair losses, pairs, pairs ranked right)."""
    scores = _scores(model, b.input_ids, b.attention_mask)
    chosen, rejected = scores[: b.n_pairs], scores[b.n_pairs :]
    margin = (chosen - rejected).float()
    return -F.logsigmoid(margin).sum(), b.n_pairs, (margin > 0).sum()


def _scores(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One reward per row, pooled exactly as transformers pools it at inference (the last non-pad
    token), so the scorer that loads the model later reads the same number we trained."""
    return model(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, 0]


class PairPlan:
    """Same contract as :class:`~app.training.data.BatchPlan`, for pairs."""

    def __init__(self, rows: Sequence[PairRow], batch_size: int, pad_id: int, seed: int):
        units = list(rows)
        random.Random(seed).shuffle(units)
        self.groups = [units[i : i + batch_size] for i in range(0, len(units), batch_size)]
        self.seed, self.pad_id = seed, pad_id
        if not self.groups:
            raise ValueError("no training pairs left after filtering")

    def __len__(self) -> int:
        return len(self.groups)

    def micro(self, k: int) -> PairBatch:
        epoch, pos = divmod(k, len(self.groups))
        order = list(range(len(self.groups)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return collate_pairs(self.groups[order[pos]], self.pad_id)

    def steps_for(self, epochs: float, grad_accum: int) -> int:
        return max(1, -(-int(epochs * len(self.groups)) // grad_accum))


def eval_pair_batches(rows: Sequence[PairRow], batch_size: int, pad_id: int) -> list[PairBatch]:
    return [collate_pairs(rows[i : i + batch_size], pad_id) for i in range(0, len(rows), batch_size)]
