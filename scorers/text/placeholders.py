"""Placeholders: answers and inputs that stand in for content, and template variables left unfilled.

* :func:`placeholder_answer` / :func:`placeholder_input` — the whole text is a stand-in (``<nooutput>``,
  ``N/A``, ``No input``, ``<无输出>``, a bracketed "[link to article]"), in any spelling, bracket or HTML
  escaping;
* :func:`unfilled_templates` — template variables left in an answer (``{{name}}``, ``{author}``,
  ``<placeholder>``, ``[Your Name]``, ``[插入日期]``), unless the instruction asked for a template
  (:data:`TEMPLATE_ASKED`) or the variable is code (:data:`NOT_A_VARIABLE`).
"""

from __future__ import annotations

import html
import re

from scorers.text.code import looks_like_code, strip_code
from scorers.text.cues import TASK_CUE
from scorers.text.rules import Rule, Seen
from scorers.text.script import normalise_strict

# compared after normalise_strict with spaces removed ("<No Output>" -> "nooutput", "N/A" -> "na")
ANSWER_WORDS = frozenset(
    {
        "nooutput",
        "nooutputs",
        "noanswer",
        "noresponse",
        "nooutputrequired",
        "nooutputneeded",
        "na",
        "notapplicable",
        "output",
        "blank",
        "empty",
        "tbd",
        "todo",
        "placeholder",
        "insertanswerhere",
        "answerhere",
        "youranswerhere",
        "无输出",
        "无回答",
        "暂无",
        "暂无答案",
        "无答案",
        "没有输出",
        "输出",
    }
)
INPUT_WORDS = frozenset(
    {
        "noinput",
        "noinputs",
        "none",
        "na",
        "null",
        "nil",
        "blank",
        "empty",
        "noinputrequired",
        "noinputneeded",
        "noinputnecessary",
        "noinputgiven",
        "noinputprovided",
        "notapplicable",
        "input",
        "image",
        "noimage",
        "无",
        "无输入",
        "空",
        "没有",
        "没有输入",
        "不需要输入",
        "无需输入",
        "输入",
    }
)
_BRACKETED = re.compile(r"^\s*[<\[{(]\s*([^<>\[\]{}()]{1,40})\s*[>\]})]\s*\.?\s*$")
_BRACKET_WORDS = re.compile(
    r"\b(no|none|output|input|answer|response|blank|empty|insert|placeholder|todo|image|"
    r"audio|video|n/?a|link|url|picture|photo|painting|file|document)\b",
    re.I,
)
_NOOUTPUT_ANYWHERE = re.compile(
    r"(?:<|&lt;)\s*(?:no\s*_?\s*(?:output|answer|response)|无输出|无回答)\s*(?:>|&gt;)", re.I
)
_ONLY_DASHES = re.compile(r"^\s*(?:-+|\.+)\s*$")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


def _squash(text: str) -> str:
    return normalise_strict(text).replace(" ", "")


def is_placeholder(text: str, vocabulary: frozenset[str]) -> bool:
    t = html.unescape(text).strip()
    if not t:
        return False
    if _squash(t) in vocabulary or _ONLY_DASHES.match(t):
        return True
    m = _BRACKETED.match(t)
    return bool(m and _BRACKET_WORDS.search(m.group(1)))


def placeholder_answer(answer: str) -> bool:
    """The answer is a stand-in for one (``<nooutput>``, ``N/A``, ``No Output``, ``无输出``…), or carries a
    ``<nooutput>`` tag anywhere."""
    return is_placeholder(answer, ANSWER_WORDS) or bool(_NOOUTPUT_ANYWHERE.search(answer))


def placeholder_input(text: str) -> bool:
    """The input is a stand-in left from generation (``<noinput>``, ``No input``, ``无输入``…)."""
    return is_placeholder(text, INPUT_WORDS)


# --- unfilled template variables ----------------------------------------------------------------------------
#: template variables: {{name}}, {author}, ${var}, <placeholder>, [Your Name], [插入日期], 【姓名】
VARIABLES: tuple[Rule, ...] = (
    Rule(
        "double braces",
        re.compile(r"\{\{\s*[A-Za-z_\u4e00-\u9fff][\w .\u4e00-\u9fff-]{0,30}\}\}"),
        "a Jinja/Mustache variable ({{name}}) that was never filled in",
    ),
    Rule(
        "single braces",
        re.compile(r"(?<![{$\\\w^_])\{[a-z]+(?:_[a-z]+){0,3}\}(?!})"),
        "a format-string variable ({author}, {first_name}) that was never filled in (not LaTeX: {S_t}, {XV})",
        Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 5168, "wolfram('{input} derivative')"),
    ),
    Rule(
        "square-bracketed stand-in",
        re.compile(
            r"\[(?:(?:your|my|the|his|her|their|recipient'?s?|company'?s?|insert|enter|add)\s+)?"
            r"(?:(?:full|first|last|company|job|phone|email|contact|business|street|home)\s+)?"
            r"(?:name|title|address|number|date|company|position|email|phone|city|signature|"
            r"information|details|here|amount|location|organi[sz]ation|school|university|product|"
            r"website|time|day|year)(?:\s+here)?\]",
            re.I,
        ),
        "a bracketed stand-in for a detail ([Your Name], [Company Name], [Date]) that was never filled in",
        Seen("alpagasus/claude_t45.json", 1478, "[Your Name]"),
    ),
    Rule(
        "angle-bracketed stand-in",
        re.compile(r"<(?:your|insert|enter|placeholder|name|date|company|recipient|address)(?:[ _-]\w+){0,3}>", re.I),
        "an angle-bracketed stand-in (<placeholder>, <insert name>) that was never filled in",
    ),
    Rule(
        "Chinese stand-in",
        re.compile(
            r"[\[【［](?:你的|您的|插入|填写|输入)?[\u4e00-\u9fff]{0,6}"
            r"(?:姓名|名字|名称|日期|地址|电话|公司|职位|邮箱|签名)[\]】］]"
        ),
        "a bracketed Chinese stand-in ([你的名字], 【公司名称】) that was never filled in",
    ),
)

#: an instruction that asks for a template, a form letter or code: variables in the answer are what it asked for
TEMPLATE_ASKED = Rule(
    "template asked for",
    re.compile(
        r"\btemplates?\b|\bplaceholders?\b|\bfill[- ]in(?:-the-blank)?\b|\bform letter\b|\bmail merge\b|"
        r"\bboilerplate\b|\bblank (?:form|letter)\b|\bvariables?\b|\bformat string\b|\bf-string\b|"
        r"\bjinja\b|\bmustache\b|\bhandlebars\b|模板|模版|占位符|填空",
        re.I,
    ),
    "the instruction asks for a template, placeholders or variables ('Write a template email with [Name] "
    "placeholders'): the variables are the answer",
)


def _variables(text: str) -> list[str]:
    found: list[str] = []
    for rule in VARIABLES:
        assert rule.pattern is not None
        for m in rule.pattern.finditer(text):
            if m.group(0) not in found:
                found.append(m.group(0))
    return found


def unfilled_templates(answer: str, prompt: str = "") -> list[str]:
    """Template variables left in an answer (outside code and LaTeX), unless the prompt asked for a template, is a
    coding task, or itself holds template variables (an email to answer that is signed "[Company]")."""
    if TEMPLATE_ASKED.search(prompt) or TASK_CUE["coding"].search(prompt) or _variables(prompt):
        return []
    found = _variables(_MATH.sub(" ", strip_code(answer)))
    rest = answer
    for v in found:
        rest = rest.replace(v, " ")
    return [] if found and looks_like_code(rest) else found
