"""The per-sample ``answer_quality`` score and its breakdown, combined from every signal that ran.

Each answer-quality signal scorer (``answer_accuracy``, ``answer_completeness``, …) leaves a 0–1
score per sample in its field (``None`` where it has nothing to say) and reports no dimension score
of its own; this scorer maps the signals onto the four sub-dimensions, averages within each, and
averages the sub-dimensions (plus the reward model, which rates the answer as a whole) into the one
``answer_quality`` score.  The model-free signals are computed here when they were not selected, so
``answer_quality`` alone gives a full model-free score; model signals count only when they ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scorers.base import Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

SUBDIMENSIONS = ("accuracy", "completeness", "conciseness", "clarity")
#: signal scorer → the sub-dimension its score feeds (``overall`` = the answer as a whole).
SIGNALS: dict[str, str] = {
    "answer_accuracy": "accuracy",
    "answer_completeness": "completeness",
    "answer_relevance": "completeness",
    "answer_ifd": "completeness",
    "answer_conciseness": "conciseness",
    "answer_clarity": "clarity",
    "answer_perplexity": "clarity",
    "answer_reward": "overall",
}
#: the judge rates all four sub-dimensions itself.
JUDGE = "answer_judge"
MODEL_FREE = ("answer_accuracy", "answer_completeness", "answer_conciseness", "answer_clarity")


def _signal_scores(name: str, result: Any, n: int) -> list[dict[str, float]]:
    """Per sample, {sub-dimension: score} contributed by one signal scorer's result."""
    out: list[dict[str, float]] = [{} for _ in range(n)]
    if result is None or not result.fields:
        return out
    for i, fields in enumerate(result.fields):
        value = fields.get(name) or {}
        if name == JUDGE:
            for sub in SUBDIMENSIONS:
                if value.get(sub) is not None:
                    out[i][sub] = float(value[sub])
        elif value.get("score") is not None:
            out[i][SIGNALS[name]] = float(value["score"])
    return out


@register
class AnswerQuality(Scorer):
    """Answer quality 0–1 (1 = best), broken into accuracy, completeness, conciseness and clarity."""

    name = "answer_quality"
    version = "1"
    dimension = "answer_quality"
    Params = ScorerParams
    after = (*SIGNALS, JUDGE)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        from scorers.base import get_scorer

        n = len(samples)
        used: dict[str, str] = {}
        per_sample: list[dict[str, list[float]]] = [{} for _ in range(n)]
        for name in (*SIGNALS, JUDGE):
            result = ctx.results.get(name)
            if result is None and name in MODEL_FREE:
                result = ctx.memo(f"answer_quality:{name}", lambda name=name: get_scorer(name)().score(samples, ctx))
                used[name] = "computed with default parameters"
            elif result is not None:
                used[name] = "ran"
            else:
                continue
            for i, contrib in enumerate(_signal_scores(name, result, n)):
                for sub, v in contrib.items():
                    per_sample[i].setdefault(sub, []).append(v)
        scores: list[float | None] = []
        fields: list[dict] = []
        sub_values: dict[str, list[float]] = {k: [] for k in (*SUBDIMENSIONS, "overall")}
        for i in range(n):
            breakdown = {sub: (float(np.mean(v)) if (v := per_sample[i].get(sub)) else None) for sub in SUBDIMENSIONS}
            parts = [v for v in breakdown.values() if v is not None]
            if per_sample[i].get("overall"):
                parts.append(float(np.mean(per_sample[i]["overall"])))
                breakdown["overall_model"] = parts[-1]
            for sub, v in breakdown.items():
                if v is not None:
                    sub_values["overall" if sub == "overall_model" else sub].append(v)
            scores.append(float(np.mean(parts)) if parts else None)
            fields.append({"answer_quality_breakdown": breakdown})
        summary = {
            "signals": used,
            "signals_not_run": [s for s in (*SIGNALS, JUDGE) if s not in used],
            "subdimensions": {k: {"mean": float(np.mean(v)) if v else None, "samples": len(v)} for k, v in sub_values.items()},
            "mapping": dict(SIGNALS, **{JUDGE: "accuracy, completeness, conciseness, clarity"}),
        }
        # the flags belong to the signal scorers; when this scorer computed them itself, carry them here
        flags: list[list] = [[] for _ in range(n)]
        for name, how in used.items():
            if how.startswith("computed"):
                res = ctx.memo(f"answer_quality:{name}", lambda: None)
                for i, fl in enumerate(res.flags):
                    flags[i].extend(fl)
        return ScorerResult(scores=scores, flags=flags, fields=fields, summary=summary)
