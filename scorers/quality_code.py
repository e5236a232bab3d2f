"""Code answers that can be parsed: Python (``ast``), JSON, SQL (balance) and HTML (tag balance).

Used by :mod:`scorers.quality_checks` on the blocks :func:`scorers.text.code.code_blocks` finds; no scorer here.  A parse failure is a concrete, checkable
reason an answer is wrong; a language we do not parse is never flagged.
"""

from __future__ import annotations

import ast
import json
from html.parser import HTMLParser

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
    "param",
    "keygen",
    "command",
    "!doctype",
}


class _TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags += 1
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.tags += 1

    def handle_endtag(self, tag: str) -> None:
        self.tags += 1
        if tag in _VOID:
            return
        if tag in self.stack:
            while self.stack and self.stack[-1] != tag:
                self.errors.append(f"<{self.stack.pop()}> is never closed")
            self.stack.pop()
        else:
            self.errors.append(f"</{tag}> closes a tag that was never opened")


def _balanced(text: str) -> str | None:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    quote: str | None = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack[-1] != pairs[ch]:
                return f"unmatched '{ch}'"
            stack.pop()
    if quote:
        return f"unclosed {quote} quote"
    if stack:
        return f"unclosed '{stack[-1]}'"
    return None


def check_code(lang: str, code: str) -> str | None:
    """A plain-words parse error, or ``None`` when the code parses (or its language is not checked)."""
    if lang in {"python", "py", "python3"}:
        try:
            ast.parse(code)
        except SyntaxError as e:
            return f"the Python code does not parse (Python 3): {e.msg} at line {e.lineno}"
        except ValueError as e:
            return f"the Python code does not parse: {e}"
        return None
    if lang == "json":
        try:
            json.loads(code)
        except ValueError as e:
            return f"the JSON does not parse: {e}"
        return None
    if lang in {"sql", "mysql", "postgresql", "sqlite"}:
        err = _balanced(code)
        return f"the SQL is not well-formed: {err}" if err else None
    if lang in {"html", "xml"}:
        p = _TagBalance()
        try:
            p.feed(code)
            p.close()
        except Exception as e:  # HTMLParser is lenient; keep a broken parse a finding, not a crash
            return f"the HTML does not parse: {e}"
        errs = p.errors + [f"<{t}> is never closed" for t in p.stack if t not in {"html", "body", "head", "p", "li"}]
        return f"the HTML is not well-formed: {errs[0]}" if errs else None
    return None
