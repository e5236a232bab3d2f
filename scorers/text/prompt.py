"""The parts of a prompt: the instruction, the input it works on, and politeness that changes no task.

* :func:`split_input` — (instruction, input) of an alpaca-style sample: from the original record when the
  ingest layer kept it, else the normalised user turn split at its last blank line;
* :func:`without_fillers` — the text without "please", "can you", "请", "谢谢";
* :func:`template_lines` / :func:`without_template` — lines that many prompts of a dataset share (a tool preamble,
  a fixed system text) are a template, not the question: two prompts are compared on what differs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from scorers.samples import Sample

_FILLERS = re.compile(
    r"\b(?:please|kindly|thanks|thank you|can you|could you|would you|will you)\b|请你|请|麻烦你?|谢谢你?", re.I
)


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


#: a line is a template line when at least this share of a dataset's prompts (and this many) carry it
TEMPLATE_SHARE = 0.05
TEMPLATE_MIN_PROMPTS = 10
TEMPLATE_MIN_CHARS = 15


def template_lines(prompts: Sequence[str]) -> frozenset[str]:
    """Lines (of at least 15 characters) that at least 5% of the prompts share: a preamble, not a question
    (every Toolformer prompt opens with the same tool descriptions, rows 5154 and 6537)."""
    counts: Counter[str] = Counter()
    for p in prompts:
        counts.update({ln.strip() for ln in p.splitlines() if len(ln.strip()) >= TEMPLATE_MIN_CHARS})
    need = max(TEMPLATE_MIN_PROMPTS, TEMPLATE_SHARE * len(prompts))
    return frozenset(ln for ln, c in counts.items() if c >= need)


def without_template(text: str, lines: frozenset[str]) -> str:
    """``text`` without its template lines (unchanged when it holds nothing else)."""
    if not lines:
        return text
    kept = [ln for ln in text.splitlines() if ln.strip() not in lines]
    rest = "\n".join(kept).strip()
    return rest or text
