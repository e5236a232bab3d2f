"""The parts of a prompt: the instruction, the input it works on, and politeness that changes no task.

* :func:`split_input` — (instruction, input) of an alpaca-style sample: from the original record when the
  ingest layer kept it, else the normalised user turn split at its last blank line;
* :func:`without_fillers` — the text without "please", "can you", "请", "谢谢".
"""

from __future__ import annotations

import re
from typing import Any

from scorers.samples import Sample

_FILLERS = re.compile(r"\b(?:please|kindly|thanks|thank you|can you|could you|would you|will you)\b|请你|请|麻烦你?|谢谢你?",
                      re.I)


def original(s: Sample) -> dict[str, Any] | None:
    """The source record the ingest layer kept, when it did."""
    o = s.meta.get("original") if s.meta else None
    return o if isinstance(o, dict) else None


def split_input(s: Sample) -> tuple[str, str]:
    """(instruction, input) of a sample.

    From the original alpaca record when the ingest layer kept it; otherwise the normalised user
    turn is split at its last blank line (alpaca rows arrive as ``instruction + "\\n\\n" + input``).
    The split is only a guess without the original, so callers use the input part for checks that
    are safe either way (a placeholder paragraph is a placeholder wherever it sits).
    """
    o = original(s)
    if o is not None and isinstance(o.get("instruction"), str):
        inp = o.get("input")
        return o["instruction"], inp if isinstance(inp, str) else ""
    user = s.instruction
    head, sep, tail = user.rpartition("\n\n")
    if sep and head.strip():
        return head, tail
    return user, ""


def has_answer_turn(s: Sample) -> bool:
    return any(t.role == "assistant" for t in s.turns)


def without_fillers(text: str) -> str:
    """``text`` without politeness fillers ("please", "can you", "请", "谢谢"): they do not change a task."""
    return _FILLERS.sub(" ", text)
