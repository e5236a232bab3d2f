"""Rules written as rows of a table: a name, a pattern, what it means, and the real row that motivated it.

An exemption ("a title that contains *and* is one item") or a detector ("a chat token in an answer") is one
:class:`Rule` in a module-level table, never one more alternative inside a regular expression in a function
body.  ``seen`` names the real row the rule was written for: a dataset file (relative to the shared data
folder), its 0-based row, and a short excerpt of the text the rule reads there.
``tests/test_text_rules.py`` checks every table: each excerpt is in its row (when the data is present) and
each rule fires on its own excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seen:
    """The real row a rule was written for."""

    file: str
    row: int
    excerpt: str


@dataclass(frozen=True)
class Rule:
    """A named rule.  ``pattern`` is what it looks for; ``None`` for a rule that compares two texts, written as
    the function its ``means`` names (it still carries the row that motivated it)."""

    name: str
    pattern: re.Pattern[str] | None
    means: str
    seen: Seen | None = None

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.pattern is not None else None


def first(rules: Iterable[Rule], text: str) -> Rule | None:
    """The first rule of a table whose pattern is found in ``text``."""
    return next((r for r in rules if r.search(text)), None)


def first_match(rules: Iterable[Rule], text: str) -> tuple[Rule, re.Match[str]] | None:
    """The first rule that matches, with its match."""
    for r in rules:
        m = r.search(text)
        if m:
            return r, m
    return None


def any_rule(rules: Iterable[Rule], text: str) -> bool:
    return first(rules, text) is not None
