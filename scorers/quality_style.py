"""Answer conciseness and clarity, without a model.

Conciseness: how long the answer is against the answers of the same task type in this dataset
(:func:`scorers.text.cues.task_type`: the instruction's first word, e.g. "classify", "write", "列出"; answers of
"classify" are short, answers of "write" are long), filler phrases, and degenerate repetition (read by
:mod:`scorers.text.repetition`; the noise dimension flags it as ``repetition``, here it only lowers the score).

Clarity: readability (sentences too long for the answer's language: :mod:`scorers.text.sentences`), hedging,
and broken formatting.  A table whose rows disagree on columns is flagged here; an unclosed code fence,
mojibake and prompt-template artefacts lower the clarity score, and are flagged once, by the noise dimension
(``truncated_answer``, ``mojibake``, ``merged_instructions``).

Both scores are 1.0 for a clean answer and fall by a fixed step per finding (see the params).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from pydantic import Field

from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.quality_length import asked_length
from scorers.samples import Sample
from scorers.text import damage, repetition, sentences
from scorers.text.code import strip_code, unclosed_fence
from scorers.text.cues import CREATIVE, LENGTH_ASKED, TASK_CUE, task_type
from scorers.text.script import word_count
from scorers.text.templates import template_artefact

DIM = "answer_quality"

#: phrases that add nothing ("As an AI language model…" is AI boilerplate: the noise dimension's ``ai_boilerplate``)
_FILLER = re.compile(
    r"\b(?:i hope (?:this|that) helps|it is (?:important|worth) (?:to note|noting) that|"
    r"it'?s (?:important|worth) (?:to note|noting) that|great question|certainly!|sure[,!] here(?:'s| is)|"
    r"i'?d be (?:happy|glad) to help|feel free to|let me know if you (?:have|need)|needless to say|"
    r"in today'?s (?:fast-paced|modern) world|without further ado|"
    r"all in all|last but not least|it goes without saying)\b|希望(?:这|以上)(?:对你|能)?有(?:所)?帮助|"
    r"值得注意的是|总而言之|众所周知",
    re.I,
)
#: the writer's doubt about their own answer ("I think", "I'm not sure", "我觉得"); modal words (maybe, probably,
#: 可能) are not counted: how-to guides, advice and questions about possible causes use them rightly (read on
#: LIMA, OASST-zh and BELLE: 1 of 37 such flags was right)
_HEDGE = re.compile(
    r"\b(?:i think|i believe|i guess|i suppose|i'?m not (?:sure|certain)|i am not (?:sure|certain)|i don'?t know|"
    r"not entirely (?:sure|clear)|hard to say|if i remember correctly|as far as i know)\b|"
    r"我觉得|我认为|我猜|我不确定|不太确定|我不知道|说不准|如果我没记错",
    re.I,
)


def table_columns_disagree(text: str) -> str | None:
    rows = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|") and ln.count("|") >= 3]
    if len(rows) >= 2:
        cols = Counter(r.strip("|").count("|") for r in rows)
        if len(cols) > 1:
            return f"the table's rows have different numbers of columns ({', '.join(str(c + 1) for c in sorted(cols))})"
    return None


def formatting_problems(text: str) -> list[str]:
    """Every formatting problem of an answer (each lowers the clarity score)."""
    problems = []
    if unclosed_fence(text):
        problems.append("a code fence (```) is opened but never closed")
    table = table_columns_disagree(text)
    if table:
        problems.append(table)
    m = damage.mojibake(text)
    if m:
        problems.append(f"garbled characters (mojibake) such as {m.group(0)!r}")
    m = template_artefact(text)
    if m:
        problems.append(f"a prompt-template artefact {m.group(0).strip()!r} is inside the answer")
    return problems


def broken_formatting(text: str) -> list[str]:
    """The formatting problems only clarity flags (the others are flagged by the noise dimension)."""
    table = table_columns_disagree(text)
    return [table] if table else []


class ConcisenessParams(ScorerParams):
    min_group: int = Field(
        20, ge=2, description="A task type needs this many answers to be its own reference; else the whole dataset is."
    )
    verbose_ratio: float = Field(
        5.0, gt=1, description="Flag an answer this many times longer than the median answer of its task type."
    )
    min_verbose_words: int = Field(100, ge=1, description="…and at least this many words long.")
    repeat_share: float = Field(
        repetition.THRESHOLD,
        gt=0,
        le=1,
        description=(
            "Lower the score of an answer more than this share of whose 4-word (CJK: 8-character) sequences repeat "
            "earlier ones (the noise dimension flags it as `repetition`)."
        ),
    )
    penalty: float = Field(0.25, gt=0, le=1, description="How much one finding lowers the score.")
    min_fillers: int = Field(
        2,
        ge=1,
        description=(
            "Flag filler only when at least this many different filler phrases occur (one phrase opening a real "
            "point is style: 2 of 42 such flags were right when read on the panel)."
        ),
    )


class ClarityParams(ScorerParams):
    long_sentence: int = Field(
        45,
        ge=5,
        description=(
            "Average sentence length (words) above which an English answer is hard to read; Chinese answers are "
            "judged in characters against their own threshold (scorers.text.sentences.READABILITY)."
        ),
    )
    hedges: int = Field(2, ge=1, description="Flag an answer with at least this many phrases of doubt about itself.")
    penalty: float = Field(0.25, gt=0, le=1, description="How much one finding lowers the score.")


@dataclass(frozen=True)
class LengthNorms:
    """What a dataset's answers are as long as: the median answer length (words) of each common task type, of the
    whole set (for rare types), and how many task types there are."""

    by_type: dict[str, float]
    overall: float
    task_types: int

    @classmethod
    def of(cls, samples: Sequence[Sample], min_group: int) -> LengthNorms:
        groups: dict[str, list[float]] = defaultdict(list)
        units = [word_count(s.answer) for s in samples]
        for s, u in zip(samples, units):
            groups[task_type(s.instruction)].append(u)
        return cls(
            by_type={t: float(np.median(v)) for t, v in groups.items() if len(v) >= min_group},
            overall=float(np.median(units)) if units else 0.0,
            task_types=len(groups),
        )

    def reference(self, s: Sample) -> float:
        """The median length of answers to the sample's task type (or of the whole set for a rare type)."""
        return self.by_type.get(task_type(s.instruction), self.overall)


@register
class AnswerConciseness(Scorer):
    """Conciseness: length against answers of the same task type, filler phrases, repetition."""

    name = "answer_conciseness"
    version = "2"
    dimension = "answer_quality"
    Params = ConcisenessParams
    per_sample = True  # once for_chunks has settled the dataset's length norms

    def settle(self, samples: Sequence[Sample]) -> LengthNorms:
        return LengthNorms.of(samples, cast(ConcisenessParams, self.params).min_group)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        norms = self.facts(samples)
        flags: list[list[Flag]] = []
        fields: list[dict] = []
        for s in samples:
            ref = norms.reference(s)
            fl: list[Flag] = []
            ans = s.answer
            if not ans.strip():
                flags.append(fl)
                fields.append({"answer_conciseness": {"score": None}})
                continue
            units = word_count(ans)
            asked = asked_length(s.instruction)
            if asked == "short":  # a rewrite or a label of given material may be as long as the material
                ref = max(ref, word_count(s.instruction) * 2 / p.verbose_ratio)
            ratio = units / max(ref, 5.0)
            score = 1.0
            if ratio > p.verbose_ratio / 2 and asked != "long":  # a long piece that was asked for is not verbose
                score -= min(1.0, math.log(ratio / (p.verbose_ratio / 2)) / math.log(5.0)) * (
                    0.5 if asked == "open" else 1.0
                )
            if (
                ratio >= p.verbose_ratio
                and units >= p.min_verbose_words
                and asked != "long"
                and not LENGTH_ASKED.search(s.prompt_text)
                and not TASK_CUE["chat"].search(s.instruction)
            ):
                fl.append(
                    Flag(
                        "verbose_for_task",
                        DIM,
                        "info",
                        f"the answer is {ratio:.1f}× the median length of answers to {task_type(s.instruction)!r} instructions "
                        f"({units:.0f} vs {ref:.0f} words)",
                    )
                )
            fillers = [m.group(0) for m in _FILLER.finditer(ans)]
            if fillers:
                score -= p.penalty * min(len(fillers), 3) / 2
            if len({f.lower() for f in fillers}) >= p.min_fillers:  # one "Sure, here is" in a long answer is style
                fl.append(
                    Flag(
                        "filler_phrases",
                        DIM,
                        "info",
                        f"filler that adds nothing: {', '.join(repr(x) for x in dict.fromkeys(fillers))}",
                    )
                )
            rep = repetition.degenerate(ans, s.instruction, threshold=p.repeat_share)
            if rep is not None:  # flagged once, as noise's `repetition`; here it costs conciseness
                score -= 2 * p.penalty
            flags.append(fl)
            fields.append(
                {
                    "answer_conciseness": {
                        "score": max(0.0, min(1.0, score)),
                        "length_ratio": round(ratio, 3),
                        "asked_length": asked,
                    }
                }
            )
        result = ScorerResult(scores=None, flags=flags, fields=fields)
        result.summary = self._summary(norms, result)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        return self._summary(self.facts(samples), result)

    @staticmethod
    def _summary(norms: LengthNorms, result: ScorerResult) -> dict[str, Any]:
        return {"task_types": norms.task_types, "samples_flagged": sum(1 for f in result.flags if f)}


@register
class AnswerClarity(Scorer):
    """Clarity: readability (sentence length, English and Chinese), hedging, broken formatting."""

    name = "answer_clarity"
    per_sample = True
    version = "2"
    dimension = "answer_quality"
    Params = ClarityParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        flags: list[list[Flag]] = []
        fields: list[dict] = []
        for s in samples:
            ans = s.answer
            fl: list[Flag] = []
            if not ans.strip():
                flags.append(fl)
                fields.append({"answer_clarity": {"score": None}})
                continue
            score = 1.0
            prose = strip_code(ans)  # code and tool calls have no sentences (Toolformer rows 4372, 7112)
            avg, unit = sentences.mean_sentence_size(prose)
            hard = sentences.hard_to_read(prose, p.long_sentence)
            if hard is not None:
                mean, rule = hard
                score -= min(1.0, (mean - rule.long_sentence) / rule.long_sentence) * 2 * p.penalty
                fl.append(
                    Flag(
                        "hard_to_read",
                        DIM,
                        "info",
                        f"sentences average {mean:.0f} {rule.unit} (threshold for this language "
                        f"{rule.long_sentence:.0f}); long run-on sentences are hard to follow",
                    )
                )
            creative = CREATIVE.search(s.instruction)
            hedges = [] if creative else [m.group(0) for m in _HEDGE.finditer(ans)]
            if len(hedges) >= p.hedges:
                score -= p.penalty
                fl.append(
                    Flag(
                        "hedging",
                        DIM,
                        "info",
                        f"{len(hedges)} hedging phrases ({', '.join(repr(h) for h in list(dict.fromkeys(hedges))[:4])}) make the answer sound unsure",
                    )
                )
            problems = formatting_problems(ans)
            if problems:
                score -= 2 * p.penalty
            shown = broken_formatting(ans)  # the rest is flagged by the noise dimension
            if shown:
                fl.append(Flag("broken_formatting", DIM, "warning", "; ".join(shown)))
            flags.append(fl)
            fields.append(
                {
                    "answer_clarity": {
                        "score": max(0.0, min(1.0, score)),
                        "mean_sentence_size": round(avg, 2),
                        "sentence_unit": unit,
                    }
                }
            )
        result = ScorerResult(scores=None, flags=flags, fields=fields)
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        return {"samples_flagged": sum(1 for f in result.flags if f)}
