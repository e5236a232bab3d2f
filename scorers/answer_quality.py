"""The per-sample ``answer_quality`` score and its breakdown, combined from every signal that ran.

Each answer-quality signal scorer (``answer_accuracy``, ``answer_completeness``, …) leaves a 0–1
score per sample in its field (``None`` where it has nothing to say) and reports no dimension score
of its own; this scorer maps the signals onto the four sub-dimensions, averages within each, and
averages the sub-dimensions (plus the reward model, which rates the answer as a whole).  The
model-free signals are computed here when they were not selected, so ``answer_quality`` alone gives
a full model-free score; model signals count only when they ran.

**A defect lowers the score.**  Every warning or error that a check raised about the answer (its
own signals' flags, and the noise checks that read the answer: empty, placeholder, refusal, AI
boilerplate, repetition, truncation, merged templates, wrong language, mismatched answer) multiplies
the score by ``warning_factor`` or ``error_factor``, once per code.  Those flags are raised only
where their measured precision is nine in ten, so each is a defect found, not a guess.

**The headline says what it measures.**  Without a signal that ranks ordinary answers (a language
model, a reward model, a judge, or the learned ranker), the checks can only *find defects*, so the
dimension's headline is the share of answers with no defect found, labelled as such, with one line
on how to get a ranking.  With a model signal it is the mean score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from scorers import flags as flag_table
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
#: signals that rank ordinary answers (not only find defects); with none of them the headline is the
#: share of answers with no defect found.
RANKING_SIGNALS = ("answer_perplexity", "answer_ifd", "answer_reward", JUDGE)
#: noise checks that read the answer; the model-free ones are computed here when not selected.
ANSWER_NOISE = ("junk_answer", "broken_answer")
ANSWER_NOISE_IF_RUN = ("wrong_language", "mismatched_answer")
#: noise codes that are about the prompt, not the answer.
NOT_ANSWER_DEFECTS = frozenset({"placeholder_input"})
NO_DEFECT = "share of answers with no defect found"
HOW_TO_RANK = (
    "This counts defects; it does not rank ordinary answers. For a ranking, give labels (upload a label "
    "file or keep/drop samples in the sample browser) and run learned_quality, configure an LLM judge "
    "(answer_judge, or learned_quality with judge_budget), or configure a language or reward model "
    "(answer_perplexity, answer_ifd, answer_reward)."
)


class AnswerQualityParams(ScorerParams):
    warning_factor: float = Field(
        0.5, ge=0, le=1, description="A defect raised as a warning multiplies the score by this."
    )
    error_factor: float = Field(
        0.25, ge=0, le=1, description="A defect raised as an error multiplies the score by this."
    )


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


def answer_defects(results: dict[str, Any], n: int) -> list[dict[str, str]]:
    """Per sample, {code: severity} of every warning or error raised about the answer — as the precision gate
    shows it (a code people found wrong too often lowers no score)."""
    out: list[dict[str, str]] = [{} for _ in range(n)]
    for name in (*SIGNALS, JUDGE, *ANSWER_NOISE, *ANSWER_NOISE_IF_RUN):
        res = results.get(name)
        if res is None:
            continue
        for i, flags in enumerate(res.flags):
            for raw in flags:
                f = flag_table.gate(raw)
                if f is not None and f.severity in ("warning", "error") and f.code not in NOT_ANSWER_DEFECTS:
                    if out[i].get(f.code) != "error":
                        out[i][f.code] = f.severity
    return out


@register
class AnswerQuality(Scorer):
    """Answer quality 0–1 (1 = best): accuracy, completeness, conciseness and clarity, lowered by each defect found."""

    name = "answer_quality"
    version = "2"
    dimension = "answer_quality"
    Params = AnswerQualityParams
    after = (*SIGNALS, JUDGE, *ANSWER_NOISE, *ANSWER_NOISE_IF_RUN)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        from scorers.base import get_scorer

        p: AnswerQualityParams = self.params  # type: ignore[assignment]
        n = len(samples)
        used: dict[str, str] = {}
        results: dict[str, Any] = {}
        per_sample: list[dict[str, list[float]]] = [{} for _ in range(n)]
        for name in (*SIGNALS, JUDGE, *ANSWER_NOISE, *ANSWER_NOISE_IF_RUN):
            result = ctx.results.get(name)
            if result is None and name in (*MODEL_FREE, *ANSWER_NOISE):
                result = ctx.memo(f"answer_quality:{name}", lambda name=name: get_scorer(name)().score(samples, ctx))
                used[name] = "computed with default parameters"
            elif result is not None:
                used[name] = "ran"
            else:
                continue
            results[name] = result
            if name in SIGNALS or name == JUDGE:
                for i, contrib in enumerate(_signal_scores(name, result, n)):
                    for sub, v in contrib.items():
                        per_sample[i].setdefault(sub, []).append(v)
        defects = answer_defects(results, n)
        factor = {"warning": p.warning_factor, "error": p.error_factor}
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
            score = float(np.mean(parts)) if parts else (1.0 if defects[i] else None)
            if score is not None:
                score *= float(np.prod([factor[sev] for sev in defects[i].values()]))
            scores.append(score)
            fields.append({"answer_quality_breakdown": breakdown, "answer_defects": sorted(defects[i])})
        ranking = [s for s in RANKING_SIGNALS if s in used]
        clean = sum(1 for d in defects if not d) / n if n else None
        scored = [s for s in scores if s is not None]
        if ranking:
            headline = {
                "value": float(np.mean(scored)) if scored else None,
                "measures": f"mean answer quality (checks and {', '.join(ranking)})",
            }
        else:
            headline = {"value": clean, "measures": NO_DEFECT, "how_to_rank": HOW_TO_RANK}
        summary = {
            "signals": used,
            "signals_not_run": [s for s in (*SIGNALS, JUDGE) if s not in used],
            "subdimensions": {
                k: {"mean": float(np.mean(v)) if v else None, "samples": len(v)} for k, v in sub_values.items()
            },
            "mapping": dict(SIGNALS, **{JUDGE: "accuracy, completeness, conciseness, clarity"}),
            "samples_with_defects": sum(1 for d in defects if d),
            "share_without_defect": clean,
            "mean_score": float(np.mean(scored)) if scored else None,
            "dimension_headline": headline,
        }
        # the flags belong to the signal scorers; when this scorer computed them itself, carry them here
        # (the noise checks' flags belong to the noise dimension: the defects they found are named in
        # each sample's ``answer_defects``)
        flags: list[list] = [[] for _ in range(n)]
        for name, how in used.items():
            if how.startswith("computed") and name in MODEL_FREE:
                for i, fl in enumerate(results[name].flags):
                    flags[i].extend(fl)
        return ScorerResult(scores=scores, flags=flags, fields=fields, summary=summary, dataset_score=headline["value"])
