"""Every flag code in one table: what it means, what kind of finding it is, what its ``related`` indices
point at, and how far it may be trusted.

Scorers raise flags with the severity their rule gives (``error`` for a row that is certainly broken,
``warning`` for a likely problem, ``info`` for something worth a look). Before a flag reaches a report it
passes :func:`gate`: a code is raised at ``warning``/``error`` only where its *adjudicated precision* — the
share of its flags that people found right when they read the rows (``bench/flag_verdicts.jsonl``, summed
up by ``bench/flag_precision.py`` into ``scorers/flag_precision.json``) — says it is right nine times in ten.
Between 0.60 and 0.90 it is shown as ``info`` ("worth a look"); below 0.60 it is not raised by default
(the scorer's score and fields still carry the signal). The declared ``ceiling`` of each code below is
checked against the measured figures by ``tests/test_flag_gate.py``: change one, change the other.

The report and curation read ``kind`` and ``related`` from here instead of guessing from a code's name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from scorers.base import SEVERITIES, Flag

#: what kind of finding a code is (the report groups and links rows by it):
#: ``duplicate`` — ``related`` are the other members of a duplicate group (curation keeps the best one);
#: ``conflict`` — ``related`` are rows of this dataset whose answers disagree with this one;
#: ``reference`` — ``related`` are rows of the *reference* set, not of this dataset;
#: ``mismatch`` — ``related`` are rows whose instruction fits this answer better;
#: ``defect`` — the row itself is broken or junk; ``mislabel`` — a metadata label looks wrong;
#: ``check`` — a verifiable check of the answer failed (arithmetic, parsing, an asked format or count);
#: ``style`` — a matter of style (length, readability); ``outlier`` — unusual for its neighbourhood;
#: ``model`` — a model signal; ``service`` — the signal could not be computed for this row.
Kind = Literal[
    "duplicate",
    "conflict",
    "reference",
    "mismatch",
    "defect",
    "mislabel",
    "check",
    "style",
    "outlier",
    "model",
    "service",
]
Ceiling = Literal["error", "warning", "info", "off"]

#: gate thresholds (issue #12): warning/error at ≥ 0.90 pooled precision from at least 10 verdicts (and a Wilson
#: lower bound ≥ 0.75 once 30 verdicts exist), info at ≥ 0.60, not raised below. A code read fewer than 10 times is
#: at most info, however right those few were: 2 of 2 is not "nine times in ten".
RAISE_AT = 0.90
RAISE_MIN_VERDICTS = 10
RAISE_LOWER_BOUND = 0.75
LOWER_BOUND_FROM = 30
INFO_AT = 0.60


@dataclass(frozen=True)
class FlagCode:
    code: str
    scorer: str
    dimension: str
    kind: Kind
    meaning: str
    #: the highest severity this code may be raised at (from its measured precision); ``off`` = not raised.
    ceiling: Ceiling
    #: what the flag's ``related`` indices are (empty: the code never carries related rows).
    related: str = ""
    #: older names of this code, still read in stored reports.
    aliases: tuple[str, ...] = ()


def _c(
    code: str,
    scorer: str,
    dimension: str,
    kind: Kind,
    ceiling: Ceiling,
    meaning: str,
    related: str = "",
    aliases: tuple[str, ...] = (),
) -> FlagCode:
    return FlagCode(code, scorer, dimension, kind, meaning, ceiling, related, aliases)


_N, _Q, _C, _D = "noise", "answer_quality", "consistency", "diversity"
_GROUP = "the other members of its duplicate group (the first member is kept)"

FLAG_CODES: dict[str, FlagCode] = {
    f.code: f
    for f in (
        # --- noise: duplicates ------------------------------------------------------------------------------------
        _c(
            "exact_duplicate",
            "exact_duplicate",
            _N,
            "duplicate",
            "error",
            "the whole conversation repeats an earlier one",
            _GROUP,
        ),
        _c(
            "duplicate_instruction",
            "duplicate_instruction",
            _N,
            "duplicate",
            "warning",
            "the same prompt as an earlier sample, with a different answer",
            _GROUP,
        ),
        _c(
            "duplicate_answer",
            "duplicate_answer",
            _N,
            "duplicate",
            "warning",
            "the same (non-trivial) answer as an earlier sample under a different prompt",
            _GROUP,
        ),
        _c(
            "near_duplicate",
            "near_duplicate",
            _N,
            "duplicate",
            "warning",
            "the prompt nearly repeats another's (MinHash/LSH, verified Jaccard)",
            _GROUP,
        ),
        _c(
            "semantic_duplicate",
            "semantic_duplicate",
            _N,
            "duplicate",
            "warning",
            "the prompt asks the same thing as another's in other words (embeddings)",
            _GROUP,
        ),
        _c(
            "conflicting_answers",
            "conflicting_answers",
            _N,
            "conflict",
            "off",
            "the same prompt has substantially different answers elsewhere",
            "the rows whose answers disagree",
        ),
        # --- noise: the answer does not belong to its prompt --------------------------------------------------------
        _c(
            "mismatched_answer",
            "mismatched_answer",
            _N,
            "mismatch",
            "info",
            "this answer and another sample's look swapped: each fits the other's instruction far better than its own",
            "the row it looks swapped with",
        ),
        _c(
            "wrong_language",
            "wrong_language",
            _N,
            "defect",
            "info",
            "the answer is in another language than the prompt, which did not ask for one",
        ),
        # --- noise: junk and broken answers ---------------------------------------------------------------------------
        _c("empty_answer", "junk_answer", _N, "defect", "error", "the answer is empty", aliases=("answer_missing",)),
        _c(
            "placeholder_answer",
            "junk_answer",
            _N,
            "defect",
            "error",
            "the answer is a placeholder (<nooutput>, N/A, …)",
        ),
        _c(
            "placeholder_input",
            "junk_answer",
            _N,
            "defect",
            "warning",
            "the input is a placeholder left over from generation (<noinput>, No input, …)",
        ),
        _c(
            "unfilled_template",
            "junk_answer",
            _N,
            "defect",
            "warning",
            "template variables left unfilled in the answer ({{name}}, {author}, [Your Name]) where no template was asked",
        ),
        _c("restated_instruction", "junk_answer", _N, "defect", "info", "the answer only repeats the instruction"),
        _c("refusal", "junk_answer", _N, "defect", "error", "the answer opens by refusing a task it could do"),
        _c(
            "ai_boilerplate",
            "junk_answer",
            _N,
            "defect",
            "warning",
            'AI-assistant boilerplate in an answer ("As an AI language model…")',
        ),
        _c(
            "repetition",
            "junk_answer",
            _N,
            "defect",
            "off",
            "the answer degenerates into repeating itself",
            aliases=("repetitive",),
        ),
        _c(
            "truncated_answer",
            "broken_answer",
            _N,
            "defect",
            "error",
            "the answer is cut off",
            aliases=("answer_truncated",),
        ),
        _c(
            "unfinished_answer",
            "answer_ending",
            _N,
            "defect",
            "info",
            "the configured language model reads the answer as stopping mid-sentence (its turn cannot end there)",
        ),
        _c(
            "merged_instructions",
            "broken_answer",
            _N,
            "defect",
            "error",
            "another generated task's text (or a template marker) is inside the answer",
        ),
        _c("control_characters", "text_damage", _N, "defect", "info", "invisible control characters in the text"),
        _c("mojibake", "text_damage", _N, "defect", "info", "text decoded with the wrong encoding"),
        _c("escaped_unicode", "text_damage", _N, "defect", "info", "escape sequences left as text (\\u00e9, \\n)"),
        _c("markup_residue", "text_damage", _N, "defect", "warning", "HTML tags or entities left in prose"),
        _c(
            "unseen_content",
            "unseen_content",
            _N,
            "defect",
            "info",
            "the prompt points to content the model cannot see (a URL, an attached picture)",
        ),
        _c(
            "non_text_output",
            "unseen_content",
            _N,
            "defect",
            "warning",
            "the instruction asks for an image, audio or video",
        ),
        _c(
            "extreme_length",
            "extreme_length",
            _N,
            "outlier",
            "off",
            "a prompt or answer far longer or shorter than the rest of the dataset",
        ),
        _c(
            "label_error",
            "label_error",
            _N,
            "mislabel",
            "off",
            "a metadata label disagrees with the labels of similar samples",
        ),
        # --- answer quality: checks -------------------------------------------------------------------------------------
        _c(
            "answer_off_topic",
            "answer_relevance",
            _Q,
            "defect",
            "off",
            "the answer is less related to its instruction than almost any random pairing",
        ),
        _c("arithmetic_error", "answer_accuracy", _Q, "check", "error", "a computation written in the answer is wrong"),
        _c(
            "final_answer_not_derived",
            "answer_accuracy",
            _Q,
            "check",
            "off",
            "the final number is not the result of any step of the worked solution",
        ),
        _c(
            "wrong_result",
            "answer_accuracy",
            _Q,
            "check",
            "error",
            "the instruction asks for a computation whose result the answer does not state",
        ),
        _c("wrong_conversion", "answer_accuracy", _Q, "check", "info", "a unit conversion asked for is wrong"),
        _c("code_does_not_parse", "answer_accuracy", _Q, "check", "error", "a code block in the answer does not parse"),
        _c(
            "item_count_mismatch",
            "answer_completeness",
            _Q,
            "check",
            "off",
            "the instruction asks for N items and the answer gives another number",
        ),
        _c(
            "too_many_sentences",
            "answer_completeness",
            _Q,
            "check",
            "off",
            "the instruction asks for a number of sentences and the answer has more",
        ),
        _c(
            "word_limit_missed",
            "answer_completeness",
            _Q,
            "check",
            "warning",
            "the answer is over the word or character limit the instruction sets, or a quarter of the length it asks for",
        ),
        _c(
            "format_not_json",
            "answer_completeness",
            _Q,
            "check",
            "off",
            "the instruction asks for JSON; the answer holds none that parses",
        ),
        _c(
            "format_not_table",
            "answer_completeness",
            _Q,
            "check",
            "off",
            "the instruction asks for a table; the answer has none",
        ),
        _c(
            "part_not_addressed",
            "answer_completeness",
            _Q,
            "check",
            "info",
            "a numbered part of the instruction is not addressed",
        ),
        _c(
            "ask_not_addressed",
            "answer_completeness",
            _Q,
            "check",
            "info",
            "one of several joined asks is not addressed",
        ),
        _c(
            "question_not_addressed",
            "answer_completeness",
            _Q,
            "check",
            "off",
            "one of several questions is not addressed",
        ),
        # --- answer quality: style ----------------------------------------------------------------------------------------
        _c(
            "verbose_for_task",
            "answer_conciseness",
            _Q,
            "style",
            "off",
            "the answer is far longer than answers to similar tasks",
        ),
        _c("filler_phrases", "answer_conciseness", _Q, "style", "off", "filler phrases that add nothing"),
        _c("hard_to_read", "answer_clarity", _Q, "style", "off", "long run-on sentences"),
        _c("hedging", "answer_clarity", _Q, "style", "off", "many hedging phrases"),
        _c(
            "broken_formatting",
            "answer_clarity",
            _Q,
            "defect",
            "off",
            "broken markdown (unclosed emphasis, empty list items, …)",
        ),
        # --- answer quality: model signals --------------------------------------------------------------------------------
        _c(
            "instruction_does_not_help",
            "answer_ifd",
            _Q,
            "model",
            "info",
            "the answer is no easier to predict with its instruction than without (IFD ≥ 1)",
        ),
        _c("judge_reply_unparseable", "answer_judge", _Q, "service", "info", "the LLM judge's reply had no rating"),
        _c("judge_request_failed", "answer_judge", _Q, "service", "info", "the LLM judge could not be reached"),
        # --- consistency -------------------------------------------------------------------------------------------------
        _c(
            "inconsistent_answers",
            "answer_agreement",
            _C,
            "conflict",
            "off",
            "asks the same question as another sample, whose answer says something else",
            "the rows asking the same question",
        ),
        _c(
            "cross_language_disagreement",
            "answer_agreement",
            _C,
            "conflict",
            "info",
            "asks the same question as a sample in another language, whose answer says something else",
            "the rows asking the same question",
        ),
        _c(
            "format_inconsistent",
            "format_consistency",
            _C,
            "outlier",
            "off",
            "answers in another format than most of its cluster",
            "examples of the cluster's usual format",
        ),
        _c(
            "answer_length_outlier",
            "format_consistency",
            _C,
            "outlier",
            "off",
            "answer far longer or shorter than usual in its cluster",
            "typical rows of the cluster",
        ),
        _c(
            "contradicts_reference",
            "reference_agreement",
            _C,
            "reference",
            "info",
            "matches a reference question but contradicts its reference answer",
            "the reference-set rows",
        ),
        _c(
            "reference_unclear",
            "reference_agreement",
            _C,
            "reference",
            "info",
            "matches a reference question; its answer neither clearly agrees nor contradicts",
            "the reference-set rows",
        ),
        # --- diversity -----------------------------------------------------------------------------------------------------
        _c(
            "crowded_neighbourhood",
            "semantic_diversity",
            _D,
            "outlier",
            "off",
            "its nearest instructions are very similar: a crowded region of the data",
            "its nearest neighbours",
        ),
    )
}

_ALIASES: dict[str, str] = {a: f.code for f in FLAG_CODES.values() for a in f.aliases}


def canonical(code: str) -> str:
    """The current name of a code (older names from stored reports map to it)."""
    return _ALIASES.get(code, code)


def spec(code: str) -> FlagCode | None:
    return FLAG_CODES.get(canonical(code))


def codes_of_kind(*kinds: str) -> set[str]:
    """Every code (and alias) of these kinds — e.g. the duplicate codes curation groups by."""
    out: set[str] = set()
    for f in FLAG_CODES.values():
        if f.kind in kinds:
            out.add(f.code)
            out.update(f.aliases)
    return out


# --- measured precision ------------------------------------------------------------------------------------------------


def wilson_interval(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sensible at small n and at 0 or 1)."""
    if n == 0:
        return 0.0, 1.0
    p = right / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def ceiling_for(right: int, n: int) -> Ceiling:
    """The highest severity the gate allows for a code with ``right`` of ``n`` verdicts right."""
    if n == 0:
        return "info"  # never seen on the panel: not measured, so not trusted beyond "worth a look"
    p = right / n
    low = wilson_interval(right, n)[0]
    if p >= RAISE_AT and n >= RAISE_MIN_VERDICTS and (n < LOWER_BOUND_FROM or low >= RAISE_LOWER_BOUND):
        return "error"
    if p >= INFO_AT:
        return "info"
    return "off"


@lru_cache(maxsize=1)
def measured() -> dict[str, Any]:
    """``scorers/flag_precision.json``: per code, the pooled verdict counts and per-dataset figures."""
    try:
        text = resources.files("scorers").joinpath("flag_precision.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"codes": {}}
    return json.loads(text)


def precision_of(code: str) -> dict[str, Any] | None:
    """The measured precision of a code as shown to users: ``{precision, low, high, verdicts, ...}``."""
    return measured().get("codes", {}).get(canonical(code), {}).get("pooled")


# --- the gate ----------------------------------------------------------------------------------------------------------

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def gate(flag: Flag) -> Flag | None:
    """The flag as it may be shown: its severity capped at the code's ceiling, or ``None`` when the code is
    not raised by default. Unknown codes (a third-party scorer's) pass unchanged."""
    f = spec(flag.code)
    if f is None:
        return flag
    if f.ceiling == "off":
        return None
    if _RANK[flag.severity] > _RANK[f.ceiling]:
        return replace(flag, severity=f.ceiling)
    return flag


def gate_all(flags: Sequence[Flag]) -> tuple[list[Flag], list[str]]:
    """Gate one sample's flags: (the flags shown, the codes held back)."""
    shown: list[Flag] = []
    held: list[str] = []
    for fl in flags:
        g = gate(fl)
        if g is None:
            held.append(fl.code)
        else:
            shown.append(g)
    return shown, held


def describe(code: str) -> dict[str, Any]:
    """A code's entry for the API and the report: meaning, kind, ceiling and measured precision."""
    f = spec(code)
    if f is None:
        return {"code": code}
    return {
        "code": f.code,
        "scorer": f.scorer,
        "dimension": f.dimension,
        "kind": f.kind,
        "meaning": f.meaning,
        "ceiling": f.ceiling,
        "related": f.related,
        "aliases": list(f.aliases),
        "precision": precision_of(f.code),
    }
