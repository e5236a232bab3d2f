"""Answer conciseness and clarity, without a model.

Conciseness: how long the answer is against the answers of the same task type in this dataset
(task type = the instruction's first word, e.g. "classify", "write", "列出"; answers of "classify"
are short, answers of "write" are long), filler phrases, and repetition (repeated word 3-grams,
character 3-grams for Chinese, and repeated sentences).

Clarity: readability (long sentences; English and Chinese), hedging, and broken formatting (an
unclosed code fence, a table whose rows disagree on columns, mojibake, template artefacts such as
``### Instruction:`` leaking into the answer).

Both scores are 1.0 for a clean answer and fall by a fixed step per finding (see the params).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
from pydantic import Field

from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.quality_length import asked_length
from scorers.samples import Sample

DIM = "answer_quality"

_FILLER = re.compile(
    r"\b(?:as an ai(?: language model)?|i hope (?:this|that) helps|it is (?:important|worth) (?:to note|noting) that|"
    r"it'?s (?:important|worth) (?:to note|noting) that|great question|certainly!|sure[,!] here(?:'s| is)|"
    r"i'?d be (?:happy|glad) to help|feel free to|let me know if you (?:have|need)|needless to say|"
    r"in today'?s (?:fast-paced|modern) world|without further ado|"
    r"all in all|last but not least|it goes without saying)\b|作为一个?(?:AI|人工智能)(?:语言模型)?|希望(?:这|以上)(?:对你|能)?有(?:所)?帮助|"
    r"值得注意的是|总而言之|众所周知",
    re.I)
_HEDGE = re.compile(
    r"\b(?:i think|i believe|i guess|i'?m not (?:sure|certain)|maybe|perhaps|possibly|probably|might be|may or may not|"
    r"it seems|it depends|not entirely clear|hard to say|to some extent|somewhat|kind of|sort of)\b|"
    r"可能|也许|大概|或许|我觉得|不确定",
    re.I)
_SONG = re.compile(r"\b(?:songs?|lyrics|chants?|anthem|jingle|nursery rhyme|rap)\b|歌", re.I)
_CREATIVE = re.compile(r"\b(?:dialog(?:ue)?|conversation|script|story|poem|lyrics|song|role-?play|character|scene|play)\b|对话|故事|剧本|诗", re.I)
_ARTEFACT = re.compile(r"(?:^|\n)\s*(?:#{2,}\s*|\d+\.\s*)?Instruction\s*:|(?:^|\n)#{2,}\s*(?:Input|Response)\b|<\|(?:im_start|im_end|endoftext)\|>|\[/?INST\]",
                       re.I)
_MOJIBAKE = re.compile(r"(?:Ã[\x80-\xbf©¨¢£¤¥¦§ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿]|â€[™œ\x9d\"“”˜¦]|ï¿½|\ufffd)")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_SENT_END = re.compile(r"[.!?。！？]+[\"'”’)]*(?:\s+|$)|\n+")


def length_units(text: str) -> float:
    """Words, with CJK characters counted as 1/1.5 word (a Chinese word is ~1.5 characters)."""
    cjk = len(_CJK.findall(text))
    return len(re.findall(r"[A-Za-z0-9'’-]+", text)) + cjk / 1.5


_LONG_FORM = re.compile(r"\b(?:essays?|story|stories|articles?|papers?|reports?|letters?|blog|speech|script|program|code|function|"
                        r"algorithm|recipe|plan|paragraphs|poems?|lyrics|dialog(?:ue)?|conversation|proposal|guide|tutorial|"
                        r"(?:list|give|name|generate|provide|suggest) (?:of )?(?:\d{2}|\d\b|five|six|seven|eight|nine|ten))\b|文章|故事|作文|代码|程序|方案|计划",
                        re.I)


def task_type(instruction: str) -> str:
    """The instruction's first word, plus ``+long`` when it asks for a long-form piece (essay, code, list of 5…)."""
    text = instruction.strip().lower()
    suffix = "+long" if _LONG_FORM.search(instruction) else ""
    m = re.match(r"[a-z]+", text)
    if m:
        return m.group(0) + suffix
    cjk = _CJK.findall(text[:4])
    return ("".join(cjk[:2]) if cjk else "_other") + suffix


def repetition(text: str) -> tuple[float, int]:
    """(share of repeated n-grams, most repeats of one sentence)."""
    if _CJK.search(text) and len(_CJK.findall(text)) > len(text) / 3:
        units = [c for c in text if not c.isspace()]
    else:
        units = re.findall(r"\w+", text.lower())
    grams = [tuple(units[i : i + 3]) for i in range(len(units) - 2)]
    dup = 0.0
    if len(grams) >= 20:
        counts = Counter(grams)
        dup = sum(c - 1 for c in counts.values()) / len(grams)
    sentences = [s.strip().lower() for s in _SENT_END.split(text) if len(s.strip()) >= 15]
    most = max(Counter(sentences).values(), default=0)
    return dup, most


_CODE = re.compile(r"```.*?(?:```|$)", re.S)


def _looks_like_code(text: str) -> bool:
    """Code repeats lines by nature; repetition is not judged there."""
    symbols = sum(text.count(c) for c in "{}();=<>[]#")
    return symbols > 0.04 * max(len(text), 1) or bool(re.match(r"\s*(?:<!DOCTYPE|<html|import |from \w+ import|def |class |#include|function )", text))


def _labels_each_item(text: str) -> bool:
    """One line per item, each about a different item ("Gouda is a type of cheese.\\nFocaccia is a type of
    bread."): the shared wording is the template of a classification list, not repetition (Dolly 3k)."""
    lines = [ln.strip().lower() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 3 or len(set(lines)) < len(lines):
        return False
    firsts = [ln.split()[0] for ln in lines]
    return len(set(firsts)) >= 0.8 * len(lines)


def sentence_lengths(text: str) -> list[float]:
    return [length_units(s) for s in _SENT_END.split(text) if s.strip()]


def broken_formatting(text: str) -> list[str]:
    problems = []
    if text.count("```") % 2:
        problems.append("a code fence (```) is opened but never closed")
    rows = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|") and ln.count("|") >= 3]
    if len(rows) >= 2:
        cols = Counter(r.strip("|").count("|") for r in rows)
        if len(cols) > 1:
            problems.append(f"the table's rows have different numbers of columns ({', '.join(str(c + 1) for c in sorted(cols))})")
    m = _MOJIBAKE.search(text)
    if m:
        problems.append(f"garbled characters (mojibake) such as {m.group(0)!r}")
    m = _ARTEFACT.search(text)
    if m:
        problems.append(f"a prompt-template artefact {m.group(0).strip()!r} is inside the answer")
    return problems


class ConcisenessParams(ScorerParams):
    min_group: int = Field(20, ge=2, description="A task type needs this many answers to be its own reference; else the whole dataset is.")
    verbose_ratio: float = Field(5.0, gt=1, description="Flag an answer this many times longer than the median answer of its task type.")
    min_verbose_words: int = Field(100, ge=1, description="…and at least this many words long.")
    repeat_share: float = Field(0.3, gt=0, le=1, description="Flag an answer whose repeated 3-grams make up this share of all 3-grams.")
    penalty: float = Field(0.25, gt=0, le=1, description="How much one finding lowers the score.")


class ClarityParams(ScorerParams):
    long_sentence: int = Field(45, ge=5, description="Average sentence length (words) above which an answer is hard to read.")
    hedges: int = Field(3, ge=1, description="Flag an answer with at least this many hedging phrases.")
    penalty: float = Field(0.25, gt=0, le=1, description="How much one finding lowers the score.")


def _reference_lengths(samples: Sequence[Sample], min_group: int) -> list[float]:
    """The median answer length of each sample's task type (or of the whole set for rare types)."""
    groups: dict[str, list[float]] = defaultdict(list)
    units = [length_units(s.answer) for s in samples]
    types = [task_type(s.instruction) for s in samples]
    for t, u in zip(types, units):
        groups[t].append(u)
    overall = float(np.median(units)) if units else 0.0
    med = {t: float(np.median(v)) for t, v in groups.items() if len(v) >= min_group}
    return [med.get(t, overall) for t in types]


@register
class AnswerConciseness(Scorer):
    """Conciseness: length against answers of the same task type, filler phrases, repetition."""

    name = "answer_conciseness"
    version = "2"
    dimension = "answer_quality"
    Params = ConcisenessParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        refs = _reference_lengths(samples, p.min_group)
        flags: list[list[Flag]] = []
        fields: list[dict] = []
        for s, ref in zip(samples, refs):
            fl: list[Flag] = []
            ans = s.answer
            if not ans.strip():
                flags.append(fl)
                fields.append({"answer_conciseness": {"score": None}})
                continue
            units = length_units(ans)
            asked = asked_length(s.instruction)
            if asked == "short":  # a rewrite or a label of given material may be as long as the material
                ref = max(ref, length_units(s.instruction) * 2 / p.verbose_ratio)
            ratio = units / max(ref, 5.0)
            score = 1.0
            if ratio > p.verbose_ratio / 2 and asked != "long":  # a long piece that was asked for is not verbose
                score -= min(1.0, math.log(ratio / (p.verbose_ratio / 2)) / math.log(5.0)) * (0.5 if asked == "open" else 1.0)
            if ratio >= p.verbose_ratio and units >= p.min_verbose_words and asked != "long":
                fl.append(Flag("verbose_for_task", DIM, "info",
                               f"the answer is {ratio:.1f}× the median length of answers to {task_type(s.instruction)!r} instructions "
                               f"({units:.0f} vs {ref:.0f} words)"))
            fillers = [m.group(0) for m in _FILLER.finditer(ans)]
            if fillers:
                score -= p.penalty * min(len(fillers), 3) / 2
                fl.append(Flag("filler_phrases", DIM, "info",
                               f"filler that adds nothing: {', '.join(repr(x) for x in dict.fromkeys(fillers))}"))
            if _looks_like_code(ans) or _SONG.search(s.instruction) or _labels_each_item(ans):
                dup, most = 0.0, 0  # code, songs and one-label-per-line lists repeat by design
            else:
                dup, most = repetition(_CODE.sub(" ", ans))
            if dup >= p.repeat_share or most >= 3:
                score -= 2 * p.penalty
                what = f"{dup:.0%} of its 3-word sequences are repeats" if dup >= p.repeat_share else f"one sentence appears {most} times"
                fl.append(Flag("repetitive", DIM, "warning", f"the answer repeats itself: {what}"))
            flags.append(fl)
            fields.append({"answer_conciseness": {"score": max(0.0, min(1.0, score)), "length_ratio": round(ratio, 3),
                                                  "asked_length": asked}})
        return ScorerResult(scores=None, flags=flags, fields=fields,
                            summary={"task_types": len(set(task_type(s.instruction) for s in samples)),
                                     "samples_flagged": sum(1 for f in flags if f)})


@register
class AnswerClarity(Scorer):
    """Clarity: readability (sentence length, English and Chinese), hedging, broken formatting."""

    name = "answer_clarity"
    version = "1"
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
            lens = sentence_lengths(ans)
            avg = float(np.mean(lens)) if lens else 0.0
            if avg > p.long_sentence and length_units(ans) >= 30:
                score -= min(1.0, (avg - p.long_sentence) / p.long_sentence) * 2 * p.penalty
                fl.append(Flag("hard_to_read", DIM, "info",
                               f"sentences average {avg:.0f} words (threshold {p.long_sentence}); long run-on sentences are hard to follow"))
            creative = _CREATIVE.search(s.instruction)
            hedges = [] if creative else [m.group(0) for m in _HEDGE.finditer(ans)]
            if len(hedges) >= p.hedges:
                score -= p.penalty
                fl.append(Flag("hedging", DIM, "info",
                               f"{len(hedges)} hedging phrases ({', '.join(repr(h) for h in list(dict.fromkeys(hedges))[:4])}) make the answer sound unsure"))
            problems = broken_formatting(ans)
            if problems:
                score -= 2 * p.penalty
                fl.append(Flag("broken_formatting", DIM, "warning", "; ".join(problems)))
            flags.append(fl)
            fields.append({"answer_clarity": {"score": max(0.0, min(1.0, score)), "mean_sentence_words": round(avg, 2)}})
        return ScorerResult(scores=None, flags=flags, fields=fields,
                            summary={"samples_flagged": sum(1 for f in flags if f)})
