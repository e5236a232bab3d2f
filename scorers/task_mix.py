"""Diversity of what is asked and how: the task-type mix and the instruction forms.

* ``task_type`` — each instruction labelled with one of :data:`TASK_TYPES`: first by explicit cue
  words (English and Chinese), then — when no cue fires — zero-shot by the nearest labelled
  prototype centroid in embedding space.  A request that carries a context passage and is
  question-like becomes closed QA.  Checked against the ``category`` labels of dolly_3k (see the
  docs for the accuracy).
* ``instruction_form`` — the leading verb and verb–object pair of each instruction (the analysis of
  Self-Instruct, Wang et al. 2023): a light rule-based parse for English, jieba's part-of-speech
  tagger for Chinese.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from scorers import _vectors as V
from scorers.base import Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.embeddings import unit_rows
from scorers.samples import Sample
from scorers.text.cues import TASK_CUES
from scorers.text.script import has_cjk, jieba_module

TASK_TYPES: tuple[str, ...] = (
    "open_qa",
    "closed_qa",
    "classification",
    "extraction",
    "summarisation",
    "rewriting",
    "brainstorming",
    "creative_writing",
    "coding",
    "math_reasoning",
    "chat",
)

_I = re.IGNORECASE | re.ASCII  # ASCII \b: "用Python" still has a word boundary before "Python"
#: Cue patterns (:data:`scorers.text.cues.TASK_CUES`), tried in this order; the first that matches decides.
CUES = TASK_CUES
_QUESTION = re.compile(
    r"\?|？|^\s*(what|who|when|where|why|how|which|is|are|do|does|did|can|could|should|explain|describe|tell)\b|什么|为什么|怎么|如何|哪|吗|是否|谁",
    _I,
)
_SUMMARY_CTX = re.compile(
    r"\b(summar\w*|brief\w*|describe|overview|tell me about|history|background)\b|^\s*(what|who) (is|was|are|were) ([\w'-]+\s?){1,5}\??\s*$",
    _I,
)
_EXTRACT_CTX = re.compile(
    r"\b(list|extract|names? of|which \w+ (are|were) mentioned|comma|bullet|dates?|numbers?)\b", _I
)

#: A few labelled example instructions per task type; their embedding centroids are the
#: zero-shot prototypes used when no cue word fires.
PROTOTYPES: dict[str, list[str]] = {
    "open_qa": [
        "What is the capital of Australia?",
        "Who invented the telephone?",
        "Why is the sky blue?",
        "How does a refrigerator work?",
        "What are the health benefits of green tea?",
        "When did the Roman Empire fall?",
        "天空为什么是蓝色的？",
        "谁发明了电话？",
    ],
    "closed_qa": [
        "Based on the passage, when was the company founded?",
        "According to the text, who won the award?",
        "Given this paragraph about the river, how long is it?",
        "From the reference text, what is the main cause?",
        "根据上面的文章，公司是哪一年成立的？",
    ],
    "classification": [
        "Classify each animal as a mammal or a reptile.",
        "Is this review positive or negative?",
        "Identify which instrument is string or woodwind.",
        "Which of these are fruits and which are vegetables?",
        "Categorise these sports as team or individual.",
        "判断这句话的情感是积极还是消极。",
    ],
    "extraction": [
        "Extract the names of all people mentioned in the text.",
        "List the dates mentioned in this paragraph.",
        "From the passage, list the ingredients in a comma separated list.",
        "Pull out the email addresses from this text.",
        "从下面的文本中提取所有的地名。",
    ],
    "summarisation": [
        "Summarise this article in two sentences.",
        "Give a brief summary of the passage.",
        "What are the main points of this text?",
        "TL;DR of the following paragraph.",
        "用一句话总结这段文字。",
    ],
    "rewriting": [
        "Rewrite this sentence in the passive voice.",
        "Translate 'good morning' into French.",
        "Paraphrase the following paragraph.",
        "Make this email sound more formal.",
        "Correct the grammar in this sentence.",
        "把这句话翻译成英文。",
        "请改写下面的句子。",
    ],
    "brainstorming": [
        "Give me some ideas for a birthday party.",
        "List five ways to save money.",
        "Suggest names for a coffee shop.",
        "What are some tips for staying productive at home?",
        "Brainstorm activities for a rainy day.",
        "给我一些减肥的建议。",
    ],
    "creative_writing": [
        "Write a poem about the ocean.",
        "Write a short story about a lost dog.",
        "Compose a song about friendship.",
        "Write a haiku about autumn.",
        "Write a letter to your future self.",
        "写一首关于春天的诗。",
        "写一个关于龙的故事。",
    ],
    "coding": [
        "Write a Python function that reverses a string.",
        "Fix the bug in this JavaScript code.",
        "Write a SQL query to find the top 5 customers.",
        "Explain what this code does.",
        "Implement binary search in Java.",
        "用Python写一个冒泡排序。",
    ],
    "math_reasoning": [
        "If a train travels 60 miles per hour for 3 hours, how far does it go?",
        "Solve for x: 2x + 3 = 11.",
        "Calculate the area of a circle with radius 4.",
        "Tom has 5 apples and gives away 2. How many are left?",
        "What is 15% of 80?",
        "小明有5个苹果，吃了2个，还剩几个？",
    ],
    "chat": [
        "Hi, how are you today?",
        "Thanks for your help!",
        "Who are you?",
        "Can we chat for a while?",
        "Good morning!",
        "你好，你是谁？",
    ],
}


_NEED_CONTEXT = frozenset({"closed_qa", "extraction", "summarisation", "chat"})


def has_context(instruction: str) -> bool:
    """A request carrying a passage to work on (alpaca ``input``, pasted text) rather than a bare ask."""
    head, sep, tail = instruction.partition("\n\n")
    return (bool(sep) and len(tail) >= 80) or len(instruction) >= 600


def cue_label(instruction: str, multi_turn: bool) -> str | None:
    """The task type named by cue words or by the request's shape (a passage, several turns, a
    question), or ``None`` when only the zero-shot prototypes can tell."""
    ask = instruction.partition("\n\n")[0][:400]
    ctx = has_context(instruction)
    for label, pattern in CUES:
        if pattern.search(ask):
            if label == "brainstorming" and ctx and _EXTRACT_CTX.search(ask):
                return "extraction"
            return label
    if ctx:
        if _SUMMARY_CTX.search(ask):
            return "summarisation"
        if _EXTRACT_CTX.search(ask):
            return "extraction"
        return "closed_qa"
    if multi_turn:
        return "chat"
    if _QUESTION.search(ask[:120]):
        return "open_qa"
    return None


class TaskTypeParams(ScorerParams):
    tier: Literal["fast", "full"] = Field("fast", description="Embedding tier for the zero-shot prototypes.")


@register
class TaskType(Scorer):
    """The task-type mix: each instruction labelled by cue words, else by the nearest prototype."""

    name = "task_type"
    version = "1"
    dimension = "diversity"
    Params = TaskTypeParams
    after = ("language",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: TaskTypeParams = self.params  # type: ignore[assignment]
        n = len(samples)
        texts = ctx.texts("instruction")
        labels: list[str | None] = [cue_label(t, len(s.history) > 0) for t, s in zip(texts, samples)]
        how = ["cue" if lab else "prototype" for lab in labels]
        todo = [i for i, lab in enumerate(labels) if lab is None]
        info: dict[str, Any] = {}
        if todo:
            x = ctx.embeddings("instruction", tier=p.tier)[todo]
            # closed QA, extraction and summarisation need a passage and chat a conversation: cue
            # rules decide those; the prototypes choose among the free-standing task types.
            names = [k for k in PROTOTYPES if k not in _NEED_CONTEXT]
            protos = ctx.embed([t for k in names for t in PROTOTYPES[k]], tier=p.tier)
            owners = np.asarray([j for j, k in enumerate(names) for _ in PROTOTYPES[k]])
            cents = np.stack([protos[owners == j].mean(axis=0) for j in range(len(names))])
            cents = unit_rows(cents)
            best = (x @ cents.T).argmax(axis=1)
            for i, b in zip(todo, best):
                labels[i] = names[int(b)]
            info = V.embedding_info(ctx, p.tier)
        mix = Counter(labels)
        shares = {k: mix.get(k, 0) / n for k in TASK_TYPES} if n else {}
        present = [v for v in shares.values() if v > 0]
        entropy = -sum(v * math.log(v) for v in present) / math.log(len(TASK_TYPES)) if present else 0.0
        summary: dict[str, Any] = {
            "mix": {k: mix.get(k, 0) for k in TASK_TYPES},
            "shares": shares,
            "mix_entropy": entropy,
            "missing_types": [k for k in TASK_TYPES if mix.get(k, 0) == 0],
            "decided_by": dict(Counter(how)),
            "method": "cue words, then nearest labelled prototype (zero-shot)",
        }
        if info:
            summary["embedding"] = info
        fields = [{"task_type": lab, "task_type_by": h} for lab, h in zip(labels, how)]
        return ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=fields, summary=summary)


# --------------------------------------------------------------------------------------------------
# instruction form
# --------------------------------------------------------------------------------------------------
_LEAD_IN = re.compile(
    r"^\s*((please|kindly|now|also|then|and|ok|okay)[,\s]+|(can|could|would|will) you( please)?\s+|i (want|need|would like) you to\s+|help me( to)?\s+|let'?s\s+)+",
    _I,
)
_WH = frozenset(
    "what who whom whose when where why how which is are was were do does did can could should would will shall may might has have had".split()
)
_DETERMINERS = frozenset(
    "a an the this that these those some any my your our their its his her each every all one two three four five six seven eight nine ten few several following given short brief new list of".split()
)
_ZH_LEAD = re.compile(r"^\s*(请你|请|麻烦你|麻烦|帮我|帮忙|你能|你可以|能否|可以)")


def english_form(instruction: str) -> tuple[str | None, str | None]:
    """(leading verb, its object) of an imperative; ("question:what", None) for a question."""
    first = re.split(r"[\n.!?:;]", instruction.strip(), maxsplit=1)[0]
    first = _LEAD_IN.sub("", first)
    toks = re.findall(r"[A-Za-z][A-Za-z'-]*", first)
    if not toks:
        return None, None
    head = toks[0].lower()
    if head in _WH:
        return f"question:{head}", None
    obj = next((t.lower() for t in toks[1:] if t.lower() not in _DETERMINERS and not t.lower().endswith("ly")), None)
    return head, obj


def chinese_form(instruction: str) -> tuple[str | None, str | None]:
    """(first verb, first noun after it) by jieba's POS tagger; ("question", None) for questions."""
    import jieba.posseg as pseg

    jieba_module()
    first = re.split(r"[\n。！？!?；;]", instruction.strip(), maxsplit=1)[0]
    first = _ZH_LEAD.sub("", first)[:60]
    verb = obj = None
    for w in pseg.lcut(first):
        if verb is None and w.flag.startswith("v") and w.word not in {"是", "有", "请"}:
            verb = w.word.removesuffix("一下")
        elif verb is not None and w.flag.startswith("n"):
            obj = w.word
            break
    if verb is None and re.search(r"什么|为什么|怎么|如何|哪|吗|谁|多少", first):
        return "question", None
    return verb, obj


class FormParams(ScorerParams):
    top: int = Field(20, ge=1, le=200, description="Verbs and verb–object pairs listed in the summary.")


@register
class InstructionForm(Scorer):
    """Leading verbs and verb–object pairs of the instructions (Self-Instruct's form analysis)."""

    name = "instruction_form"
    version = "1"
    dimension = "diversity"
    Params = FormParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: FormParams = self.params  # type: ignore[assignment]
        n = len(samples)
        fields = []
        verbs: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        for t in ctx.texts("instruction"):
            verb, obj = chinese_form(t) if has_cjk(t[:200]) else english_form(t)
            fields.append({"instruction_verb": verb, "instruction_object": obj})
            if verb:
                verbs[verb] += 1
                if obj:
                    pairs[f"{verb} {obj}"] += 1
        with_verb = sum(verbs.values())
        top_share = sum(c for _, c in verbs.most_common(5)) / with_verb if with_verb else 0.0
        summary = {
            "distinct_verbs": len(verbs),
            "distinct_verb_object_pairs": len(pairs),
            "top_verbs": dict(verbs.most_common(p.top)),
            "top_verb_object_pairs": dict(pairs.most_common(p.top)),
            "top5_verb_share": top_share,
            "samples_without_verb": n - with_verb,
            "method": "rule-based English imperative parse; jieba POS for Chinese",
        }
        return ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=fields, summary=summary)
