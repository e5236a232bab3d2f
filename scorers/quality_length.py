"""How long an answer the instruction asks for: the reference the conciseness check judges length by.

A story, a letter or an essay that was asked for is not verbose for being long, and an answer that
classifies twenty items is not verbose for naming all twenty.  So before length counts against an
answer, the ask is read:

* ``long`` — the instruction asks for a piece of writing or an open treatment (a story, letter,
  essay, pamphlet, code, a plan, "tell me about", "explain in detail", a list of many items).
  Length never counts against the answer;
* ``short`` — it asks for a label, an extraction, a rewrite or a single fact ("classify", "extract",
  "rewrite", "in one word", "yes or no").  The answer is judged against the median answer of its
  task type, and the prompt widens the allowance: classifying twenty listed items or rewriting a
  paragraph takes about as many words as the prompt gave;
* ``open`` — anything else ("Who is RFK?").  Length counts at half weight.

Measured on Dolly 3k (docs/answer-quality.md): before this rule the ten lowest answer-quality scores
were long answers to requests for a letter, a summary of a war and a biography.
"""

from __future__ import annotations

import re
from typing import Literal

AskedLength = Literal["long", "short", "open"]

#: cue words of an ask for a long piece or an open treatment (English and Chinese).
LONG_ASK = re.compile(
    r"\b(?:essays?|stor(?:y|ies)|letters?|articles?|blog(?: post)?s?|speech(?:es)?|scripts?|poems?|lyrics|songs?|"
    r"pamphlets?|brochures?|leaflets?|newsletters?|reports?|proposals?|reviews?|biograph(?:y|ies)|narratives?|"
    r"dialog(?:ue)?s?|conversations?|tutorials?|guides?|lesson plans?|plans?|recipes?|outlines?|paragraphs?|"
    r"press releases?|memos?|e-?mails?|programs?|code|functions?|classes|algorithms?|"
    r"tell me (?:about|everything|more)|explain|describe|discuss|elaborate|in detail|detailed|step[- ]by[- ]step|"
    r"history of|overview|compare|pros and cons|advantages and disadvantages|"
    r"(?:list|give|name|generate|provide|suggest|write) (?:me )?(?:\d{2}|[5-9]|five|six|seven|eight|nine|ten|some|several))\b|"
    r"文章|故事|作文|信|诗|代码|程序|方案|计划|介绍|解释|描述|详细|讨论|比较",
    re.I,
)
#: cue words of an ask for a label, a single fact or a rewrite of given material.
SHORT_ASK = re.compile(
    r"\b(?:in (?:one|a single|a|two|three) words?|one[- ]word|yes or no|true or false|in one sentence|"
    r"what (?:year|day|date|time|colou?r|number)|how many|which (?:one|of)|choose|select|pick)\b|"
    r"一个词|是或否|对或错|一句话",
    re.I,
)
_SHORT_TASKS = {"classification", "extraction", "rewriting"}
_LONG_TASKS = {"creative_writing", "brainstorming", "coding"}


def asked_length(instruction: str, task: str | None = None) -> AskedLength:
    """``long``, ``short`` or ``open`` for an instruction (the ask is its first paragraph).

    ``task`` is the task type (``scorers.task_mix``) when known; otherwise it is read from cue words.
    """
    ask = instruction.partition("\n\n")[0][:400]
    if task is None:
        from scorers.task_mix import cue_label

        task = cue_label(instruction, multi_turn=False)
    if SHORT_ASK.search(ask):
        return "short"
    if task in _LONG_TASKS:
        return "long"
    if task in _SHORT_TASKS:  # "classify the sentiment of this review": the review is material, not the ask
        return "short"
    return "long" if LONG_ASK.search(ask) else "open"
