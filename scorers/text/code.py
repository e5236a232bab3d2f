"""Code inside text: fences, inline code, whether a text is code, and the code blocks of an answer.

* :func:`strip_code` removes fenced blocks and inline code (prose-only checks read what is left);
* :func:`unclosed_fence` — an odd number of ``` fence lines;
* :func:`looks_like_code` — a text that is code rather than prose (its language is not judged, its
  repetition is by design);
* :func:`code_blocks` — (language, code) of every fenced block, or of a bare code answer; which blocks are
  checked at all is decided by the rules in :data:`NOT_A_BLOCK`.
"""

from __future__ import annotations

import re

from scorers.text.memo import per_text
from scorers.text.rules import Rule, Seen

_CODE_FENCE_BLOCK = re.compile(r"```.*?(```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_FENCE_LINE = re.compile(r"^\s*```")
#: a fenced block: the fence opens a line; its language tag is the rest of that line only when that is one word
_FENCE = re.compile(r"^[ \t]*```[ \t]*(?P<info>[^\n`]*)\n(?P<code>.*?)^[ \t]*```", re.S | re.M)
_LANG_TAG = re.compile(r"[\w+#.-]{1,20}")
_CODE_CHARS = re.compile(r"[{}();=<>\[\]#]")
_SQL_WORDS = re.compile(r"\b(?:SELECT|FROM|WHERE|INSERT|UPDATE|JOIN|CREATE TABLE)\b")
_CODE_OPENER = re.compile(r"\s*(?:<!DOCTYPE|<html|import |from \w+ import|def |class |#include|function )")
_PY_START = re.compile(r"^(def |class |import |from \w+ import |for \w+ in |while |if __name__)", re.M)
_NOT_PY = re.compile(
    r"[{};]\s*$|\bfunction\b|\bpublic\b|#include|\bvar\b|\bconst\b|\blet\b|console\.|System\.out", re.M
)
_SQL_START = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIEW))\b", re.I)
_HTML_START = re.compile(r"^\s*<(!doctype|html|div|table|ul|ol|p|form|body|head|span|a|h\d)\b", re.I)
#: markup, not a sentence in angle brackets ("<a drawing of a rocket…>", Alpaca row 5808): a closing tag or an attribute
_HTML_TAG_EVIDENCE = re.compile(r"</\w+\s*>|<\w+\s+[\w-]+\s*=|<!doctype", re.I)
#: JSON opens an object with a key or an array with a value ("[A meme showing …]" is a description, Alpaca row 5386)
_JSON_START = re.compile(r"^\s*(?:\{\s*(?:\"|\})|\[\s*(?:[\"{\[\d\]-]|true|false|null))")


def strip_fences(text: str, repl: str = " ") -> str:
    """``text`` with fenced code blocks (an unclosed one to the end) replaced by ``repl``."""
    return _CODE_FENCE_BLOCK.sub(repl, text)


#: a call to a tool written into an answer ("python('(50 * 9/5) + 32')", "[Calculator(400/1400)]",
#: "request('https://…')"): the result is left to the tool
TOOL_CALL = Rule(
    "tool call",
    re.compile(
        r"\[[A-Z][A-Za-z]+\([^)\]\n]*\)\]|\b[a-z][a-z_]{1,20}\((?:'[^'\n]*'|\"[^\"\n]*\")"
        r"(?:[^()\n]|\([^()\n]*\))*\)"
    ),
    "an answer that calls a tool leaves the result (a number, a page) to the tool: the call is code, and "
    "the answer need not state the result",
    Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 307, "python('((50 * 9/5) + 32)')"),
)


#: an answer that is a program printing the result ("print(4+1)"): the program computes it
PRINTS_RESULT = Rule(
    "a program that prints",
    re.compile(r"^\s*(?:print|console\.log|puts|echo|printf|System\.out\.println)\s*\("),
    "an answer that is one print statement leaves the result to the program: it need not state it",
    Seen("stanford_alpaca/alpaca_data.json", 29558, "print(4+1)"),
)


def calls_a_tool(text: str) -> bool:
    return TOOL_CALL.search(text) is not None


def prints_a_result(text: str) -> bool:
    return PRINTS_RESULT.search(text) is not None


@per_text
def strip_code(text: str) -> str:
    """``text`` without fenced code blocks, inline code and tool calls (for prose-only checks)."""
    assert TOOL_CALL.pattern is not None
    return TOOL_CALL.pattern.sub(" ", _INLINE_CODE.sub(" ", _CODE_FENCE_BLOCK.sub(" ", text)))


def unclosed_fence(text: str) -> bool:
    """An odd number of ``` fence lines.  Inline ```x``` pairs (common in converted StackExchange
    text) and a stray ``` at the end of a prose line are not fences."""
    fences = [ln for ln in text.splitlines() if _FENCE_LINE.match(ln) and "```" not in ln.lstrip()[3:]]
    return len(fences) % 2 == 1


@per_text
def looks_like_code(text: str) -> bool:
    """Code rather than prose: code punctuation (five or more marks) is more than a tenth of the letters, two or
    more SQL keywords, or a program's opening line."""
    n_letters = sum(map(str.isalpha, text))
    marks = len(_CODE_CHARS.findall(text))
    return (
        marks >= 5
        and marks > 0.1 * max(n_letters, 1)
        or len(_SQL_WORDS.findall(text)) >= 2
        or bool(_CODE_OPENER.match(text))
    )


#: a text that looks like a bare code answer but is not one (checked before a bare answer is parsed as code)
NOT_A_BLOCK: tuple[Rule, ...] = (
    Rule(
        "a reply of tool calls",
        re.compile(r"\b[a-z][a-z_]{1,20}\((?:'[^'\n]*'|\"[^\"\n]*\")\)"),
        "a JSON-shaped reply whose values are tool calls is not JSON to parse",
        Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 4905, "weather('London weather today')"),
    ),
    Rule(
        "set or list written in maths or Python notation",
        re.compile(
            r"^\s*[{\[]\s*(?:\"[^\"\n]*\"|'[^'\n]*'|[\w.+-]+)(?:\s*,\s*(?:\"[^\"\n]*\"|'[^'\n]*'|[\w.+-]+))*"
            r"\s*[}\]]\s*$"
        ),
        "braces or brackets round a comma list with no key: a set or a list, which JSON need not read",
        Seen("stanford_alpaca/alpaca_data.json", 41464, '{"apples", "bananas", "oranges", "pears"}'),
    ),
)


#: the program's output shown after a bare code answer ("# Output", "Output:"), which is not code
PROGRAM_OUTPUT = Rule(
    "program output after the code",
    re.compile(r"^\s*(?:#+\s*)?Output\s*(?::.*)?$", re.M | re.I),
    "a bare code answer may end with the program's output under an 'Output' line: only what comes before it is parsed",
    Seen("codealpaca/code_alpaca_2k.json", 219, "# Output"),
)
_PROGRAM_OUTPUT = PROGRAM_OUTPUT.pattern
SIGNATURE_ONLY = Rule(
    "a function signature alone",
    re.compile(r"(?:async\s+)?def\s+\w+\s*\([^)]*\)\s*(?:->[^:]+)?:"),
    "a function signature asked for on its own is not a program missing its body",
    Seen("codealpaca/code_alpaca_2k.json", 1584, "def gcd(x, y):"),
)


def code_blocks(answer: str) -> list[tuple[str, str]]:
    """(language, code) for every fenced block; the whole answer when it is bare code.

    A block's language is its fence's tag when the opening line holds only that tag; a fence with code on
    its opening line (```` ```const x = 1 ````, StackExchange's style) or with a sentence after it gives an
    unknown language ``""``.  Inline ```…``` inside a line is not a block."""
    blocks = []
    for m in _FENCE.finditer(answer):
        info = m.group("info").strip()
        lang = info.lower() if _LANG_TAG.fullmatch(info) else ""
        blocks.append((lang, m.group("code")))
    if blocks:
        return blocks
    text = _PROGRAM_OUTPUT.split(answer.strip(), maxsplit=1)[0].strip()
    if SIGNATURE_ONLY.pattern is not None and SIGNATURE_ONLY.pattern.fullmatch(text):
        return []  # a signature asked for on its own has no body to parse
    if _PY_START.match(text) and re.search(r":\s*$", text, re.M) and not _NOT_PY.search(text):
        return [("python", text)]
    if _SQL_START.match(text):
        return [("sql", text)]
    if text[:1] in "{[" and text[-1:] in "}]" and '"' in text and _JSON_START.match(text):
        if any(r.search(text) for r in NOT_A_BLOCK):
            return []
        return [("json", text)]
    if _HTML_START.match(text) and _HTML_TAG_EVIDENCE.search(text):
        return [("html", text)]
    return []
