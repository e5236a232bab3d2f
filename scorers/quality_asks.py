"""Answer completeness: does the answer do every checkable thing the instruction asks?

The instruction is read for asks that can be checked without a model — an item count ("list 5",
"three examples", "列出5个"), a length limit ("in 50 words", "one sentence", "不超过100字"), a format
("in JSON", "as a table"), numbered parts, joined asks and several questions (``quality_parts``) —
and the answer is checked for each.  An empty or
placeholder answer, and one cut off mid-sentence, are incomplete whatever the ask: they lower the score here and
are flagged once, by the noise dimension (``empty_answer``, ``placeholder_answer``, ``truncated_answer``).

Lists, sentences, endings and placeholders are read by :mod:`scorers.text`.

The per-sample completeness score is ``None`` when nothing could be checked, 1.0 when every ask is
met, else the share of asks met, halved (so any miss scores below 0.5).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

from scorers._findings import Findings, checks_summary
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.quality_parts import AnswerText, addressed, find_asks
from scorers.samples import Sample
from scorers.text.code import code_blocks
from scorers.text.cues import DATABASE, MATHS, SHORTER_ASKED, TASK_CUE, items_asked
from scorers.text.cues import NUMBER as _N
from scorers.text.cues import number_value as _num
from scorers.text.endings import ending_kind
from scorers.text.lists import TITLES_ASKED, ItemCount
from scorers.text.lists import count_items as _count_items
from scorers.text.placeholders import placeholder_answer
from scorers.text.prompt import split_input
from scorers.text.sentences import count_sentences

DIM = "answer_quality"

# "in one sentence" said of the answer — not "the words in a sentence" (what the answer counts or uses)
_SENTENCE_ASK = re.compile(
    rf"(?<!words )(?<!letters )(?<!characters )(?<!vowels )(?<!word )"
    rf"\b(?:in|with|using|as|into|write)\s+(?:just\s+|only\s+|exactly\s+)?(a single|a|one|{_N[1:-1]})\s+"
    rf"sentences?\b",
    re.I,
)
# "a one-sentence summary", "answer in a single sentence" — not "from this single sentence" (Alpaca row 22452)
_ONE_SENTENCE = re.compile(
    r"\b(?:one|single)[- ]sentence\s+(?:summary|answer|description|explanation|response|"
    r"definition|reply|story|review|pitch|tagline)\b",
    re.I,
)
_WORD_LIMIT = re.compile(
    r"\b(?:in|with|of|within|under|below|to|at most|no more than|not more than|fewer than|less than|maximum of|max)\s+"
    r"(?:(?:at most|no more than|not more than|fewer than|less than|a maximum of|under|about|around|approximately|exactly)\s+)?"
    r"(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?words?\b(?!\s+(?:long|each)|\s*:)",
    re.I,
)
# "a 250-300 word essay", "a 50-word summary", "100 words or less": a length for the piece the answer is
_WORD_LIMIT2 = re.compile(
    r"(?:\b(?:write|compose|create|draft|generate|produce|give|provide|prepare)\s+(?:me\s+|us\s+)?"
    r"(?:a|an)\s+(?:short\s+|brief\s+)?)(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?[- ]words?(?:\s+or\s+(?:less|fewer)\b|\s+(?:long\s+)?"
    r"(?:essay|summary|story|paragraph|response|answer|description|poem|article|review|letter|"
    r"post|bio|biography|speech|text|piece|report|email|abstract|introduction|overview)s?\b)",
    re.I,
)
_ZH_CHAR_LIMIT = re.compile(r"(?:不超过|少于|不多于|以内|之内)?\s*(\d{1,4})\s*(?:个)?字(?:以内|之内)?")
_ZH_ONE_SENTENCE = re.compile(r"一句话")
_JSON_ASK = re.compile(
    r"\b(?:in|as|into|using|return|output|format(?:ted)?(?: as)?|produce|generate|create|write)\s+(?:a\s+|an\s+|valid\s+)?JSON\b(?!\s+(?:and|or|vs|versus)\b)|JSON格式|以JSON",
    re.I,
)
# a table to write — not 表格 alone, which is often a form in translated Chinese (Chinese Alpaca rows 8197, 2482)
_TABLE_ASK = re.compile(
    r"\b(?:as|into|in the form of|create|make|construct|generate|build|produce|draw|design)\s+(?:a\s+|an\s+)?(?:\w+\s+)?table\b|\bin (?:a )?table (?:format|form)\b|\btabular\b|以表格|用表格|表格形式|制作(?:一个|一张)?表格|创建(?:一个|一张)?表格",
    re.I,
)
_NO_TABLE = re.compile(
    r"\b(?:without|no|not|don'?t use|do not use)\s+(?:a\s+)?tables?\b|不要(?:用|使用)?表格|不用表格", re.I
)
#: a maths problem that asks for a list ("List all the ways…") still has an item count to check
LIST_ASKED = re.compile(r"^\W*(?:list|name|give|write|provide|generate|suggest)\b|列出|列举", re.I)


def count_items(answer: str, instruction: str = "") -> ItemCount | None:
    """The items of an answer (:func:`scorers.text.lists.count_items`), inline lists of titles not counted."""
    return _count_items(answer, titles=bool(instruction and TITLES_ASKED.search(instruction)))


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


_WORD = re.compile(r"[\w'’-]+")


def _extract_json(answer: str) -> str:
    blocks = [code for lang, code in code_blocks(answer) if lang in ("json", "")]
    if blocks:
        return blocks[0]
    starts = [i for i in (answer.find("{"), answer.find("[")) if i >= 0]
    if not starts:
        return answer
    s = min(starts)
    e = max(answer.rfind("}"), answer.rfind("]"))
    return answer[s : e + 1] if e > s else answer[s:]


def has_table(answer: str) -> bool:
    answer = html.unescape(answer)  # an entity-escaped HTML table is a table (Chinese Alpaca rows 4737, 8593)
    rows = [ln for ln in answer.splitlines() if ln.count("|") >= 1]
    if len(rows) >= 2 or re.search(r"<table\b", answer, re.I):
        return True
    tabbed = [ln for ln in answer.splitlines() if "\t" in ln.strip() or re.search(r"\S {3,}\S", ln)]
    return len(tabbed) >= 2


class CompletenessFindings(Findings):
    def fail(self, code: str, severity: str, reason: str) -> None:
        self.checked += 1
        self.failed += 1
        self.flags.append(Flag(code, DIM, severity, reason))

    def miss(self) -> None:
        """A failed check whose flag another scorer raises (one idea, one code)."""
        self.checked += 1
        self.failed += 1


def check_completeness(instruction: str, answer: str, input_text: str | None = None) -> CompletenessFindings:
    """Check the answer against every ask of the instruction that can be checked.

    ``instruction`` is the whole user turn when ``input_text`` is ``None`` (the alpaca input, if
    any, is then taken to follow the last blank line); otherwise it is the instruction alone and
    ``input_text`` the input it works on.
    """
    if input_text is None:
        head, sep, tail = instruction.rpartition("\n\n")
        instruction, input_text = (head, tail) if sep and head.strip() else (instruction, "")
    f = CompletenessFindings()
    if not answer.strip() or placeholder_answer(answer):
        f.miss()  # flagged by the noise dimension: empty_answer / placeholder_answer
        return f
    if ending_kind(answer) in ("fence", "strong"):
        f.miss()  # flagged by the noise dimension: truncated_answer
    ins = f"{instruction}\n\n{input_text}" if input_text.strip() else instruction
    if MATHS.search(instruction) and not LIST_ASKED.search(instruction):
        # "He needs to make 25 planks", "a 1000-word paper", "a portable table": numbers and nouns of the story
        _check_asks(f, instruction, input_text, answer)
        return f
    coding = bool(TASK_CUE["coding"].search(instruction))
    want = items_asked(ins)
    if want and want[0] >= 2:
        got = count_items(answer, want[1])
        if got is not None:
            f.checked += 1
            at_least = bool(re.search(r"at least|或更多|以上", ins, re.I))
            if (got.high < want[0]) if at_least else not got.allows(want[0]):
                f.failed += 1
                f.flags.append(
                    Flag(
                        "item_count_mismatch",
                        DIM,
                        "warning",
                        f"the instruction asks for {want[0]} {want[1]}; the answer gives {got} ({got.how})",
                    )
                )
    sent = None if coding else _SENTENCE_ASK.search(ins) or _ONE_SENTENCE.search(ins) or _ZH_ONE_SENTENCE.search(ins)
    if sent:
        n = 1 if sent.re is not _SENTENCE_ASK else _num(sent.group(1))
        if re.match(r"\s*(?:or|to|-)\s*(two|three|four|five|\d)\b", ins[sent.end() :], re.I):  # "a sentence or two"
            n = _num(re.match(r"\s*(?:or|to|-)\s*(\w+)", ins[sent.end() :]).group(1))
        got_s = count_sentences(answer)
        f.checked += 1
        if got_s > n:
            f.failed += 1
            f.flags.append(
                Flag(
                    "too_many_sentences",
                    DIM,
                    "warning",
                    f"the instruction asks for {n} sentence{'s' if n > 1 else ''}; the answer has {got_s}",
                )
            )
    wl = _WORD_LIMIT.search(ins) or _WORD_LIMIT2.search(ins)
    if wl:
        lo = int(wl.group(1))
        hi = int(wl.group(2)) if wl.group(2) else lo
        if re.search(
            r"at least|minimum|no fewer than|no less than|more than", ins[max(0, wl.start() - 20) : wl.end()], re.I
        ):
            hi = 100000  # a minimum ("at least 10 words", Alpaca row 50156): only too short could fail, and is rare
        upper_only = bool(
            re.search(
                r"at most|no more than|not more than|fewer than|less than|under|within|maximum|max|or less|or fewer|up to",
                wl.group(0),
                re.I,
            )
        )
        words = count_words(answer)
        if hi >= 3:
            f.checked += 1
            # over the limit, or a quarter of the length asked for a piece to write: read on the panel, answers at
            # half the length asked were no defect worth a flag ("a 500-word essay" in 223 words, Alpaca 14500), and
            # a summary or a shortening is met by fewer words (a 70-word article summarised in 90 words for "200
            # words", Alpaca 10312; "shorten to 50 words" in 22, Alpaca 28214)
            too_short = not upper_only and words < lo * 0.25 and not SHORTER_ASKED.search(ins)
            if words > hi * 1.25 + 2 or too_short:
                f.failed += 1
                f.flags.append(
                    Flag(
                        "word_limit_missed",
                        DIM,
                        "warning",
                        f"the instruction asks for {'at most ' if upper_only else ''}{wl.group(0).strip()}; the answer has {words} words",
                    )
                )
    else:
        zl = _ZH_CHAR_LIMIT.search(ins)
        if zl and re.search(r"不超过|少于|不多于|以内|之内", zl.group(0)):
            limit = int(zl.group(1))
            chars = len(re.sub(r"\s", "", answer))
            f.checked += 1
            if chars > limit * 1.25 + 2:
                f.failed += 1
                f.flags.append(
                    Flag(
                        "word_limit_missed",
                        DIM,
                        "warning",
                        f"the instruction asks for {zl.group(0)}; the answer has {chars} characters",
                    )
                )
    if _JSON_ASK.search(ins) and not (coding and code_blocks(answer)):  # code that produces the JSON asked for
        f.checked += 1
        try:
            json.loads(_extract_json(answer))
        except ValueError:
            f.failed += 1
            f.flags.append(
                Flag(
                    "format_not_json",
                    DIM,
                    "warning",
                    "the instruction asks for JSON; the answer holds no JSON that parses",
                )
            )
    if (
        _TABLE_ASK.search(ins)
        and not DATABASE.search(ins)
        and not _NO_TABLE.search(ins)
        and not re.search(
            r"\btable of contents\b|\btimetable\b|\bperiodic table\b|\btable (?:tennis|salt)\b", ins, re.I
        )
    ):
        f.checked += 1
        if not has_table(answer):
            f.failed += 1
            f.flags.append(
                Flag(
                    "format_not_table",
                    DIM,
                    "warning",
                    "the instruction asks for a table; the answer has no table (markdown, HTML or aligned columns)",
                )
            )
    _check_asks(f, instruction, input_text, answer)
    return f


_CODES = {"part": "part_not_addressed", "joined": "ask_not_addressed", "question": "question_not_addressed"}


def _check_asks(f: CompletenessFindings, instruction: str, input_text: str, answer: str) -> None:
    """Numbered parts, joined asks and several questions: each one the answer can be seen to address."""
    asks = find_asks(instruction, input_text)
    if not asks:
        return
    if sum(a.kind == "question" for a, _ in asks) < 2:
        asks = [(a, other) for a, other in asks if a.kind != "question"]  # one question is the ask itself
    seen = AnswerText(answer)
    for ask, other in asks:
        ok = addressed(ask, seen, other)
        if ok is None:
            continue
        f.checked += 1
        if not ok:
            f.failed += 1
            text = ask.text if len(ask.text) <= 80 else ask.text[:77] + "…"
            what = {
                "part": f"part {ask.ordinal} ({text!r})",
                "joined": f"{ask.label}: {text!r}",
                "question": repr(text),
            }[ask.kind]
            verb = "asks" if ask.kind == "question" else "asks for"
            words = "no word of it" if ask.kind == "question" else "none of its own words"
            section = f" and no section is numbered {ask.ordinal}" if ask.ordinal is not None else ""
            f.flags.append(
                Flag(
                    _CODES[ask.kind],
                    DIM,
                    "warning",
                    f"the instruction {verb} {what}; {words} appears in the answer{section}",
                )
            )


@register
class AnswerCompleteness(Scorer):
    """Completeness: item counts, word and sentence limits, JSON and table formats, every numbered part, joined ask and
    question addressed, empty or cut-off answers."""

    name = "answer_completeness"
    per_sample = True
    version = "3"
    dimension = "answer_quality"
    Params = ScorerParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags, fields = [], []
        for s in samples:
            head, inp = split_input(s)
            f = check_completeness(head, s.answer, inp)
            flags.append(f.flags)
            fields.append({"answer_completeness": {"score": f.score, "checked": f.checked, "failed": f.failed}})
        result = ScorerResult(scores=None, flags=flags, fields=fields)
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        return checks_summary(result, "answer_completeness")
