"""Broken and junk samples: each problem its own flag code with a reason in plain words.

The catalogue follows what real instruction datasets contain (the Alpaca cleaning effort listed most
of it): empty and placeholder answers/inputs, answers that restate the instruction, refusals and AI
boilerplate, degenerate repetition, truncated answers, merged-instruction artefacts, damaged text
(mojibake, control characters, escaped-unicode and HTML residue), instructions that depend on content
the model cannot see or ask for image/audio output, and extreme lengths.  English and Chinese.

Every check is a regular expression or a count: this family needs no model and runs on every upload.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from pydantic import Field

from scorers._noise_text import result_from_flags, sample_cut, verse_asked
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, flag_counts, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text import cues, damage, placeholders, refusals, repetition
from scorers.text.code import calls_a_tool, strip_code
from scorers.text.endings import (
    closes_sentences,
    ending_kind,
    ends_punctuated,
    final_fragment,
    fragment_size,
)
from scorers.text.prompt import has_answer_turn, split_input
from scorers.text.rules import Rule, Seen, first
from scorers.text.script import jaccard, normalise_strict, token_set
from scorers.text.sentences import median_sentence_size
from scorers.text.templates import template_artefact

D = "noise"


class JunkAnswerParams(ScorerParams):
    repetition_threshold: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description=(
            "Share of an answer's 4-word (CJK: 8-character) sequences that repeat earlier ones, above which the "
            "answer is degenerate repetition."
        ),
    )
    repetition_min_units: int = Field(
        30, ge=5, description="Answers shorter than this many words are not checked for repetition."
    )
    safety_set_min_share: float = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description=(
            "When at least this share of a dataset's prompts ask for something harmful, it is a safety or "
            "red-teaming set and its refusals are its lesson: `refusal` is not raised on it (HH-RLHF harmless-base: "
            "7.4% of prompts; the nine other panel sets: 0.6% or less; of 15 refusal flags read on HH-RLHF, 10 "
            "declined a harmful request the cue table did not name)."
        ),
    )
    safety_set_min_count: int = Field(
        10,
        ge=1,
        description="…and at least this many prompts ask for harm (one harmful ask in 20 rows is no safety set).",
    )


@register
class JunkAnswer(Scorer):
    """Empty or placeholder answers and inputs, unfilled template variables, restated instructions, refusals, AI
    boilerplate, repetition."""

    name = "junk_answer"
    version = "4"
    dimension = D
    Params = JunkAnswerParams
    per_sample = True  # once for_chunks has settled whether the whole dataset is a safety set

    def settle(self, samples: Sequence[Sample]) -> tuple[float, bool]:
        """(share of the prompts that ask for harm, whether that makes the dataset a safety set)."""
        asked = [s for s in samples if not s.is_plain_text]
        harmful = sum(1 for s in asked if cues.harmful_ask(s.prompt_text) is not None)
        share = harmful / len(asked) if asked else 0.0
        params = cast(JunkAnswerParams, self.params)
        return share, harmful >= params.safety_set_min_count and share >= params.safety_set_min_share

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags: list[list[Flag]] = [[] for _ in samples]
        applies = [not s.is_plain_text for s in samples]
        fact = self.facts(samples)
        _, safety_set = fact
        for pos, s in enumerate(samples):
            if s.is_plain_text:
                continue
            flags[pos] = self.check(s, safety_set=safety_set)
        return result_from_flags(samples, flags, self._fact_summary(fact), applies=applies)

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        return {**flag_counts(samples, result.flags), **self._fact_summary(self.facts(samples))}

    @staticmethod
    def _fact_summary(fact: tuple[float, bool]) -> dict[str, Any]:
        share, safety_set = fact
        return {"harmful_prompt_share": round(share, 4), "safety_set": safety_set}

    def check(self, s: Sample, *, safety_set: bool = False) -> list[Flag]:
        """The flags of one sample.  ``safety_set``: the dataset teaches refusals (no ``refusal`` flag)."""
        out: list[Flag] = []
        ans = s.answer
        head, inp = split_input(s)
        a = ans.strip().strip("\u200b\ufeff")
        if not has_answer_turn(s) or not a:
            out.append(Flag("empty_answer", D, "error", "the answer is empty"))
        elif placeholders.placeholder_answer(a):
            out.append(
                Flag("placeholder_answer", D, "error", f"the answer is a placeholder ({a[:30]!r}), not an answer")
            )
        if inp and placeholders.placeholder_input(inp):
            out.append(
                Flag(
                    "placeholder_input",
                    D,
                    "warning",
                    f"the input is a placeholder ({inp.strip()[:30]!r}) left over from generation; "
                    "drop it or give real content",
                )
            )
        if not a or out and out[0].code == "placeholder_answer":
            return out
        left = placeholders.unfilled_templates(a, s.prompt_text)
        if left:
            out.append(
                Flag(
                    "unfilled_template",
                    D,
                    "warning",
                    f"template variables were left unfilled in the answer ({', '.join(left[:3])}); the "
                    "instruction did not ask for a template",
                )
            )
        asked_to_repeat = bool(cues.REPEAT_ASKED.search(s.prompt_text))
        na, nh = normalise_strict(a), normalise_strict(head)
        if (
            nh
            and not asked_to_repeat
            and (
                na == nh
                or na == normalise_strict(s.instruction)
                or (
                    0.9 * len(nh) <= len(na) <= 1.05 * len(nh)
                    and len(na.split()) >= 3
                    and jaccard(token_set(a), token_set(head)) >= 0.95
                )
            )
        ):
            out.append(
                Flag(
                    "restated_instruction",
                    D,
                    "warning",
                    "the answer only repeats the instruction instead of answering it",
                )
            )
        # refusing a harmful request is the lesson; "who are you?" is answered by "I am an AI…"
        if refusals.refuses(a, s.prompt_text, head) and not safety_set:
            out.append(
                Flag(
                    "refusal",
                    D,
                    "error" if len(a) < 300 else "warning",
                    "the answer refuses or says the task cannot be done (teaches the model to refuse)",
                )
            )
        elif refusals.boilerplate(a, s.prompt_text, head):
            out.append(
                Flag(
                    "ai_boilerplate",
                    D,
                    "warning",
                    "the answer contains AI-assistant boilerplate (\u201cas an AI language model\u2026\u201d)",
                )
            )
        rep = repetition.degenerate(
            a, head, threshold=self.params.repetition_threshold, min_units=self.params.repetition_min_units
        )
        if rep is not None and not asked_to_repeat:
            out.append(
                Flag("repetition", D, "warning", f"the answer repeats itself: {rep.describe()} (degenerate repetition)")
            )
        return out


# --- truncation and merged instructions ----------------------------------------------------------
class BrokenAnswerParams(ScorerParams):
    style_min_samples: int = Field(
        50,
        ge=1,
        description=(
            "From this many long answers (multi-sentence answers for the sentence check) up, the dataset's own "
            "style decides whether an ending without punctuation counts as truncated."
        ),
    )
    style_max_rate: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description=(
            "Prose that stops without final punctuation counts as truncated only when at most this share of the "
            "dataset's long answers (40+ characters) end without punctuation at all (human-written sets such "
            "as Dolly often do, and there a missing full stop alone says nothing)."
        ),
    )
    sentence_max_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description=(
            "Otherwise (a dataset whose writers often leave the final full stop out) a last sentence left without "
            "its full stop after finished sentences counts only when at most this share of the dataset's "
            "multi-sentence answers end that way, and only when it is shorter than the dataset's median sentence. "
            "Off by default: read by hand, 15 of 18 such flags on Dolly were complete answers that only lacked "
            "their full stop (issue #12); there only strong signs (a comma, an open bracket, a function word…) count."
        ),
    )


@register
class BrokenAnswer(Scorer):
    """Truncated answers (cut mid-sentence or mid-code-block) and merged-instruction artefacts."""

    name = "broken_answer"
    version = "5"
    dimension = D
    Params = BrokenAnswerParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        answers = ctx.texts("answer")
        verse = [verse_asked(s) for s in samples]  # a poem or song needs no full stop
        kinds = ["ok" if s.is_plain_text else ending_kind(a, verse=v) for s, a, v in zip(samples, answers, verse)]
        style = self._style(samples, answers, kinds)
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, Any]] = [{} for _ in samples]
        for pos, (s, a, kind) in enumerate(zip(samples, answers, kinds)):
            if s.is_plain_text:
                continue
            tail = a.rstrip()[-40:].replace("\n", " ")
            # raised only on a certain cut: the style-based readings of a missing full stop were right on a fifth
            # of the real rows people read (docs/flag-precision.md); they stay a field, not a flag
            cut = sample_cut(s, a, verse=verse[pos])
            if cut is not None:
                flags[pos].append(
                    Flag(
                        "truncated_answer",
                        D,
                        "error" if cut.name == "open code block" else "warning",
                        f"the answer stops where no text can end ({cut.name}: \u2026{tail!r})",
                    )
                )
            elif (
                kind == "strong"
                or (kind == "weak" and style["unpunctuated_prose_counts_as_truncated"])
                or (kind == "unclosed" and self._unclosed_counts(a, style, answers))
            ):
                fields[pos]["ending"] = "possibly cut"
            m = template_artefact(a, split_input(s)[0])
            if m:
                flags[pos].append(
                    Flag(
                        "merged_instructions",
                        D,
                        "error",
                        f"the answer contains another task's text ({m.group(0).strip()[:40]!r}): "
                        "generated instructions were merged into it",
                    )
                )
        applies = [not s.is_plain_text for s in samples]
        style["possibly_cut"] = sum(1 for f in fields if f)
        return result_from_flags(samples, flags, style, fields, applies=applies)

    def _style(self, samples: Sequence[Sample], answers: Sequence[str], kinds: Sequence[str]) -> dict[str, Any]:
        """How the dataset's writers end their answers, which decides what a missing full stop means."""
        p = self.params
        long_answers = [a.rstrip() for a in answers if len(a.strip()) >= 40]
        weak_rate = sum(1 for a in long_answers if not ends_punctuated(a)) / len(long_answers) if long_answers else 0.0
        trust_weak = len(long_answers) >= p.style_min_samples and weak_rate <= p.style_max_rate
        # multi-sentence answers: do they close their last sentence? (those cut on a comma or "the" say
        # nothing of the writers' habit)
        multi = [
            c
            for s, a, k in zip(samples, answers, kinds)
            if not s.is_plain_text and k not in ("strong", "fence") and (c := closes_sentences(a)) is not None
        ]
        closed_rate = sum(multi) / len(multi) if multi else 1.0
        trust_multi = len(multi) >= p.style_min_samples and 1 - closed_rate <= p.sentence_max_rate
        return {
            "unpunctuated_prose_rate": weak_rate,
            "unpunctuated_prose_counts_as_truncated": trust_weak,
            "multi_sentence_answers": len(multi),
            "multi_sentence_closed_rate": closed_rate,
            "unclosed_sentence_counts_as_truncated": (
                "always" if trust_weak else "when shorter than the median sentence" if trust_multi else "never"
            ),
        }

    @staticmethod
    def _unclosed_counts(answer: str, style: dict[str, Any], answers: Sequence[str]) -> bool:
        rule = style["unclosed_sentence_counts_as_truncated"]
        if rule != "when shorter than the median sentence":
            return rule == "always"
        if "median_sentence_size" not in style:  # computed once, and only for datasets that need it
            style["median_sentence_size"] = median_sentence_size(answers)
        return fragment_size(final_fragment(answer)) < style["median_sentence_size"]


# --- damaged text ---------------------------------------------------------------------------------
@register
class TextDamage(Scorer):
    """Mojibake, control characters, escaped-unicode residue and HTML residue anywhere in a sample."""

    name = "text_damage"
    per_sample = True
    version = "3"
    dimension = D

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags = [self.check(s) for s in samples]
        return result_from_flags(samples, flags)

    def check(self, s: Sample) -> list[Flag]:
        out: list[Flag] = []
        parts = ([("system prompt", s.system)] if s.system else []) + [
            ("answer" if t.role == "assistant" else t.role + " turn", t.content) for t in s.turns
        ]
        where_ctrl = sorted({w for w, t in parts if damage.control_characters(t)})
        if where_ctrl:
            chars = Counter(c for _, t in parts for c in damage.control_characters(t))
            shown = ", ".join(f"U+{ord(c):04X}" for c, _ in chars.most_common(3))
            out.append(
                Flag(
                    "control_characters",
                    D,
                    "error",
                    f"invisible control characters ({shown}) in the {' and '.join(where_ctrl)}",
                )
            )
        where_moji = sorted({w for w, t in parts if damage.mojibake(t)})
        if where_moji:
            out.append(
                Flag(
                    "mojibake",
                    D,
                    "warning",
                    f"garbled characters from a wrong text encoding (mojibake) in the {' and '.join(where_moji)}",
                )
            )
        # a prompt about code or markup (a React component, a template, bold text) shows tags and escapes on
        # purpose, and so does an answer that presents markup as such ("use the CSS property…"); entities
        # (&lt;head&gt;) are escaping damage unless escaping is the subject
        about_markup = bool(
            cues.ABOUT_CODE_OR_MARKUP.search(s.prompt_text) or cues.TASK_CUE["coding"].search(s.prompt_text)
        )
        if not about_markup:
            where_esc = sorted({w for w, t in parts if damage.escaped(strip_code(t))})
            if where_esc:
                out.append(
                    Flag(
                        "escaped_unicode",
                        D,
                        "warning",
                        f"escape sequences (\\u…, \\x…, \\n) left in the text of the {' and '.join(where_esc)} "
                        "instead of the characters they stand for",
                    )
                )
        entities_only = about_markup or bool(damage.MARKUP_TALK.search(strip_code(s.answer)))
        if not damage.ABOUT_ESCAPING.search(s.prompt_text):
            where_html = sorted(
                {
                    w
                    for w, t in parts
                    if not (w == "answer" and damage.markup_document(t))  # a page or form presented as such
                    and damage.markup(
                        # an <img src=…> in the prompt gives the picture (unseen content, not residue)
                        strip_code(t) if w == "answer" else damage.without_media(strip_code(t)),
                        entities_only=entities_only,
                    )
                }
            )
            if where_html:
                out.append(
                    Flag(
                        "markup_residue",
                        D,
                        "warning",
                        f"HTML tags or entities left in the {' and '.join(where_html)} (scraping residue)",
                    )
                )
        return out


# --- unseen content, non-text output --------------------------------------------------------------
_URL = re.compile(r"https?://\S+|\bwww\.[\w-]+\.\w+", re.I)
_URL_TASK = re.compile(
    r"\b(?:url|urls|domain|hyperlink)\b.*\b(?:extract|pars|valid|shorten|regex|protocol|format|"
    r"convert|encod|decod|split|component|structure)|\b(?:extract|pars|valid|shorten|regex|"
    r"protocol|convert|encod|decod|split)\w*\b.*\b(?:url|urls|domain|hyperlink)\b",
    re.I,
)
#: a URL handed to a tool or written into code is an operand: the model need not read the page
URL_AS_OPERAND = Rule(
    "a URL for a tool or a program",
    re.compile(
        r"\b(?:curl|wget|ping|ajax|api|endpoint|(?:get|post|http) request|request to|git clone|command)\b", re.I
    ),
    "a URL that the answer passes to a tool ('shell(\"ping -c 4 www.google.com\")') or that a program, a command or "
    "a request asked for uses ('a cURL statement to send a POST request to https://…') is a parameter, not a page "
    "the answer must be grounded in",
    Seen("codealpaca/code_alpaca_2k.json", 277, "Write a cURL statement to send a POST request"),
)


def _url_operand(s: Sample, head: str) -> bool:
    """The prompt's URL is an operand (:data:`URL_AS_OPERAND`): the answer calls a tool, or the prompt asks for a
    command or a request (an answer that only looks like code is not enough: a markdown image link does)."""
    return calls_a_tool(s.answer) or URL_AS_OPERAND.search(head) is not None


_MEDIA_REF = re.compile(
    r"\b(?:the|this|these|following|given|attached|above|below|provided|accompanying|enclosed)\s+"
    r"(?:attached\s+|following\s+|given\s+|provided\s+)?(?:image|images|picture|pictures|photo|photos|photograph|"
    r"photographs|video|videos|audio|audio clip|recording|sound clip|screenshot|diagram|painting|drawing)\b"
    r"|(?:这|该|以下|下面|下列|附上的|所附的?|给定的|上面的|上述)(?:张|个|段|幅|份)?(?:图片|照片|图像|视频|音频|录音|截图|图画)",
    re.I,
)
_TEXT_REF = re.compile(
    r"\b(?:this|these|following|given|attached|above|below|provided|accompanying|enclosed|"
    r"the (?:attached|following|given|provided|above|below))\s+"
    r"(?:article|articles|passage|text|paragraph|document|essay|story|poem|email|letter|table|dataset|data set|"
    r"file|spreadsheet|report|transcript|excerpt|link|website|webpage|web page|blog post|speech|book chapter|"
    r"chart|graph)\b"
    r"|(?:这|该|以下|下面|下列|附上的|所附的?|给定的|上面的|上述)(?:篇|个|段|份|首|封)?(?:文章|段落|文本|文件|表格|邮件|链接|网页|报告|诗|故事)",
    re.I,
)
_NON_TEXT = re.compile(
    r"^\W*(?:please\s+)?(?:draw|paint|sketch|illustrate(?![^.?!\n]*\b(?:example|how|why|concept|idea|point|"
    r"difference|meaning|importance|use|principle)s?\b)|photograph|film|sing|record)\b"
    r"|\b(?:draw|paint|sketch)\s+(?:a|an|me|the|your|some|one|two|three)\b"
    r"|\b(?:design|create|make|generate|produce|render|draw|build)\s+(?:me\s+)?(?:a|an|the|your own|some|one)?\s*"
    r"(?:[\w-]+\s+){0,3}?(?:logo|image|picture|photo|photograph|drawing|painting|illustration|poster|infographic|"
    r"meme|icon|banner|flyer|cartoon|comic strip|animation|video|audio clip|sound effect|recording|jingle|"
    r"artwork|collage|mural|sculpture|3d model)s?\b"
    r"|(?:^|请|帮我|给我|为我)\s*(?:画|绘制|绘画|手绘|素描)(?:一|出|个|张|幅)|设计(?:一个|一款|一张|一幅)?(?:标志|logo|海报|图标|插图)"
    # "创建照片说明" asks for a caption (a text), not a photo (Chinese Alpaca rows 7362, 7570)
    r"|(?:生成|创作|制作|创建|拍)(?:一张|一幅|一个|一段|摄)?(?:图片|图像|照片|插画|海报|视频|音频|动画|录音)"
    r"(?!的?(?:说明|描述|标题|文字|配文|字幕|脚本|文案))",
    re.I,
)


def _has_content(head: str, inp: str, ref_end: int) -> bool:
    """Whether the prompt carries the content an instruction points to (an input, or text after it)."""
    if inp.strip():
        return True
    rest = head[ref_end:]
    return bool(re.search(r"[:：\"“「'\n]", rest)) or len(rest.strip()) > 80


_IMAGE_LINK = re.compile(r"!\[[^\]]*\]\([^)]*\)?|https?://\S+|\S+\.(?:png|jpe?g|gif|svg|mp3|mp4|wav)\b", re.I)


def _media_named(head: str, inp: str, ref_end: int) -> bool:
    """Whether a referred picture or painting is named or described in words ("the painting Mona Lisa",
    an input "Van Gogh's The Starry Night", "a dog asleep in the sun"): then it needs no eyes."""
    if inp.strip() and len(_IMAGE_LINK.sub("", inp).strip()) >= 3 and not placeholders.placeholder_input(inp):
        return True
    return bool(
        re.match(r"\s+(?:of\s+|by\s+|called\s+|titled\s+|named\s+)?[\"“'‘]?[A-Z《「“]", head[ref_end:])
    ) or bool(re.match(r"\s*[《「“\"]", head[ref_end:]))


def _only_pointer(head: str, inp: str) -> bool:
    """Whether a prompt with a URL gives little else to go on (a short instruction, an input that is
    mostly the URL) — a long question that merely cites a link is answerable."""
    if inp.strip():
        return len(_URL.sub("", inp).strip()) < 80
    return len(_URL.sub("", head).strip()) < 300


#: prompts whose pointers and pictures are not content the answer needed to see (read on the instruction)
CONTENT_NOT_NEEDED: tuple[Rule, ...] = (
    Rule(
        "coding task: pointers are data",
        cues.TASK_CUE["coding"],
        "a coding task: a URL, a web page or an email is what the code works on (a curl target, a page to parse)",
        Seen("codealpaca/code_alpaca_2k.json", 1959, "Write a Python program to parse a given web page"),
    ),
    Rule(
        "a fetching tool is declared",
        re.compile(r"\b(?:request|browse|fetch|open_url|get_url|scrape)\((?:url|link|query)?\)"),
        "the prompt declares a tool that fetches pages (request(url)): fetching the URL is the task",
        Seen("gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 6163, "request(url)"),
    ),
    Rule(
        "maths problem: story nouns",
        cues.MATHS.pattern,
        "a maths problem: a photo album, a painting or a video card are part of the story",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 7271, "how many photos"),
    ),
)


@register
class UnseenContent(Scorer):
    """Instructions that point to content the model cannot see (URLs, attachments) or ask for images/audio."""

    name = "unseen_content"
    per_sample = True
    version = "3"
    dimension = D

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags: list[list[Flag]] = [[] for _ in samples]
        for pos, s in enumerate(samples):
            if s.is_plain_text:
                continue
            flags[pos] = self.check(s)
        return result_from_flags(samples, flags, applies=[not s.is_plain_text for s in samples])

    def check(self, s: Sample) -> list[Flag]:
        out: list[Flag] = []
        head, inp = split_input(s)
        exempt = first(CONTENT_NOT_NEEDED, head)
        # only the user's own last turn points: URLs the assistant wrote and earlier turns are not pointers
        url = _URL.search(s.instruction) if exempt is None else None
        media = _MEDIA_REF.search(head) if exempt is None and not s.history else None
        text_ref = _TEXT_REF.search(head) if exempt is None and not s.history else None
        if url and not _URL_TASK.search(head) and _only_pointer(head, inp) and not _url_operand(s, head):
            out.append(
                Flag(
                    "unseen_content",
                    D,
                    "warning",
                    f"the prompt points to a web page ({url.group(0)[:60]}) the model cannot open, so the "
                    "answer cannot be grounded in it",
                )
            )
        elif media and len(head) < 300 and not _media_named(head, inp, media.end()):
            out.append(
                Flag(
                    "unseen_content",
                    D,
                    "warning",
                    f"the instruction refers to {media.group(0)!r}, which a text-only model cannot see",
                )
            )
        elif (
            text_ref
            and not _has_content(head, inp, text_ref.end())
            and not (cues.DATABASE.search(head) and text_ref.group(0).lower().endswith("table"))
        ):
            out.append(
                Flag(
                    "unseen_content",
                    D,
                    "warning",
                    f"the instruction refers to {text_ref.group(0)!r} but no such content is given",
                )
            )
        m = _NON_TEXT.search(head) if exempt is None else None
        if m:
            out.append(
                Flag(
                    "non_text_output",
                    D,
                    "warning",
                    f"the instruction asks for an image, audio or video ({m.group(0).strip()!r}), which "
                    "a text answer cannot deliver",
                )
            )
        return out


# --- extreme lengths --------------------------------------------------------------------------------
class ExtremeLengthParams(ScorerParams):
    z: float = Field(
        5.0,
        gt=0.0,
        description="Robust z-score of log length (median / MAD) beyond which a length is extreme for this dataset.",
    )
    min_samples: int = Field(
        30, ge=3, description="Smaller datasets have no reliable length distribution: nothing is flagged."
    )


@register
class ExtremeLength(Scorer):
    """Prompts or answers far longer or shorter than the rest of the dataset (robust z-score of log length)."""

    name = "extreme_length"
    version = "1"
    dimension = D
    Params = ExtremeLengthParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags: list[list[Flag]] = [[] for _ in samples]
        summary: dict[str, object] = {}
        if len(samples) >= self.params.min_samples:
            for view, label in (("prompt", "prompt"), ("answer", "answer")):
                lengths = np.array([len(t) for t in ctx.texts(view)], dtype=np.float64)
                mask = lengths > 0
                if mask.sum() < self.params.min_samples:
                    continue
                logs = np.log1p(lengths)
                med = float(np.median(logs[mask]))
                # floor: a dataset of near-identical lengths must not flag every small difference
                mad = max(float(np.median(np.abs(logs[mask] - med))) * 1.4826, 0.25)
                lo, hi = math.expm1(med - self.params.z * mad), math.expm1(med + self.params.z * mad)
                summary[f"{label}_chars_normal_range"] = [round(max(lo, 0.0), 1), round(hi, 1)]
                for pos in np.flatnonzero(mask & ((logs - med) / mad > self.params.z)):
                    flags[pos].append(
                        Flag(
                            "extreme_length",
                            D,
                            "info",
                            f"the {label} is {int(lengths[pos])} characters, far longer than is usual "
                            f"in this dataset (typical: up to {int(hi)})",
                        )
                    )
                for pos in np.flatnonzero(mask & ((logs - med) / mad < -self.params.z)):
                    if samples[pos].is_plain_text and label == "answer":
                        continue
                    flags[pos].append(
                        Flag(
                            "extreme_length",
                            D,
                            "info",
                            f"the {label} is {int(lengths[pos])} characters, far shorter than is usual "
                            f"in this dataset (typical: at least {int(lo)})",
                        )
                    )
        else:
            summary["reason"] = f"fewer than {self.params.min_samples} samples: no length distribution to compare with"
        return result_from_flags(samples, flags, summary)
