"""Sentences, per language: where they end, how many an answer has, how long they are, and readability.

English (and other spaced Latin-script text): a sentence ends at ``.``/``!``/``?`` (and closing quotes or
brackets) followed by space and a capital, a digit or an opening quote — not after an abbreviation
(:data:`ABBREVIATIONS`), an initial, "e.g."/"i.e." or the number of an inline list.  Chinese/Japanese: a
sentence ends at ``。！？`` (and ``!``/``?``), with or without a following space, and at a full stop ``.``
written after a Chinese character.  A line break ends a sentence in both, unless asked otherwise.

Sentence length is counted in the unit of the language — words for spaced languages, characters for
Chinese/Japanese — and readability is judged against a per-language threshold (:data:`READABILITY`), so an
English threshold is never applied to Chinese.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scorers.text.memo import per_text
from scorers.text.script import is_cjk

ABBREVIATIONS = frozenset(
    "mr mrs ms dr st vs etc inc ltd jr sr no fig approx co corp mt ft oz lb lbs dept "
    "gen col sgt rev prof ca cf al eg ie".split()
)
# a sentence end inside a line: ". " / "! " / "? " after a word, a number or a closing quote, followed by a
# capital or a number; not after an abbreviation or a single letter (so "Mr. Smith", "U.S. Army", "J.K. Rowling",
# "e.g. this" are not sentence ends, and "Super Bowl LXXII. Instead" is)
_END_EN = re.compile(r"(?<=[A-Za-z0-9%)\"”’'])[.!?]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_END_CJK = re.compile(r"[。！？!?]+[”’」』）)]*|(?<=[\u4e00-\u9fff])\.(?!\d)")
#: any sentence end at all (not "2." of a list): does a text punctuate its sentences?
ANY_END = re.compile(r"(?<!\b\d)(?<!\b\d\d)[.!?](?:\s|$)|[。！？]")
_WORD_BEFORE = re.compile(r"(\w+)$")
_EG_OR_ITEM = re.compile(r"\b(?:e\.g|i\.e)$|(?:^|\s)\d{1,2}$")
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+", re.M)
_WS = re.compile(r"\s+")
_WORDISH = re.compile(r"\w")


def sentence_ends(line: str, cjk: bool | None = None) -> list[re.Match[str]]:
    """The sentence ends inside one line of text (the line's own end is not one unless punctuated)."""
    if cjk is None:
        cjk = is_cjk(line)
    if cjk:
        return list(_END_CJK.finditer(line))
    out = []
    for m in _END_EN.finditer(line):
        # the word before the stop, read in the 64 characters before it (a search over the whole prefix made a long
        # line quadratic: 0.14 s for one 14,000-character answer); a longer word is neither one letter nor an
        # abbreviation, so the window decides as the whole prefix would
        start, end = max(0, m.start() - 64), m.start()
        word = _WORD_BEFORE.search(line, start, end)  # "Mr.", "etc.", "e.g.", an initial, "2." of an inline list
        if word and (
            len(word.group(1)) == 1 or word.group(1).lower() in ABBREVIATIONS or _EG_OR_ITEM.search(line, start, end)
        ):
            continue
        out.append(m)
    return out


def split_sentences(text: str, *, lines: bool = True) -> list[str]:
    """The sentences of ``text``; with ``lines`` a line break also ends one (headings, list items)."""
    return list(_sentences(text, lines))


@per_text
def _sentences(text: str, lines: bool = True) -> tuple[str, ...]:
    """:func:`split_sentences`, remembered (as a tuple: each caller gets its own list)."""
    chunks = [ln for ln in text.splitlines() if ln.strip()] if lines else [_WS.sub(" ", text).strip()]
    out: list[str] = []
    for chunk in chunks:
        start = 0
        for m in sentence_ends(chunk):
            piece = chunk[start : m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        rest = chunk[start:].strip()
        if rest:
            out.append(rest)
    return tuple(out)


def count_sentences(text: str) -> int:
    """Sentences of an answer, list markers dropped and line breaks ignored ("in one sentence" asks); a lead-in
    line ending with a colon ("Here is a sentence:") is not one of them when something follows it."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].rstrip().endswith((":", "：")):
        lines = lines[1:]
    body = _LIST_MARK.sub("", "\n".join(lines)).strip()
    return len([p for p in split_sentences(body, lines=False) if _WORDISH.search(p)])


def sentence_size(sentence: str) -> int:
    """Words of a spaced-language sentence, characters (letters and digits, not punctuation) of a
    Chinese/Japanese one."""
    return sum(map(str.isalnum, sentence)) if is_cjk(sentence) else len(sentence.split())


def median_sentence_size(answers: Sequence[str], sample: int = 5000) -> float:
    """The median length of the dataset's sentences (of its first ``sample`` answers): words, or
    characters for Chinese/Japanese; sentences under three units (headings, labels) are not counted."""
    sizes = []
    for a in answers[:sample]:
        for sent in split_sentences(a):
            size = sentence_size(sent)
            if size >= 3:
                sizes.append(size)
    return statistics.median(sizes) if sizes else 0.0


@dataclass(frozen=True)
class Readability:
    """When sentences are too long to read easily, in one language's unit."""

    unit: str  # "words" | "characters"
    long_sentence: float  # mean sentence length above which an answer is hard to read
    min_size: int  # answers shorter than this (in the unit) are not judged


#: per language: the mean sentence length above which an answer is hard to read, about three times the typical
#: sentence of the language.  English: 45 words (sentences of Dolly and LIMA have a median of 12–15 words;
#: 1.7% of Dolly's answers average more than 45).  Chinese: 90 characters (sentences of Chinese Alpaca, BELLE and
#: OASST-zh have a median of 21–29 characters; 1.1%, 0% and 1.0% of their answers average more than 90).  A
#: Chinese character is not a word: the English figure never applies to Chinese.
READABILITY: dict[str, Readability] = {
    "en": Readability("words", 45, 30),
    "zh": Readability("characters", 90, 45),
}


def readability_language(text: str) -> str:
    return "zh" if is_cjk(text) else "en"


def mean_sentence_size(text: str) -> tuple[float, str]:
    """(mean sentence length, unit) of ``text`` in its language's unit."""
    lang = readability_language(text)
    sizes = [sentence_size(s) for s in split_sentences(text)]
    mean = sum(sizes) / len(sizes) if sizes else 0.0
    return mean, READABILITY[lang].unit


_LIST_SEPARATOR = re.compile(r"[,;，、；]")


def is_list_sentence(sentence: str) -> bool:
    """A "sentence" that is a list of short items (names, titles, terms): long, but not a run-on."""
    parts = [p for p in _LIST_SEPARATOR.split(sentence) if p.strip()]
    return len(parts) >= 4 and sum(sentence_size(p) for p in parts) / len(parts) <= (8 if is_cjk(sentence) else 4)


def hard_to_read(text: str, long_sentence: float | None = None) -> tuple[float, Readability] | None:
    """(mean sentence length, the rule) when ``text``'s sentences are too long for its language, else ``None``.

    Lists of names or titles written as one sentence are not run-ons and are left out (Dolly rows 2384, 2935).
    ``long_sentence`` overrides the English threshold (a scorer parameter); Chinese keeps its own."""
    lang = readability_language(text)
    rule = READABILITY[lang]
    if long_sentence is not None and lang == "en":
        rule = Readability(rule.unit, long_sentence, rule.min_size)
    sizes = [sentence_size(s) for s in split_sentences(text) if not is_list_sentence(s)]
    total = len(text.strip()) if lang == "zh" else len(text.split())
    if not sizes or total < rule.min_size:
        return None
    mean = sum(sizes) / len(sizes)
    return (mean, rule) if mean > rule.long_sentence else None
