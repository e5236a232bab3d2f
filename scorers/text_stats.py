"""Cheap text statistics: lengths and language (exact duplicates live in :mod:`scorers.noise_duplicates`).

These run on every audit; they need no model beyond a tokenizer file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from scorers.base import Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.language import detect_language


def _percentiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    p = np.percentile(arr, [5, 25, 50, 75, 95])
    return {
        "min": float(arr.min()),
        "p5": p[0],
        "p25": p[1],
        "median": p[2],
        "p75": p[3],
        "p95": p[4],
        "max": float(arr.max()),
        "mean": float(arr.mean()),
    }


@register
class TextLength(Scorer):
    """Instruction and answer lengths in characters and tokens."""

    name = "text_length"
    per_sample = True
    cost = 3.5  # 30 s on the 84k-row mixed file
    version = "1"
    dimension = "profile"

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        ins_chars = [len(t) for t in ctx.texts("prompt")]
        ans_chars = [len(t) for t in ctx.texts("answer")]
        ins_tok = ctx.token_counts("prompt")
        ans_tok = ctx.token_counts("answer")
        fields = []
        for i in range(n):
            f = {"instruction_chars": ins_chars[i], "answer_chars": ans_chars[i]}
            if ins_tok is not None and ans_tok is not None:
                f["instruction_tokens"] = ins_tok[i]
                f["answer_tokens"] = ans_tok[i]
            fields.append(f)
        result = ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=fields)
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        fields = result.fields
        summary: dict[str, Any] = {
            "instruction_chars": _percentiles([f["instruction_chars"] for f in fields]),
            "answer_chars": _percentiles([f["answer_chars"] for f in fields]),
            "turns": _percentiles([len(s.turns) for s in samples]),
            "multi_turn_samples": sum(1 for s in samples if sum(t.role == "assistant" for t in s.turns) > 1),
        }
        if all("instruction_tokens" in f for f in fields) if fields else ctx.token_counts("prompt") is not None:
            ins_tok = [f["instruction_tokens"] for f in fields]
            ans_tok = [f["answer_tokens"] for f in fields]
            summary["instruction_tokens"] = _percentiles(ins_tok)
            summary["answer_tokens"] = _percentiles(ans_tok)
            summary["total_tokens"] = int(sum(ins_tok) + sum(ans_tok))
            summary["tokenizer"] = ctx.models.path("tokenizer").parent.name  # type: ignore[union-attr]
        else:
            summary["tokens"] = {"status": "not_computed", "reason": "no tokenizer configured"}
        return summary


class LanguageParams(ScorerParams):
    view: str = Field("prompt", description="Which text decides the sample's language: prompt, answer or text.")


@register
class Language(Scorer):
    """Language of each sample (fastText language id, offline)."""

    name = "language"
    per_sample = True
    version = "2"
    dimension = "profile"
    Params = LanguageParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        langs = ctx.memo(
            f"language:{self.params.view}", lambda: [detect_language(t) for t in ctx.texts(self.params.view)]
        )
        result = ScorerResult(scores=None, flags=[[] for _ in samples], fields=[{"language": lang} for lang in langs])
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        counts = Counter(f["language"] for f in result.fields)
        return {"languages": dict(counts.most_common()), "detector": "fasttext lid.176 (compact)"}
