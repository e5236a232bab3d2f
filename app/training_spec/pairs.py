"""Preference pairs for reward training, parsed without torch (the API validates them before queueing)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.training_spec.formatting import DataValidationError, Formatter
from scorers.samples import Sample, Turn

_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def pair_from_hh_rlhf(index: int, chosen: str, rejected: str) -> Sample:
    """Parse an Anthropic HH-RLHF ``{"chosen","rejected"}`` pair (``\\n\\nHuman: …\\n\\nAssistant: …``)."""

    def turns(text: str) -> list[Turn]:
        parts = _HH_TURN.split(text)
        out = []
        for role, content in zip(parts[1::2], parts[2::2], strict=True):
            out.append(Turn("user" if role == "Human" else "assistant", content.strip()))
        return out

    c, r = turns(chosen), turns(rejected)
    if not c or c[-1].role != "assistant" or not r or r[-1].role != "assistant":
        raise DataValidationError(index, "an HH-RLHF pair must end with an assistant reply on both sides")
    return Sample(index=index, turns=tuple(c), meta={"rejected": r[-1].content})


@dataclass
class PairRow:
    index: int
    chosen: list[int]
    rejected: list[int]


def encode_pairs(formatter: Formatter, samples: Sequence[Sample]) -> tuple[list[PairRow], dict]:
    rows, truncated, dropped = [], [], []
    for s in samples:
        rejected = s.meta.get("rejected")
        if not isinstance(rejected, str) or not s.turns or s.turns[-1].role != "assistant":
            raise DataValidationError(s.index, "a reward pair needs a final assistant turn and meta['rejected']")
        other = Sample(index=s.index, system=s.system, turns=s.turns[:-1] + (Turn("assistant", rejected),))
        c, r = formatter.encode(s).input_ids, formatter.encode(other).input_ids
        if max(len(c), len(r)) > formatter.max_length:
            if formatter.overlength == "drop":
                dropped.append(s.index)
                continue
            # keep the end: the replies, where chosen and rejected differ, come last
            truncated.append(s.index)
            c, r = c[-formatter.max_length :], r[-formatter.max_length :]
        if c == r:
            raise DataValidationError(s.index, "chosen and rejected are identical after formatting/truncation")
        rows.append(PairRow(s.index, c, r))
    report = {
        "rows_in": len(samples),
        "rows_kept": len(rows),
        "truncated": len(truncated),
        "dropped_overlength": len(dropped),
        "truncated_rows": truncated[:100],
        "dropped_rows": dropped[:100],
    }
    return rows, report
