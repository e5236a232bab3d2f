"""How the noise scorers score: one severity → score mapping (not a scorer module: no registration here).

The text they read is read by :mod:`scorers.text` (one module per idea, shared with every scorer family).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scorers.base import SEVERITY_SCORE, Flag, ScorerResult, flag_counts
from scorers.samples import Sample
from scorers.text.cues import SONG
from scorers.text.endings import certain_cut
from scorers.text.rules import Rule


def verse_asked(s: Sample) -> bool:
    """The prompt asks for a poem or song (:data:`scorers.text.cues.SONG`): a line of verse needs no full stop."""
    return SONG.search(s.instruction) is not None


def sample_cut(s: Sample, answer: str, *, verse: bool | None = None) -> Rule | None:
    """:func:`scorers.text.endings.certain_cut` of a sample's answer, read with its instruction (the count it asks
    for, whether it asks for verse: ``verse`` when the caller has it already).  ``broken_answer`` raises it and
    ``answer_ending`` leaves its rows alone, so both read it here, the same way."""
    return certain_cut(answer, verse=verse_asked(s) if verse is None else verse, prompt=s.instruction)


def result_from_flags(
    samples: Sequence[Sample],
    flags: list[list[Flag]],
    summary: dict[str, Any] | None = None,
    fields: list[dict[str, Any]] | None = None,
    applies: Sequence[bool] | None = None,
) -> ScorerResult:
    """Scores = the worst flag's severity score; ``applies[i] = False`` gives ``None`` for sample i.

    The summary counts flags per code and names up to five example samples (by ``index``) per code.
    """
    n = len(flags)
    scores: list[float | None] = []
    for i, fl in enumerate(flags):
        if applies is not None and not applies[i]:
            scores.append(None)
        else:
            scores.append(min((SEVERITY_SCORE[f.severity] for f in fl), default=1.0))
    out_summary = flag_counts(samples, flags)
    out_summary.update(summary or {})
    return ScorerResult(
        scores=scores, flags=flags, fields=fields or [{} for _ in range(n)], summary=out_summary, scores_from_flags=True
    )
