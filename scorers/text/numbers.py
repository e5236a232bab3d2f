"""Numbers and names in text: what two texts must share to be the same question, and an answer's final number.

* :func:`numbers` — the numbers written in a text (``1,200``, ``3.5``, ``-4``); a hyphen between two numbers is
  a range or a date, not a minus (:data:`RANGE`: "2017-2018" holds 2017 and 2018, never -2018);
* :func:`final_number` — the last number of an answer;
* :func:`same_numbers` / :func:`same_names` — two prompts that carry other numbers, or each name something the
  other never mentions, are other questions however much text they share.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from scorers.text.rules import Rule, Seen

#: a number as written; a leading minus only where it cannot be the hyphen of a range ("2017-2018", "3-4 days")
NUMBER = re.compile(r"(?:(?<![\w)\]])-)?\d+(?:[.,]\d+)*")
RANGE = Rule("range or season", re.compile(r"\d-\d"),
             "a hyphen between two numbers is a range or a season ('2017-2018'), not a minus sign",
             Seen("alpagasus/dolly_3k.json", 2227, "2017-2018: Manchester City"))
# a capitalised word (or acronym) that does not open a sentence: a name ("House Royce", "NBA")
_NAME = re.compile(r"(?<![.!?:\n\"“]\s)(?<![.!?:\n\"“])(?<!^)\b[A-Z][\w'’-]*")
_WORDS_LOWER = re.compile(r"[\w'’-]+")


def numbers(text: str) -> list[str]:
    """The numbers of ``text`` in order, NFKC-normalised, thousands commas removed."""
    return [n.replace(",", "") for n in NUMBER.findall(unicodedata.normalize("NFKC", text))]


def number_counts(text: str) -> Counter[str]:
    return Counter(NUMBER.findall(text))


def final_number(text: str) -> str | None:
    found = numbers(text)
    return found[-1] if found else None


def same_numbers(a: str, b: str) -> bool:
    """False when both texts carry numbers and not the same ones: a templated maths problem with other
    numbers is another problem, however much of its text it shares."""
    na, nb = number_counts(a), number_counts(b)
    return not (na and nb) or na == nb


def names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence, lower-cased (``"I"`` left out)."""
    return {m.group(0).lower() for m in _NAME.finditer(text.strip()) if m.group(0) != "I"}


def same_names(a: str, b: str) -> bool:
    """False when each text names something the other never mentions: the same template about another
    entity ("What are the words of House Royce / House Tyrell?") is another question.  A name that only
    one side has (a dropped or added word) does not count."""
    only_a = names(a) - set(_WORDS_LOWER.findall(b.lower()))
    only_b = names(b) - set(_WORDS_LOWER.findall(a.lower()))
    return not (only_a and only_b)
