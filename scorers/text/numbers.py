"""Numbers, names and subjects: what two texts must share to be the same question, and an answer's final number.

* :func:`numbers` — the numbers written in a text (``1,200``, ``3.5``, ``-4``); a hyphen between two numbers is
  a range or a date, not a minus (:data:`RANGE`: "2017-2018" holds 2017 and 2018, never -2018);
* :func:`final_number` — the last number of an answer;
* :func:`same_numbers` / :func:`same_names` / :func:`same_subject` — two prompts that carry other numbers
  (digits, number words, ordinals: "the second season" / "the fifth season"), or that each name or ask about
  something the other never mentions ("Is it safe for dogs to eat chocolate / grapes?"), are other questions
  however much text they share; :func:`same_content` — two prompts ask the same only when neither adds an ask
  ("… with corresponding points").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from scorers.text.content import content_stems
from scorers.text.rules import Rule, Seen
from scorers.text.script import is_cjk, normalise_strict

#: a number as written; a leading minus only where it cannot be the hyphen of a range ("2017-2018", "3-4 days")
NUMBER = re.compile(r"(?:(?<![\w)\]])-)?\d+(?:[.,]\d+)*")
RANGE = Rule(
    "range or season",
    re.compile(r"\d-\d"),
    "a hyphen between two numbers is a range or a season ('2017-2018'), not a minus sign",
    Seen("alpagasus/dolly_3k.json", 2227, "2017-2018: Manchester City"),
)
# a capitalised word (or acronym) that does not open a sentence: a name ("House Royce", "NBA")
_NAME = re.compile(r"(?<![.!?:\n\"“]\s)(?<![.!?:\n\"“])(?<!^)\b[A-Z][\w'’-]*")
_WORDS_LOWER = re.compile(r"[\w'’-]+")


#: number words and ordinals ("one" and "first" are left out: "one of the best", "first of all")
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
    if i != 1
}
_ORDINALS = {
    w: f"#{i}"
    for i, w in enumerate(
        "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
    if i > 1
}
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join([*_NUMBER_WORDS, *_ORDINALS]) + r")\b", re.I)
DIFFERENT_NUMBER_WORDS = Rule(
    "number words",
    _NUMBER_WORD,
    "number words and ordinals are numbers: the ten episodes of the second season are not those of the fifth",
    Seen("alpagasus/dolly_3k.json", 1909, "the second season"),
)


def numbers(text: str) -> list[str]:
    """The numbers of ``text`` in order, NFKC-normalised, thousands commas removed."""
    return [n.replace(",", "") for n in NUMBER.findall(unicodedata.normalize("NFKC", text))]


def number_counts(text: str) -> Counter[str]:
    """Digits, number words and ordinals of ``text`` (words as their values: "ten" is "10", "fifth" is "#5")."""
    words = [m.group(0).lower() for m in _NUMBER_WORD.finditer(text)]
    return Counter(NUMBER.findall(text)) + Counter(_NUMBER_WORDS.get(w) or _ORDINALS[w] for w in words)


def final_number(text: str) -> str | None:
    found = numbers(text)
    return found[-1] if found else None


#: what one text weighs in a pairwise test, kept per text: the pair tests run over candidate pairs, and a templated
#: set (GSM8K, toolformer) puts the same text in thousands of pairs
_PER_TEXT = 1 << 16


@lru_cache(maxsize=_PER_TEXT)
def _number_set(text: str) -> frozenset[tuple[str, int]]:
    return frozenset(number_counts(text).items())


@lru_cache(maxsize=_PER_TEXT)
def _names(text: str) -> frozenset[str]:
    return frozenset(names(text))


@lru_cache(maxsize=_PER_TEXT)
def _lower_words(text: str) -> frozenset[str]:
    return frozenset(_WORDS_LOWER.findall(text.lower()))


def same_numbers(a: str, b: str) -> bool:
    """False when both texts carry numbers and not the same ones: a templated maths problem with other
    numbers is another problem, however much of its text it shares."""
    na, nb = _number_set(a), _number_set(b)
    return not (na and nb) or na == nb


def names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence, lower-cased (``"I"`` left out)."""
    return {m.group(0).lower() for m in _NAME.finditer(text.strip()) if m.group(0) != "I"}


def same_names(a: str, b: str) -> bool:
    """False when each text names something the other never mentions: the same template about another
    entity ("What are the words of House Royce / House Tyrell?") is another question.  A name that only
    one side has (a dropped or added word) does not count."""
    only_a = _names(a) - _lower_words(b)
    only_b = _names(b) - _lower_words(a)
    return not (only_a and only_b)


#: words that change no question: politeness, and the verbs and nouns every ask uses
_NOT_SUBJECT = frozenset(
    "please kindly thank thanks help generate produce compose develop design construct "
    "come tell show type types kind kinds some different".split()
)


@lru_cache(maxsize=_PER_TEXT)
def _subject_words(text: str) -> frozenset[str]:
    return frozenset(w for w in content_stems(text) if w not in _NOT_SUBJECT)


SUBJECT_SWAP = Rule(
    "another subject in the same template",
    None,
    "same_subject: each prompt asks about something the other never mentions, so the same template about another "
    "subject is another question",
    Seen("alpagasus/dolly_3k.json", 1565, "Is it safe for dogs to eat grapes?"),
)


def same_subject(a: str, b: str) -> bool:
    """False when each (spaced-language) text has a content word the other lacks: the same template about
    another subject ("… eat chocolate?" / "… eat grapes?").  A word only one side has (a dropped or added
    word) does not count; Chinese texts are not compared this way (removing a 的 changes their pairs)."""
    if is_cjk(a) or is_cjk(b):
        return True
    sa, sb = _subject_words(a), _subject_words(b)
    return not (sa - sb and sb - sa)


ADDED_ASK = Rule(
    "an added ask",
    None,
    "same_content: one prompt asks for more than the other ('… with corresponding points'), so their answers may "
    "rightly differ",
    Seen("alpagasus/dolly_3k.json", 920, "with corresponding points"),
)


def same_content(a: str, b: str) -> bool:
    """Whether two (spaced-language) prompts have the same content words: an added ask ("… with corresponding
    points") makes another question, whose answer may rightly differ."""
    if is_cjk(a) or is_cjk(b):
        return True
    return _subject_words(a) == _subject_words(b)


#: quoted text is data: its punctuation counts ("Reverse the string 'hello world'" and "… 'Hello, World!'"
#: are other tasks with other results, Toolformer rows 3128 and 2370)
QUOTED_DATA = Rule(
    "quoted text is data",
    re.compile(r"(?<!\w)'[^'\n]{1,200}'(?!\w)|\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|‘[^’\n]{1,200}’"),
    "prompts that differ only inside quotes differ in their data: the quotes are compared with their "
    "punctuation (case is still ignored, as everywhere in duplicate keys)",
    Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 2370, "'Hello, World!'"),
)


def quoted(text: str) -> list[str]:
    """The quoted spans of ``text``, case-folded (as exact duplicates are) but with their punctuation."""
    assert QUOTED_DATA.pattern is not None
    return [q.casefold() for q in QUOTED_DATA.pattern.findall(text)]


def same_quotes(a: str, b: str) -> bool:
    """False when each text quotes words the other's quotes lack (the quoted text is the task's data: "Classify
    'I am sitting'" and "Classify 'She ran home'" are other tasks); a word dropped from one quote does not count."""
    qa, qb = _quoted_words(a), _quoted_words(b)
    return not (qa - qb and qb - qa)


@lru_cache(maxsize=_PER_TEXT)
def _quoted_words(text: str) -> frozenset[str]:
    return frozenset(normalise_strict(" ".join(quoted(text))).split())
