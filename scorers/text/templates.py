"""Prompt-template artefacts inside an answer: another generated task, a template's section header, chat tokens.

Self-instruct style generation writes several tasks in one completion ("… 18. Instruction: …"); chat
fine-tuning data keeps template tokens (``<|im_end|>``, ``[INST]``).  Each kind of marker is one row of
:data:`ARTEFACTS`.  When the instruction itself asks for a task or an instruction ("Create a task that a GPT
model can complete…"), "Instruction:" is the answer, and only the chat tokens count.
"""

from __future__ import annotations

import re

from scorers.text.code import looks_like_code
from scorers.text.cues import ASKS_FOR_A_TASK, TASK_CUE
from scorers.text.rules import Rule, Seen

CHAT_TOKENS = Rule(
    "chat-template token",
    re.compile(r"<\|(?:im_start|im_end|endoftext|user|assistant)\|>|\[/?INST\]|<</?SYS>>"),
    "a chat template's special token left in the text",
)

OUTPUT_SECTION = Rule(
    "input or output section",
    re.compile(r"^\s*#{2,4}\s*(?:Input|Output)\b", re.M),
    "an Alpaca template's '### Input' / '### Output' section (after code, or in a coding task, it is the program's "
    "own output)",
    Seen("codealpaca/code_alpaca_2k.json", 1312, "## Output:"),
)

ARTEFACTS: tuple[Rule, ...] = (
    Rule(
        "numbered task header",
        re.compile(r"^\s*#{0,4}\s*\d{1,3}\s*[.)]\s*(?:Instruction|Input|Output)\s*:", re.M),
        "the next task of a self-instruct completion ('18. Instruction:')",
        Seen("stanford_alpaca/alpaca_data.json", 1982, "11. Instruction:"),
    ),
    Rule(
        "instruction header",
        re.compile(r"^\s*#{0,4}\s*Instruction\s*:", re.M),
        "an 'Instruction:' line opening another task",
    ),
    Rule(
        "template section header",
        re.compile(r"^\s*#{2,4}\s*(?:Instruction|Response)\b", re.M),
        "an Alpaca template section ('### Response')",
    ),
    OUTPUT_SECTION,
    Rule("bare section marker", re.compile(r"^\s*#{2,4}\s*$", re.M), "a '##' separator line between generated tasks"),
    Rule(
        "Chinese task header",
        re.compile(r"^\s*(?:\d{1,3}\s*[.、]\s*)?指令\s*[:：]|^\s*\d{1,3}\s*[.、]\s*(?:指示|输入|输出)\s*[:：]", re.M),
        "the next task of a Chinese self-instruct completion ('指令：', '11.输入：')",
    ),
    CHAT_TOKENS,
)


def template_artefact(answer: str, instruction: str = "") -> re.Match[str] | None:
    """The first template artefact in ``answer`` (only chat tokens when the instruction asks for a task; no
    "## Output" section when it is a coding task or follows code, whose answer may show the program's output)."""
    if ASKS_FOR_A_TASK.search(instruction):
        rules: tuple[Rule, ...] = (CHAT_TOKENS,)
    elif TASK_CUE["coding"].search(instruction):
        rules = tuple(r for r in ARTEFACTS if r.name != "input or output section")
    else:
        rules = ARTEFACTS
    for rule in rules:
        assert rule.pattern is not None
        for m in rule.pattern.finditer(answer):
            # "Display the multiplication table for 2" is a coding task the cue does not name; its answer's code
            # is then followed by "## Output:" and what the code prints (Code Alpaca 1313, 1317-1319)
            if rule is OUTPUT_SECTION and looks_like_code(answer[: m.start()]):
                continue
            return m
    return None
