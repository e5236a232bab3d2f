"""Preference pairs for reward training, parsed without torch (the API validates them before queueing)."""

from __future__ import annotations

import re

from app.training.formatting import DataValidationError
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
