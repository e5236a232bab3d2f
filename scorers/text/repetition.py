"""Degenerate repetition: an answer that keeps saying the same thing.

An answer repeats itself when more than half of its 4-word sequences (Chinese/Japanese: 8-character
sequences) repeat earlier ones, or when one sentence comes three times in a row — a model stuck in a loop, not a
refrain.  Code, and songs and poems, repeat by design and are not judged (:func:`judged`); answers under 30
words (90 characters) are too short for the n-gram share, not for a sentence said three times running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scorers.text.code import looks_like_code, strip_code
from scorers.text.cues import SONG
from scorers.text.memo import per_text
from scorers.text.script import normalise_strict, units
from scorers.text.sentences import split_sentences

#: the default rule: n-gram sizes, the repeated share above which an answer is degenerate, the shortest judged
WORD_N, CJK_N = 4, 8
THRESHOLD = 0.5
MIN_UNITS = 30


def repeated_ngram_fraction(toks: Sequence[str], n: int) -> float:
    """Share of the text's n-grams that repeat an earlier n-gram of the same text."""
    if len(toks) < n + 1:
        return 0.0
    grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams)


#: a sentence said this many times in a row (and of at least MIN_RUN_WORDS words) is degenerate
RUN = 3
MIN_RUN_WORDS = 3


@dataclass(frozen=True)
class Repetition:
    share: float  # share of the n-grams that repeat an earlier one
    n: int
    cjk: bool
    run: int = 0  # the most times one sentence comes in a row

    @property
    def what(self) -> str:
        return f"{self.n}-character" if self.cjk else f"{self.n}-word"

    def describe(self) -> str:
        if self.run >= RUN:
            return f"one sentence comes {self.run} times in a row"
        return f"{self.share:.0%} of its {self.what} sequences repeat earlier ones"


@per_text
def sentence_run(text: str) -> int:
    """The most times one sentence (of at least three words or six characters) comes in a row."""
    best = run = 0
    prev = None
    for sent in split_sentences(text, lines=False):
        key = normalise_strict(sent)
        if len(key.split()) < MIN_RUN_WORDS and len(key) < 6:
            prev, run = None, 0
            continue
        run = run + 1 if key == prev else 1
        prev = key
        best = max(best, run)
    return best


def judged(answer: str, instruction: str = "") -> bool:
    """Whether repetition means anything here: not in code, not in a song or a poem."""
    return not looks_like_code(answer) and not SONG.search(instruction)


@per_text
def repetition(answer: str, *, min_units: int = MIN_UNITS) -> Repetition | None:
    """The repeated share of the answer's prose (code blocks removed); ``None`` when it is too short to judge."""
    toks, cjk = units(strip_code(answer))
    if len(toks) < min_units * (3 if cjk else 1):
        return None
    n = CJK_N if cjk else WORD_N
    return Repetition(repeated_ngram_fraction(toks, n), n, cjk)


@per_text
def degenerate(
    answer: str, instruction: str = "", *, threshold: float = THRESHOLD, min_units: int = MIN_UNITS
) -> Repetition | None:
    """The repetition of a degenerate answer (more than ``threshold`` of its n-grams repeat, or one sentence
    three times in a row), else ``None``."""
    if not judged(answer, instruction):
        return None
    prose = strip_code(answer)
    run = sentence_run(prose)
    rep = repetition(answer, min_units=min_units)
    if run >= RUN:
        toks, cjk = units(prose)
        return Repetition(rep.share if rep else 0.0, CJK_N if cjk else WORD_N, cjk, run)
    return rep if rep is not None and rep.share > threshold else None
