"""Difficulty: how hard each sample is, from features that need no language model.

Per sample, eight saturating features in [0, 1] are combined by fixed weights into ``difficulty``
(0–1, 1 = hardest) and mapped to ``difficulty_level`` by documented cut points:

================  ======  =====================================================================
feature           weight  what it counts
================  ======  =====================================================================
instruction_len   0.10    words of the prompt (log scale, saturates at 200)
answer_len        0.15    words of the answer (log scale, saturates at 400)
constraints       0.10    explicit constraints: must / at least / no more than / in N words / 必须 …
sub_questions     0.10    question marks and enumerated asks beyond the first (saturates at 3)
structure         0.10    a required output structure: table, JSON, list, steps, format … / 表格 …
reasoning         0.15    reasoning markers: explain why, prove, compare, analyse, step by step …
math              0.20    numbers and operators in the ask, equations in the answer, maths words
code              0.10    code in the ask or the answer
================  ======  =====================================================================

``easy`` < 0.18 ≤ ``medium`` < 0.32 ≤ ``hard`` (cut points chosen so that Alpaca's one-line
factual QA lands in easy and GSM8K word problems in medium/hard; see the docs for the mix of each
shared dataset).  The dataset summary gives the mix overall and per instruction cluster, and the
gap to a target mix when the user gives one.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from scorers import _vectors as V
from scorers.base import Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text import script

LEVELS = ("easy", "medium", "hard")
WEIGHTS: dict[str, float] = {
    "instruction_len": 0.10,
    "answer_len": 0.15,
    "constraints": 0.10,
    "sub_questions": 0.10,
    "structure": 0.10,
    "reasoning": 0.15,
    "math": 0.20,
    "code": 0.10,
}
_I = re.IGNORECASE | re.ASCII  # ASCII \b: "用Python" still has a word boundary before "Python"
_CONSTRAINT = re.compile(
    r"\b(must|should not|shouldn't|do not|don't|without|at least|at most|no more than|no less than|exactly|only|"
    r"within \d+|in (under|less than|fewer than)? ?\d+ (words|sentences|characters|lines|paragraphs)|"
    r"make sure|ensure|be sure to|limit(ed)? to|include|avoid)\b|必须|不要|不能|至少|最多|不超过|只能|要求|字以内|确保|避免",
    _I,
)
_STRUCTURE = re.compile(
    r"\b(table|json|yaml|csv|markdown|bullet(ed)? (points?|list)|numbered list|in a list|list of|step[- ]by[- ]step|"
    r"steps|outline|format(ted)?|template|headings?|columns?)\b|表格|列表|步骤|格式|分点|大纲",
    _I,
)
_REASONING = re.compile(
    r"\b(why|explain|justify|prove|proof|derive|compare|contrast|analy[sz]e|evaluate|reason(ing)?|infer|deduce|"
    r"step[- ]by[- ]step|pros and cons|trade-?offs?|implications?|critically)\b|为什么|解释|证明|推理|推导|分析|比较|评价|原因",
    _I,
)
_MATH_WORDS = re.compile(
    r"\b(calculate|compute|solve|equation|sum|total|average|percent(age)?|probability|ratio|how many|how much|"
    r"per (hour|day|week|month)|each|altogether|remaining|left)\b|计算|求|方程|总共|一共|平均|百分之|概率|多少|几",
    _I,
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_EQUATION = re.compile(r"\d\s*[-+*/×÷x]\s*\d[\d.\s+\-*/×÷x()]*=\s*\$?\d|<<[^>]*>>")
_CODE = re.compile(
    r"```|^\s*(def|class|import|from \w+ import|function|public|#include|SELECT|for|while|if)\b.*[:{(]|"
    r"\b(python|javascript|java|c\+\+|sql|html|css|regex|function|algorithm)\b|[{};]\s*$|代码|编程|函数",
    _I | re.M,
)
_ENUM = re.compile(
    r"(^|\n)\s*(\d+[.)、]|[-*•]\s)|\b(first|second|then|finally|also|additionally)\b|首先|其次|然后|最后", _I
)


def _sat(x: float, cap: float) -> float:
    return min(1.0, x / cap) if cap > 0 else 0.0


def _log_sat(words: int, cap: int) -> float:
    return min(1.0, math.log1p(words) / math.log1p(cap))


def word_count(text: str) -> int:
    """Words for Latin script; for Chinese, characters / 1.5 (:func:`scorers.text.script.word_count`)."""
    return int(round(script.word_count(text)))


def features(prompt: str, answer: str) -> dict[str, float]:
    """The eight difficulty features of one sample, each in [0, 1]."""
    ask = prompt[:4000]
    head = ask.partition("\n\n")[0]
    qmarks = ask.count("?") + ask.count("？")
    enum = len(_ENUM.findall(head))
    numbers = len(_NUMBER.findall(ask))
    math_score = (
        0.35 * _sat(numbers, 3)
        + 0.35 * _sat(len(_EQUATION.findall(answer[:4000])), 2)
        + 0.3 * _sat(len(_MATH_WORDS.findall(ask)), 2)
    )
    code = 1.0 if _CODE.search(ask) else 0.6 if _CODE.search(answer[:4000]) else 0.0
    return {
        "instruction_len": _log_sat(word_count(ask), 200),
        "answer_len": _log_sat(word_count(answer[:20000]), 400),
        "constraints": _sat(len(_CONSTRAINT.findall(ask)), 3),
        "sub_questions": _sat(max(qmarks - 1, 0) + max(enum - 1, 0), 3),
        "structure": _sat(len(_STRUCTURE.findall(head)), 2),
        "reasoning": _sat(len(_REASONING.findall(ask)) + 0.5 * len(_ENUM.findall(answer[:4000])) / 3, 2),
        "math": min(1.0, math_score),
        "code": code,
    }


def combine(feats: dict[str, float]) -> float:
    return float(min(1.0, max(0.0, sum(WEIGHTS[k] * v for k, v in feats.items()))))


class DifficultyParams(ScorerParams):
    easy_below: float = Field(0.18, gt=0, lt=1, description="difficulty below this is easy.")
    hard_from: float = Field(0.32, gt=0, lt=1, description="difficulty at or above this is hard.")
    target_mix: dict[str, float] | None = Field(
        None,
        description="Wanted shares of easy/medium/hard (e.g. {'easy': 0.3, 'medium': 0.4, 'hard': 0.3}); "
        "the summary reports the gap.",
    )
    ifd_weight: float = Field(
        0.3,
        ge=0,
        le=1,
        description=(
            "Share of the difficulty taken from IFD when the answer_ifd scorer ran (a language model is configured): "
            "difficulty = (1 - w) * rule-based + w * IFD feature, the feature being IFD mapped linearly from "
            "0.5 (0) to 1.1 (1), since a higher IFD means the instruction helps less."
        ),
    )

    @field_validator("target_mix")
    @classmethod
    def _check_mix(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        unknown = set(v) - set(LEVELS)
        if unknown:
            raise ValueError(f"target_mix keys must be easy/medium/hard, got {sorted(unknown)}")
        total = sum(v.values())
        if total <= 0 or any(x < 0 for x in v.values()):
            raise ValueError("target_mix shares must be non-negative and not all zero")
        return {k: v.get(k, 0.0) / total for k in LEVELS}


def level(d: float, easy_below: float, hard_from: float) -> str:
    return "easy" if d < easy_below else "hard" if d >= hard_from else "medium"


def mix(levels: Sequence[str]) -> dict[str, float]:
    c = Counter(levels)
    n = len(levels)
    return {k: (c[k] / n if n else 0.0) for k in LEVELS}


def ifd_features(ctx: ScoringContext) -> list[float | None] | None:
    """IFD of each sample mapped to [0, 1] (0.5 → 0, 1.1 → 1), when the answer_ifd scorer ran in this audit."""
    result = ctx.results.get("answer_ifd")
    if result is None or not result.fields:
        return None
    out: list[float | None] = []
    for f in result.fields:
        v = (f.get("answer_ifd") or {}).get("ifd")
        out.append(None if v is None or not math.isfinite(v) else min(1.0, max(0.0, (v - 0.5) / 0.6)))
    return out


@register
class Difficulty(Scorer):
    """How hard each sample is (constraints, sub-questions, structure, reasoning, maths, code, lengths)."""

    name = "difficulty"
    version = "1"
    dimension = "difficulty"
    Params = DifficultyParams
    after = ("instruction_clusters", "answer_ifd")

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: DifficultyParams = self.params  # type: ignore[assignment]
        prompts, answers = ctx.texts("prompt"), ctx.texts("answer")
        ifd = ifd_features(ctx) if p.ifd_weight > 0 else None
        scores: list[float | None] = []
        fields: list[dict[str, Any]] = []
        feature_means: dict[str, float] = defaultdict(float)
        for i, (pr, an) in enumerate(zip(prompts, answers)):
            f = features(pr, an)
            d = combine(f)
            if ifd is not None and ifd[i] is not None:
                d = (1 - p.ifd_weight) * d + p.ifd_weight * ifd[i]
            lv = level(d, p.easy_below, p.hard_from)
            scores.append(d)
            top = sorted((k for k in f if f[k] >= 0.5), key=lambda k: -WEIGHTS[k] * f[k])[:3]
            fields.append({"difficulty": d, "difficulty_level": lv, "difficulty_signals": top})
            for k, v in f.items():
                feature_means[k] += v / max(len(samples), 1)
        levels = [f["difficulty_level"] for f in fields]
        overall = mix(levels)
        summary: dict[str, Any] = {
            "mix": overall,
            "counts": dict(Counter(levels)),
            "difficulty": V.percentiles([s for s in scores if s is not None]),
            "cut_points": {"easy_below": p.easy_below, "hard_from": p.hard_from},
            "weights": WEIGHTS,
            "feature_means": dict(feature_means),
            "method": (
                "rule-based complexity features blended with IFD (weight "
                f"{p.ifd_weight}) where the answer_ifd scorer ran"
                if ifd is not None
                else "rule-based complexity features (no language model configured, so IFD is not included)"
            ),
        }
        clusters = V.cluster_labels(ctx)
        if clusters is not None:
            by: dict[int, list[str]] = defaultdict(list)
            for c, lv in zip(clusters, levels):
                by[c].append(lv)
            summary["mix_by_cluster"] = {str(c): {**mix(v), "size": len(v)} for c, v in sorted(by.items())}
        if p.target_mix is not None:
            gap = {k: overall[k] - p.target_mix[k] for k in LEVELS}
            summary["target_mix"] = p.target_mix
            summary["gap_to_target"] = gap
            summary["total_variation_to_target"] = 0.5 * sum(abs(v) for v in gap.values())
            summary["advice"] = [
                f"{'add' if g < 0 else 'remove'} about {abs(g) * len(samples):.0f} {k} samples"
                for k, g in gap.items()
                if abs(g) >= 0.05
            ]
        return ScorerResult(scores=scores, flags=[[] for _ in samples], fields=fields, summary=summary)
