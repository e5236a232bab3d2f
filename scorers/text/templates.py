"""Prompt-template artefacts inside an answer: another generated task, a template's section header, chat tokens.

Self-instruct style generation writes several tasks in one completion ("… 18. Instruction: …"); chat
fine-tuning data keeps template tokens (``<|im_end|>``, ``[INST]``).  Each kind of marker is one row of
:data:`ARTEFACTS`.  When the instruction itself asks for a task or an instruction ("Create a task that a GPT
model can complete…"), "Instruction:" is the answer, and only the chat tokens count.
"""

from __future__ import annotations

import re

from scorers.text.cues import ASKS_FOR_A_TASK
from scorers.text.rules import Rule, Seen

CHAT_TOKENS = Rule(
    "chat-template token", re.compile(r"<\|(?:im_start|im_end|endoftext|user|assistant)\|>|\[/?INST\]|<</?SYS>>"),
    "a chat template's special token left in the text")

ARTEFACTS: tuple[Rule, ...] = (
    Rule("numbered task header", re.compile(r"^\s*#{0,4}\s*\d{1,3}\s*[.)]\s*(?:Instruction|Input|Output)\s*:", re.M),
         "the next task of a self-instruct completion ('18. Instruction:')",
         Seen("stanford_alpaca/alpaca_data.json", 1982, "11. Instruction:")),
    Rule("instruction header", re.compile(r"^\s*#{0,4}\s*Instruction\s*:", re.M),
         "an 'Instruction:' line opening another task"),
    Rule("template section header", re.compile(r"^\s*#{2,4}\s*(?:Instruction|Response|Input|Output)\b", re.M),
         "an Alpaca template section ('### Response')"),
    Rule("bare section marker", re.compile(r"^\s*#{2,4}\s*$", re.M),
         "a '##' separator line between generated tasks"),
    Rule("Chinese task header", re.compile(r"^\s*(?:\d{1,3}\s*[.、]\s*)?指令\s*[:：]|^\s*\d{1,3}\s*[.、]\s*(?:指示|输入|输出)\s*[:：]",
                                           re.M),
         "the next task of a Chinese self-instruct completion ('指令：', '11.输入：')"),
    CHAT_TOKENS,
)


def template_artefact(answer: str, instruction: str = "") -> re.Match[str] | None:
    """The first template artefact in ``answer`` (only chat tokens when the instruction asks for a task)."""
    rules = (CHAT_TOKENS,) if ASKS_FOR_A_TASK.search(instruction) else ARTEFACTS
    for rule in rules:
        m = rule.pattern.search(answer)
        if m:
            return m
    return None
