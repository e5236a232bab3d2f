"""Numbers, names and subjects: what two texts must share to be the same question, and an answer's final number.

* :func:`numbers` — the numbers written in a text (``1,200``, ``3.5``, ``-4``); a hyphen between two numbers is
  a range or a date, not a minus (:data:`RANGE`: "2017-2018" holds 2017 and 2018, never -2018);
* :func:`final_number` — the last number of an answer;
* :func:`same_numbers` / :func:`same_names` / :func:`same_subject` — two prompts that carry other numbers
  (digits, number words, ordinals: "the second season" / "the fifth season"), or that each name or ask about
  something the other never mentions ("Is it safe for dogs to eat chocolate / grapes?"), are other questions
  however much text they share; :func:`same_content` — two prompts ask the same only when neither adds an ask
  ("… with corresponding points");
* for pairs found on shared wording (near duplicates): :func:`same_formulas` — the same numbers under other
  operators; :func:`same_time` — a question about tomorrow or last week is not one about today.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from scorers.text.content import content_stems
from scorers.text.memo import per_text
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


@per_text(texts=_PER_TEXT)
def _number_set(text: str) -> frozenset[tuple[str, int]]:
    return frozenset(number_counts(text).items())


@per_text(texts=_PER_TEXT)
def _names(text: str) -> frozenset[str]:
    return frozenset(names(text))


@per_text(texts=_PER_TEXT)
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


@per_text(texts=_PER_TEXT)
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


@per_text(texts=_PER_TEXT)
def _quoted_words(text: str) -> frozenset[str]:
    return frozenset(normalise_strict(" ".join(quoted(text))).split())


#: an operand of a written formula: a number with an optional variable and power ("2x^2"), or a lone variable
_OPERAND = r"(?:\d+(?:\.\d+)?[a-z]?(?:\^\d+)?|\b[a-z]\b(?:\^\d+)?)"
MATHS_EXPRESSION = Rule(
    "another formula",
    re.compile(rf"\(?{_OPERAND}\)?(?:\s*[-+*/×÷=]\s*\(?{_OPERAND}\)?)+"),
    "two prompts whose written formulas differ (other operators on the same numbers: 'x^3 + 2x^2 - x + 1' / "
    "'… + x + 1') ask other problems",
    Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 3580, "x^3 + 2x^2 - x + 1"),
)


@per_text(texts=_PER_TEXT)
def _formulas(text: str) -> frozenset[str]:
    assert MATHS_EXPRESSION.pattern is not None
    return frozenset(re.sub(r"\s+", "", m.group(0)) for m in MATHS_EXPRESSION.pattern.finditer(text.lower()))


def same_formulas(a: str, b: str) -> bool:
    """False when both texts write formulas and not the same ones (spaces aside)."""
    fa, fb = _formulas(a), _formulas(b)
    return not (fa and fb) or fa == fb


#: a time other than now: a question with no time in it asks about the present ("the weather in London" is today's)
OTHER_TIME = Rule(
    "another day",
    re.compile(
        r"\b(?:tomorrow|yesterday|(?:next|last|previous|coming) (?:week|weekend|month|year|night|season|"
        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b|明天|昨天|后天|前天|下周|上周|明年|去年|下个月|上个月",
        re.I,
    ),
    "a prompt about tomorrow, yesterday or next/last week asks another question than one about today or no "
    "time at all ('the weather in London tomorrow' / '… in London')",
    Seen(
        "gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 4016, "What is the weather like in London tomorrow?"
    ),
)


@per_text(texts=_PER_TEXT)
def _times(text: str) -> frozenset[str]:
    assert OTHER_TIME.pattern is not None
    return frozenset(m.group(0).lower() for m in OTHER_TIME.pattern.finditer(text))


def same_time(a: str, b: str) -> bool:
    """False when the texts point at other times than now, or only one of them does."""
    return _times(a) == _times(b)


NARROWING_NAME = Rule(
    "a name that narrows the question",
    None,
    "narrows_by_name: a prompt that adds a place, person or thing of its own ('the most popular sport' / '… in "
    "Brazil') asks a narrower question; a name that only qualifies one both share ('Tokyo' / 'Tokyo, Japan', 'New "
    "York' / 'New York City') or says how to answer ('… using WolframAlpha', '… from Wikipedia') does not",
    Seen("alpagasus/dolly_3k.json", 1701, "What is the most popular sport in Brazil?"),
)
#: words before a name that say how to answer ("using WolframAlpha", "from Wikipedia", "according to …"), not what is
#: asked
_HOW = frozenset("using use with via through from on".split())
#: a word without the quotes around it or a possessive ("'Hello" and "Einstein's" are "hello" and "einstein")
_TOKEN = re.compile(r"\w+(?:[’'-](?![sS]\b)\w+)*")


def narrows_by_name(a: str, b: str) -> bool:
    """True when one text names something of its own (a capitalised word, not opening a sentence, that the other
    never mentions) that neither qualifies a name both share nor follows a word saying how to answer: "What is the
    most popular sport?" / "… in Brazil?" are other questions; "… Tokyo?" / "… Tokyo, Japan?" and "How many seconds
    are in a day?" / "… Calculate using WolframAlpha." are not."""
    return _own_name(a, b) or _own_name(b, a)


@per_text(texts=_PER_TEXT)
def _name_words(text: str) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """(the words of ``text``, the same lower-cased, the names it writes lower-cased): a prompt is compared with each
    of its near-duplicate candidates, so it is read once."""
    tokens = tuple(_TOKEN.findall(text))
    named = (_TOKEN.findall(m.group(0)) for m in _NAME.finditer(text.strip()) if m.group(0) != "I")
    return tokens, frozenset(t.lower() for t in tokens), frozenset(t[0].lower() for t in named if t)


def _own_name(text: str, other: str) -> bool:
    tokens, _, names = _name_words(text)
    shared = _name_words(other)[1]
    extra = names - shared
    if not extra:
        return False
    k = 1
    while k < len(tokens):
        if tokens[k].lower() not in extra:
            k += 1
            continue
        end = k + 1  # a run of capitalised words is one name ("United Kingdom", "Artificial Intelligence")
        while end < len(tokens) and tokens[end][:1].isupper():
            end += 1
        before, after = tokens[k - 1].lower(), tokens[end] if end < len(tokens) else ""
        how = before in _HOW or (before == "to" and k >= 2 and tokens[k - 2].lower() == "according")
        near = (tokens[k - 1], after, tokens[k - 2] if k >= 2 and before in {"in", "of", "at"} else "")
        # qualifies a name both share ("Tokyo, Japan", "New York City", "France in Europe") or says how to answer
        if not how and not any(w[:1].isupper() and w.lower() in shared for w in near):
            return True
        k = end
    return False


ADDED_CLAUSE = Rule(
    "an added clause that asks for more",
    re.compile(
        r"\b(?:with|including|along with|together with|and (?:its|their|the|his|her|your))\s+([a-z][^.?!\n]{2,60})"
        r"|及其([^。？！，,\n]{1,12})"
    ),  # a clause in lower case: "with WolframAlpha" says how to answer, not what more to give
    "adds_a_clause: a prompt that ends its ask with one more thing to give ('… winners in the last 5 years with "
    "corresponding points', '说出三种编程语言及其用途') asks for more than the other; the near duplicate's answer would "
    "not serve it",
    Seen("alpagasus/dolly_3k.json", 920, "with corresponding points"),
)


def adds_a_clause(a: str, b: str) -> bool:
    """True when one text has a "with …" / "and their …" / "及其…" clause whose words the other lacks."""
    assert ADDED_CLAUSE.pattern is not None
    for x, y in ((a, b), (b, a)):
        for m in ADDED_CLAUSE.pattern.finditer(x):
            if m.group(1):
                words = content_stems(m.group(1))
                if words and not words & content_stems(y):
                    return True
            elif m.group(2) and m.group(2) not in y:
                return True
    return False
