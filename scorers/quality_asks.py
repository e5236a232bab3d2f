"""Answer completeness: does the answer do every checkable thing the instruction asks?

The instruction is read for asks that can be checked without a model — an item count ("list 5",
"three examples", "列出5个"), a length limit ("in 50 words", "one sentence", "不超过100字"), a format
("in JSON", "as a table"), numbered parts, joined asks and several questions (``quality_parts``) —
and the answer is checked for each.  An empty or
placeholder answer, and one cut off mid-sentence, are incomplete whatever the ask.

The per-sample completeness score is ``None`` when nothing could be checked, 1.0 when every ask is
met, else the share of asks met, halved (so any miss scores below 0.5).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers._findings import Findings
from scorers._noise_text import split_input
from scorers.context import ScoringContext
from scorers.quality_parts import AnswerText, addressed, find_asks
from scorers.samples import Sample

DIM = "answer_quality"

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a": 1, "single": 1, "a single": 1}
_ZH = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_N = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
_ITEM_VERBS = r"(?:list|give|name|provide|suggest|generate|write|create|come up with|identify|state|mention|recommend|share|offer|outline|brainstorm|find|propose|compose|make)"
_COUNT_ASK = re.compile(
    rf"\b{_ITEM_VERBS}\s+(?:me\s+|us\s+)?(?:at least\s+|exactly\s+|the\s+|top\s+)?{_N}\s+(?!words?\b|sentences?\b|characters?\b|paragraphs?\b|syllables?\b|lines?\b|times?\b|years?\b|minutes?\b|hours?\b|days?\b|-)((?:[\w'-]+\s+){{0,3}}?[\w'-]+s)\b",
    re.I)
_SENTENCE_ASK = re.compile(rf"\b(?:in|with|using|as|into|write)\s+(?:just\s+|only\s+|exactly\s+)?(a single|a|one|{_N[1:-1]})\s+sentences?\b", re.I)
_ONE_SENTENCE = re.compile(r"\b(?:one|single)[- ]sentence\b", re.I)
_WORD_LIMIT = re.compile(r"\b(?:in|with|of|within|under|below|to|at most|no more than|not more than|fewer than|less than|maximum of|max)\s+"
                         r"(?:(?:at most|no more than|not more than|fewer than|less than|a maximum of|under|about|around|approximately|exactly)\s+)?"
                         r"(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?words?\b(?!\s+(?:long|each)|\s*:)", re.I)
_WORD_LIMIT2 = re.compile(r"\b(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?[- ]words?(?:\s+or\s+(less|fewer))?\b(?!\s*:)", re.I)
_ZH_COUNT = re.compile(r"(?:列出|列举|给出|写出|提供|举出|说出|写|给我)\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|条|种|点|项|句|首|道|件|位|本)")
_ZH_CHAR_LIMIT = re.compile(r"(?:不超过|少于|不多于|以内|之内)?\s*(\d{1,4})\s*(?:个)?字(?:以内|之内)?")
_ZH_ONE_SENTENCE = re.compile(r"一句话")
_JSON_ASK = re.compile(r"\b(?:in|as|into|using|return|output|format(?:ted)?(?: as)?|produce|generate|create|write)\s+(?:a\s+|an\s+|valid\s+)?JSON\b(?!\s+(?:and|or|vs|versus)\b)|JSON格式|以JSON", re.I)
_TABLE_ASK = re.compile(r"\b(?:as|into|in the form of|create|make|construct|generate|build|produce|draw|design)\s+(?:a\s+|an\s+)?(?:\w+\s+)?table\b|\bin (?:a )?table (?:format|form)\b|\btabular\b|表格", re.I)
_PLACEHOLDER = re.compile(r"^\s*(?:<\s*no\s*output\s*>|n/?a|no output|none|null|-+|\.+|无|暂无)\s*\.?\s*$", re.I)
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)、:]|[-*•●◦▪]|[a-z][.)]\s|[（(]\d{1,2}[)）]|[一二三四五六七八九十]+、)\s*\S", re.M | re.I)
_LIST_MARKER_ONLY = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+", re.M)
_SENT_SPLIT = re.compile(r"(?<!\b(?:Mr|Ms|Dr|St|vs|eg|ie|Jr|Sr))(?<!\b[A-Z])(?<!\be\.g)(?<!\bi\.e)[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|[。！？!?]+")


def _num(tok: str) -> int:
    t = tok.lower()
    if t.isdigit():
        return int(t)
    if t in _WORDS:
        return _WORDS[t]
    return sum(_ZH.get(ch, 0) for ch in tok) if tok not in _ZH else _ZH[tok]


AND_MAY_JOIN = " (the last 'and' read as joining two items)"


def count_items(answer: str) -> tuple[int, str] | None:
    """(items, how counted): list markers, else one-item-per-line, else a comma list; ``None`` for prose."""
    markers = _LIST_MARKER.findall(answer)
    if len(re.findall(r"^\s*1[.)]\s", answer, re.M)) > 1 or re.search(r"^\s+[-*•]\s", answer, re.M):
        return None  # nested or restarted lists: top-level items cannot be told apart reliably
    if len(markers) >= 2:
        return len(markers), "list items"
    lines = [ln for ln in answer.strip().splitlines() if ln.strip()]
    if len(lines) >= 2 and all(len(ln.split()) <= 12 for ln in lines):
        return len(lines), "lines"
    if len(lines) == 1 and ("," in lines[0] or "、" in lines[0] or "，" in lines[0]):
        # "and" may join the last two items ("a, b and c"); it never splits a name earlier in the list
        # ("Romeo and Juliet, …"), and in the last item it may be part of a name ("…, The Dragon and the Wolf")
        *head, last = re.split(r",|、|，|;", lines[0].rstrip(".。"))
        parts = [p for p in (*head, *re.split(r"\band\b", last)) if p.strip()]
        if len(parts) >= 2 and all(len(p.split()) <= 6 for p in parts):
            return len(parts), "comma-separated items" + (AND_MAY_JOIN if re.search(r"\S\s+and\s", last) else "")
    if len(lines) == 1 and re.fullmatch(r"[\w' -]+ and [\w' -]+\.?", lines[0]) and len(lines[0].split()) <= 7:
        parts = lines[0].rstrip(".").split(" and ")
        if len(parts) >= 2 and all(len(p.split()) <= 6 for p in parts):
            return len(parts), "items joined by 'and'"
    if len(lines) == 1 and len(lines[0].split()) <= 6:
        return 1, "a single item"
    return None


def count_sentences(text: str) -> int:
    body = re.sub(r"\s+", " ", _LIST_MARKER_ONLY.sub("", text).strip())
    if not body:
        return 0
    return len([p for p in _SENT_SPLIT.split(body) if p and re.search(r"\w", p)])


def count_words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def _extract_json(answer: str) -> str:
    m = re.search(r"```(?:json)?\s*\n(.*?)```", answer, re.S | re.I)
    if m:
        return m.group(1)
    starts = [i for i in (answer.find("{"), answer.find("[")) if i >= 0]
    if not starts:
        return answer
    s = min(starts)
    e = max(answer.rfind("}"), answer.rfind("]"))
    return answer[s : e + 1] if e > s else answer[s:]


def has_table(answer: str) -> bool:
    rows = [ln for ln in answer.splitlines() if ln.count("|") >= 1]
    if len(rows) >= 2 or re.search(r"<table\b", answer, re.I):
        return True
    tabbed = [ln for ln in answer.splitlines() if "\t" in ln.strip() or re.search(r"\S {3,}\S", ln)]
    return len(tabbed) >= 2


_SIGN_OFF = re.compile(r"(?:sincerely|regards|best|thanks|thank you|yours|cheers|best regards|kind regards|warm regards|love|respectfully)\b[^\n]{0,20}$", re.I)


def looks_truncated(answer: str) -> bool:
    a = answer.rstrip()
    if len(a) < 200 or a.endswith("```"):
        return False
    last = a.splitlines()[-1].strip()
    if _LIST_MARKER.match(last) or last.count("|") >= 2 or last.startswith(("#", "<", "}", ")", "]")) or _SIGN_OFF.match(last):
        return False
    return bool(re.search(r"(?:[,;:(\-–]|\b(?:and|or|the|a|an|of|to|with|for|in|that|which|is|are))$", a))


class CompletenessFindings(Findings):
    def fail(self, code: str, severity: str, reason: str) -> None:
        self.checked += 1
        self.failed += 1
        self.flags.append(Flag(code, DIM, severity, reason))


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
    if not answer.strip() or _PLACEHOLDER.match(answer):
        f.fail("answer_missing", "error", "the answer is empty or a placeholder" + (f" ({answer.strip()!r})" if answer.strip() else ""))
        return f
    if looks_truncated(answer):
        f.fail("answer_truncated", "warning", f"the answer stops mid-sentence (ends with {answer.rstrip()[-30:]!r})")
    ins = f"{instruction}\n\n{input_text}" if input_text.strip() else instruction
    m = _COUNT_ASK.search(ins) or None
    want: tuple[int, str] | None = None
    if m:
        want = (_num(m.group(1)), m.group(2))
    else:
        z = _ZH_COUNT.search(ins)
        if z:
            want = (_num(z.group(1)), z.group(0))
    if want and m is not None and re.search(r"\b(?:each|per|every)\b", ins[m.end():m.end() + 60], re.I):
        want = None  # "10 words for each type": the count is per group, not for the whole answer
    if want and want[0] >= 2:
        got = count_items(answer)
        if got is not None:
            f.checked += 1
            fits = want[0] == got[0] or (got[1].endswith(AND_MAY_JOIN) and want[0] == got[0] - 1)
            if not fits and not re.search(r"at least|或更多|以上", ins, re.I) or got[0] < want[0] and not fits:
                f.failed += 1
                f.flags.append(Flag("item_count_mismatch", DIM, "warning",
                                    f"the instruction asks for {want[0]} {want[1]}; the answer gives {got[0]} ({got[1]})"))
    sent = _SENTENCE_ASK.search(ins) or _ONE_SENTENCE.search(ins) or _ZH_ONE_SENTENCE.search(ins)
    if sent:
        n = 1 if sent.re is not _SENTENCE_ASK else _num(sent.group(1))
        if re.match(r"\s*(?:or|to|-)\s*(two|three|four|five|\d)\b", ins[sent.end():], re.I):  # "a sentence or two"
            n = _num(re.match(r"\s*(?:or|to|-)\s*(\w+)", ins[sent.end():]).group(1))
        got_s = count_sentences(answer)
        f.checked += 1
        if got_s > n:
            f.failed += 1
            f.flags.append(Flag("too_many_sentences", DIM, "warning",
                                f"the instruction asks for {n} sentence{'s' if n > 1 else ''}; the answer has {got_s}"))
    wl = _WORD_LIMIT.search(ins) or _WORD_LIMIT2.search(ins)
    if wl:
        lo = int(wl.group(1))
        hi = int(wl.group(2)) if wl.group(2) else lo
        upper_only = bool(re.search(r"at most|no more than|not more than|fewer than|less than|under|within|maximum|max|or less|or fewer",
                                    wl.group(0), re.I))
        words = count_words(answer)
        if hi >= 3:
            f.checked += 1
            too_long = words > hi * 1.25 + 2
            too_short = not upper_only and words < lo * 0.5
            if too_long or too_short:
                f.failed += 1
                f.flags.append(Flag("word_limit_missed", DIM, "warning",
                                    f"the instruction asks for {'at most ' if upper_only else ''}{wl.group(0).strip()}; the answer has {words} words"))
    else:
        zl = _ZH_CHAR_LIMIT.search(ins)
        if zl and re.search(r"不超过|少于|不多于|以内|之内", zl.group(0)):
            limit = int(zl.group(1))
            chars = len(re.sub(r"\s", "", answer))
            f.checked += 1
            if chars > limit * 1.25 + 2:
                f.failed += 1
                f.flags.append(Flag("word_limit_missed", DIM, "warning",
                                    f"the instruction asks for {zl.group(0)}; the answer has {chars} characters"))
    if _JSON_ASK.search(ins):
        f.checked += 1
        try:
            json.loads(_extract_json(answer))
        except ValueError:
            f.failed += 1
            f.flags.append(Flag("format_not_json", DIM, "warning", "the instruction asks for JSON; the answer holds no JSON that parses"))
    if _TABLE_ASK.search(ins) and not re.search(r"\btable of contents\b|\btimetable\b|\bperiodic table\b|\btable (?:tennis|salt)\b", ins, re.I):
        f.checked += 1
        if not has_table(answer):
            f.failed += 1
            f.flags.append(Flag("format_not_table", DIM, "warning", "the instruction asks for a table; the answer has no table (markdown, HTML or aligned columns)"))
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
            what = {"part": f"part {ask.ordinal} ({text!r})", "joined": f"{ask.label}: {text!r}",
                    "question": repr(text)}[ask.kind]
            verb = "asks" if ask.kind == "question" else "asks for"
            words = "no word of it" if ask.kind == "question" else "none of its own words"
            section = f" and no section is numbered {ask.ordinal}" if ask.ordinal is not None else ""
            f.flags.append(Flag(_CODES[ask.kind], DIM, "warning",
                                f"the instruction {verb} {what}; {words} appears in the answer{section}"))


@register
class AnswerCompleteness(Scorer):
    """Completeness: item counts, word and sentence limits, JSON and table formats, every numbered part, joined ask and
    question addressed, empty or cut-off answers."""

    name = "answer_completeness"
    version = "2"
    dimension = "answer_quality"
    Params = ScorerParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags, fields = [], []
        checked = failed = with_checks = 0
        for s in samples:
            head, inp = split_input(s)
            f = check_completeness(head, s.answer, inp)
            flags.append(f.flags)
            fields.append({"answer_completeness": {"score": f.score, "checked": f.checked, "failed": f.failed}})
            checked += f.checked
            failed += f.failed
            with_checks += f.checked > 0
        return ScorerResult(scores=None, flags=flags, fields=fields,
                            summary={"samples_checked": with_checks, "checks": checked, "checks_failed": failed,
                                     "samples_failed": sum(1 for fl in flags if fl)})
