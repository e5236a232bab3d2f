"""Text helpers shared by the noise scorer families (not a scorer module: no registration here).

* :func:`normalise_strict` is the form exact duplicates are compared in: NFKC, case-folded,
  punctuation and symbols dropped, whitespace collapsed.
* :func:`units` splits text into the units near-duplicate shingles are built from: words for
  spaced languages, single characters for Chinese/Japanese (never whitespace tokens on unspaced text).
* :func:`split_input` recovers the alpaca ``input`` part of a normalised user turn.
* :func:`result_from_flags` turns per-sample flags into scores with one severity → score mapping,
  so every noise scorer scores the same way (1 = clean).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from scorers.base import SEVERITY_SCORE, Flag, ScorerResult, flag_counts
from scorers.samples import Sample

_WS = re.compile(r"\s+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)
_CODE_FENCE_BLOCK = re.compile(r"```.*?(```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")

#: per-sample score of the worst flag a scorer raised on it (1 = clean).


# everything that is not a letter, digit or space: punctuation and symbols (one regex pass is ~20x
# faster than asking unicodedata about every character)
_NOT_WORD = re.compile(r"[^\w\s]|_")


def normalise_strict(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols removed, whitespace collapsed."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", _NOT_WORD.sub(" ", t)).strip()


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the letters of ``text`` (0 when it has none)."""
    if not _CJK_CHAR.search(text):
        return 0.0
    letters = sum(1 for c in text if c.isalpha())
    if not letters:
        return 0.0
    return len(_CJK_CHAR.findall(text)) / letters


def units(text: str) -> tuple[list[str], bool]:
    """(units, is_cjk): words of a spaced text, or characters of a mostly Chinese/Japanese one.

    Mixed text that is mostly CJK keeps its Latin words as single units, so ``"用Python写"`` is
    ``["用", "python", "写"]``.
    """
    t = normalise_strict(text)
    if cjk_ratio(t) < 0.3:
        return _WORD.findall(t), False
    out: list[str] = []
    for w in _WORD.findall(t):
        if _CJK_CHAR.search(w):
            buf = ""
            for c in w:
                if _CJK_CHAR.match(c):
                    if buf:
                        out.append(buf)
                        buf = ""
                    out.append(c)
                else:
                    buf += c
            if buf:
                out.append(buf)
        else:
            out.append(w)
    return out, True


def token_set(text: str) -> set[str]:
    """Words (CJK: character bigrams) of ``text`` as a set: the cheap overlap measure between texts.

    Chinese single characters overlap too easily (的, 是, 了 are everywhere), bigrams do not.
    """
    us, cjk = units(text)
    if cjk and len(us) > 1:
        return {us[i] + us[i + 1] for i in range(len(us) - 1)}
    return set(us)


def jaccard(a: set[Any], b: set[Any]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def strip_code(text: str) -> str:
    """``text`` without fenced code blocks and inline code (for prose-only checks)."""
    return _INLINE_CODE.sub(" ", _CODE_FENCE_BLOCK.sub(" ", text))


def original(s: Sample) -> dict[str, Any] | None:
    """The source record the ingest layer kept, when it did."""
    o = s.meta.get("original") if s.meta else None
    return o if isinstance(o, dict) else None


def split_input(s: Sample) -> tuple[str, str]:
    """(instruction, input) of a sample.

    From the original alpaca record when the ingest layer kept it; otherwise the normalised user
    turn is split at its last blank line (alpaca rows arrive as ``instruction + "\\n\\n" + input``).
    The split is only a guess without the original, so callers use the input part for checks that
    are safe either way (a placeholder paragraph is a placeholder wherever it sits).
    """
    o = original(s)
    if o is not None and isinstance(o.get("instruction"), str):
        inp = o.get("input")
        return o["instruction"], inp if isinstance(inp, str) else ""
    user = s.instruction
    head, sep, tail = user.rpartition("\n\n")
    if sep and head.strip():
        return head, tail
    return user, ""


def has_answer_turn(s: Sample) -> bool:
    return any(t.role == "assistant" for t in s.turns)


def result_from_flags(samples: Sequence[Sample], flags: list[list[Flag]], summary: dict[str, Any] | None = None,
                      fields: list[dict[str, Any]] | None = None,
                      applies: Sequence[bool] | None = None) -> ScorerResult:
    """Scores = the worst flag's severity score; ``applies[i] = False`` gives ``None`` for sample i.

    The summary counts flags per code and names up to five example samples (by ``index``) per code.
    """
    n = len(flags)
    scores: list[float | None] = []
    for i, fl in enumerate(flags):
        if applies is not None and not applies[i]:
            scores.append(None)
        else:
            scores.append(min((SEVERITY_SCORE[f.severity] for f in fl), default=1.0))
    out_summary = flag_counts(samples, flags)
    out_summary.update(summary or {})
    return ScorerResult(scores=scores, flags=flags, fields=fields or [{} for _ in range(n)], summary=out_summary,
                        scores_from_flags=True)


_FILLERS = re.compile(r"\b(?:please|kindly|thanks|thank you|can you|could you|would you|will you)\b|请你|请|麻烦你?|谢谢你?",
                      re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def without_fillers(text: str) -> str:
    """``text`` without politeness fillers ("please", "can you", "请", "谢谢"): they do not change a task."""
    return _FILLERS.sub(" ", text)


def numbers(text: str) -> Counter[str]:
    return Counter(_NUMBER.findall(text))


def same_numbers(a: str, b: str) -> bool:
    """False when both texts carry numbers and not the same ones: a templated maths problem with other
    numbers is another problem, however much of its text it shares."""
    na, nb = numbers(a), numbers(b)
    return not (na and nb) or na == nb


# a capitalised word (or acronym) that does not open a sentence: a name ("House Royce", "NBA")
_NAME = re.compile(r"(?<![.!?:\n\"“]\s)(?<![.!?:\n\"“])(?<!^)\b[A-Z][\w'’-]*")
_WORDS_LOWER = re.compile(r"[\w'’-]+")


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
