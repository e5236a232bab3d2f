"""Answers in a different language from their instruction (unless the task asks for another language).

The script decides first (a Chinese/Japanese prompt answered with only Latin text, or the reverse);
between two Latin-script languages fastText's compact language id decides, and only when it is
confident about both texts.  Code blocks are ignored; texts with too few letters are not judged.
A prompt whose own input is in the answer's language (an English sentence to correct, asked in
Chinese) is not flagged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from scorers._noise_text import result_from_flags
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, flag_counts, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.code import looks_like_code
from scorers.text.cues import LANGUAGE_TASK
from scorers.text.language import (
    CJK_LANGUAGES,
    LATIN_WORD,
    NAMES,
    PROSE_WORD,
    english_share,
    language_of,
    prose,
    unquoted,
)
from scorers.text.lists import term_list
from scorers.text.prompt import split_input
from scorers.text.script import cjk_ratio, letters


class WrongLanguageParams(ScorerParams):
    min_prompt_letters: int = Field(10, ge=1, description="Prompts with fewer letters are not judged.")
    min_answer_letters: int = Field(
        20, ge=1, description="Answers with fewer letters (after removing code) are not judged."
    )
    min_answer_words: int = Field(
        6,
        ge=1,
        description="Latin-script answers with fewer words are not judged "
        "(names and short lists fool language id); two fewer "
        "suffice against a Chinese/Japanese/Korean prompt.",
    )
    min_confidence: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description=("Between two Latin-script languages, both texts must be identified at least this confidently."),
    )


def names_language(prompt: str, lang: str) -> bool:
    """The prompt names the answer's language ("a French sentence", "in Spanish"): asked for (Alpaca 24078,
    10153: "Construct a sentence in French…", "…a Spanish sentence using bailar")."""
    name = NAMES.get(lang)
    return bool(name) and re.search(rf"\b{name}\b", prompt, re.I) is not None


@register
class WrongLanguage(Scorer):
    """Answers written in another language than the instruction, when no language change was asked for."""

    name = "wrong_language"
    per_sample = True
    cost = 6  # 51 s on the 84k-row mixed file
    version = "4"
    dimension = "noise"
    Params = WrongLanguageParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, str]] = [{} for _ in samples]
        for pos, s in enumerate(samples):
            if s.is_plain_text:
                continue
            prompt, answer = s.instruction, s.answer
            text = prose(answer)  # the answer without code and URLs
            if (
                letters(prose(prompt)) < p.min_prompt_letters
                or letters(text) < p.min_answer_letters
                or looks_like_code(text)
            ):
                continue
            head, inp = split_input(s)
            # the instruction part decides (its input may legitimately be in another language)
            # a sentence quoted in the instruction is material ("把“…”翻译成…", Chinese Alpaca rows 5343, 3342)
            own = unquoted(head)
            pl, pc = language_of(
                own
                if letters(prose(own)) >= p.min_prompt_letters
                else head
                if letters(prose(head)) >= p.min_prompt_letters
                else prompt
            )
            al, ac = language_of(answer)
            fields[pos]["answer_language"] = al
            if "und" in (pl, al) or pl == al or LANGUAGE_TASK.search(prompt) or names_language(prompt, al):
                continue
            cjk_involved = {pl, al} & CJK_LANGUAGES
            min_words = p.min_answer_words if pl not in CJK_LANGUAGES else max(2, p.min_answer_words - 2)
            # a name, a title, a short list, or mixed text: too little to call its language (names, note names and
            # letter grids have no lower-case words: Alpaca 51243 "A4 B4 D4…", Chinese Alpaca 9646 a list of New York
            # restaurants, 4353 "GDHAC" combinations)
            if al not in CJK_LANGUAGES and (
                len(LATIN_WORD.findall(text)) < min_words
                or cjk_ratio(text) > 0.05
                or len(PROSE_WORD.findall(text)) < (2 if pl in CJK_LANGUAGES else 4)
            ):
                continue
            if not cjk_involved and (
                min(pc, ac) < p.min_confidence or term_list(text) or (pl == "en" and english_share(text) >= 0.15)
            ):
                continue  # unsure, a list of terms and names ("Drip brew, french press"), or plainly English
            if s.history and language_of(s.prompt_text)[0] == al:  # the conversation already uses it
                continue
            if inp and language_of(inp)[0] == al:  # the content to work on is in the answer's language
                continue
            flags[pos].append(
                Flag(
                    "wrong_language",
                    "noise",
                    "warning",
                    f"the instruction is in {NAMES.get(pl, pl)} but the answer is in "
                    f"{NAMES.get(al, al)}, and the task does not ask for another language",
                )
            )
        result = result_from_flags(samples, flags, fields=fields)
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        langs = Counter(f["answer_language"] for f in result.fields if "answer_language" in f)
        return {**flag_counts(samples, result.flags), "answer_languages": dict(langs.most_common(10))}
