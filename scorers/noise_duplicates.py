"""Duplicates at every level: exact (sample, instruction, answer), near (MinHash + LSH), conflicting.

Exact matching is on :func:`~scorers.text.script.normalise_strict` text (NFKC, case, whitespace and
punctuation ignored).  In every duplicate group the first sample (lowest position) is the one kept;
the others are flagged with ``related`` = the rest of the group, so each count traces back to rows.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from scorers._minhash import near_duplicates
from scorers._noise_text import result_from_flags
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.code import looks_like_code
from scorers.text.cues import MATHS, TASK_CUE
from scorers.text.numbers import (
    adds_a_clause,
    final_number,
    narrows_by_name,
    numbers,
    quoted,
    same_content,
    same_formulas,
    same_names,
    same_numbers,
    same_quotes,
    same_subject,
    same_time,
)
from scorers.text.prompt import split_input, template_lines, without_fillers, without_template
from scorers.text.script import jaccard, normalise_for_match, normalise_strict, token_set, units


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _key(text: str) -> str:
    return normalise_strict(text) + "\x01" + "\x01".join(quoted(text))


def sample_key(s: Sample) -> bytes:
    parts = [_key(s.system or "")] + [f"{t.role}:{_key(t.content)}" for t in s.turns]
    return _digest("\x00".join(parts))


def prompt_key(s: Sample) -> str:
    return _key(s.prompt_text)


def _sample_keys(samples: Sequence[Sample], ctx: ScoringContext) -> list[bytes]:
    return ctx.memo("noise:sample_keys", lambda: [sample_key(s) for s in samples])


def _prompt_keys(samples: Sequence[Sample], ctx: ScoringContext) -> list[str]:
    return ctx.memo("noise:prompt_keys", lambda: [prompt_key(s) for s in samples])


def _groups(keys: Sequence[Any], skip: Sequence[bool] | None = None) -> list[list[int]]:
    by_key: dict[Any, list[int]] = defaultdict(list)
    for pos, k in enumerate(keys):
        if skip is None or not skip[pos]:
            by_key[k].append(pos)
    return sorted((g for g in by_key.values() if len(g) > 1), key=lambda g: g[0])


def _dup_summary(samples: Sequence[Sample], groups: list[list[int]], flagged: int) -> dict[str, Any]:
    n = len(samples)
    return {
        "groups": len(groups),
        "redundant_samples": flagged,
        "duplicate_rate": flagged / n if n else 0.0,
        "largest_groups": [[samples[p].index for p in g] for g in sorted(groups, key=len, reverse=True)[:5]],
    }


@register
class ExactDuplicate(Scorer):
    """Samples whose whole conversation repeats another's exactly (ignoring case, spaces, punctuation)."""

    name = "exact_duplicate"
    version = "3"
    dimension = "noise"

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        groups = _groups(_sample_keys(samples, ctx))
        flags: list[list[Flag]] = [[] for _ in samples]
        for g in groups:
            first = samples[g[0]].index
            for pos in g[1:]:
                others = tuple(samples[p].index for p in g if p != pos)
                flags[pos].append(
                    Flag(
                        "exact_duplicate",
                        "noise",
                        "error",
                        f"repeats sample {first} exactly (same turns once case, spaces and "
                        "punctuation are ignored); keep one copy",
                        others,
                    )
                )
        redundant = sum(len(g) - 1 for g in groups)
        return result_from_flags(samples, flags, _dup_summary(samples, groups, redundant))


@register
class DuplicateInstruction(Scorer):
    """Samples that ask exactly the same thing as an earlier sample (the whole prompt, normalised)."""

    name = "duplicate_instruction"
    version = "2"
    dimension = "noise"

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        pkeys = _prompt_keys(samples, ctx)
        skeys = _sample_keys(samples, ctx)
        groups = _groups(pkeys, skip=[not k for k in pkeys])
        flags: list[list[Flag]] = [[] for _ in samples]
        for g in groups:
            seen = {skeys[g[0]]}
            for pos in g[1:]:
                if skeys[pos] in seen:  # a whole-sample copy: exact_duplicate reports it
                    continue
                seen.add(skeys[pos])
                others = tuple(samples[p].index for p in g if p != pos)
                flags[pos].append(
                    Flag(
                        "duplicate_instruction",
                        "noise",
                        "warning",
                        f"asks exactly what sample {samples[g[0]].index} asks, with a different answer",
                        others,
                    )
                )
        flagged = sum(1 for f in flags if f)
        return result_from_flags(samples, flags, _dup_summary(samples, groups, flagged))


class DuplicateAnswerParams(ScorerParams):
    min_chars: int = Field(
        20,
        ge=1,
        description="Answers shorter than this (normalised) are not compared: "
        "short labels such as 'Positive' repeat legitimately.",
    )
    min_words: int = Field(
        12,
        ge=1,
        description=(
            "Answers of fewer words (CJK: characters / 3) are not compared either: two questions may share a short "
            "true answer ('James Buchanan, the 15th President of the United States.', Dolly row 2253) and stock "
            "one-line replies are not copied answers."
        ),
    )


@register
class DuplicateAnswer(Scorer):
    """Samples whose answer repeats another sample's answer under a different instruction."""

    name = "duplicate_answer"
    version = "2"
    dimension = "noise"
    Params = DuplicateAnswerParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        answers = ctx.texts("answer")
        # code keeps its symbols: ">=" and ">" are other programs (Code Alpaca rows 1624, 1614)
        akeys = [normalise_for_match(a) if looks_like_code(a) else normalise_strict(a) for a in answers]
        pkeys = _prompt_keys(samples, ctx)

        def short(a: str, key: str) -> bool:
            toks, cjk = units(a)
            return len(key) < self.params.min_chars or len(toks) < self.params.min_words * (3 if cjk else 1)

        short_ = [s.is_plain_text or short(a, k) for a, k, s in zip(answers, akeys, samples)]
        groups = _groups(akeys, skip=short_)
        flags: list[list[Flag]] = [[] for _ in samples]
        for g in groups:
            seen = {pkeys[g[0]]}
            for pos in g[1:]:
                if pkeys[pos] in seen:  # same prompt too: a whole-sample duplicate
                    continue
                seen.add(pkeys[pos])
                others = tuple(samples[p].index for p in g if p != pos)
                flags[pos].append(
                    Flag(
                        "duplicate_answer",
                        "noise",
                        "warning",
                        f"gives exactly the answer of sample {samples[g[0]].index} to a different instruction",
                        others,
                    )
                )
        flagged = sum(1 for f in flags if f)
        return result_from_flags(samples, flags, _dup_summary(samples, groups, flagged))


class NearDuplicateParams(ScorerParams):
    threshold: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description="Jaccard similarity of the prompts' shingle sets "
        "at or above which two samples are near duplicates.",
    )
    num_perm: int = Field(128, ge=16, le=512, description="MinHash permutations.")
    word_ngram: int = Field(5, ge=1, le=10, description="Word n-gram size for spaced languages (long prompts).")
    cjk_ngram: int = Field(3, ge=1, le=10, description="Character n-gram size for Chinese/Japanese (long prompts).")
    short_ngram: int = Field(
        2,
        ge=1,
        le=5,
        description="n-gram size for prompts under long_from units (so short templated prompts are still compared).",
    )
    long_from: int = Field(
        30, ge=5, description="Prompts of at least this many words (CJK: characters) use the long n-grams."
    )
    min_instruction_overlap: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description=(
            "Word overlap (Jaccard) the instruction parts must also reach, so that two different tasks on one "
            "shared input passage are not near duplicates."
        ),
    )


def _question_texts(samples: Sequence[Sample], ctx: ScoringContext) -> tuple[list[str], list[str]]:
    """(prompts, instruction heads) without the template lines most prompts share and without politeness: what
    two prompts are compared on (memoised per audit)."""

    def compute() -> tuple[list[str], list[str]]:
        raw = ctx.texts("prompt")
        lines = template_lines(raw)
        prompts = [without_template(t, lines) for t in raw]
        heads = [without_fillers(without_template(split_input(s)[0], lines)) for s in samples]
        return prompts, heads

    return ctx.memo("noise:question_texts", compute)


def near_duplicate_groups(samples: Sequence[Sample], ctx: ScoringContext, p: NearDuplicateParams) -> Any:
    """Near-duplicate prompt groups (memoised per parameters, shared with conflicting_answers)."""

    def compute() -> Any:
        prompts, head_texts = _question_texts(samples, ctx)
        heads = [token_set(h) for h in head_texts]
        plain = [without_fillers(t) for t in prompts]  # "… Thanks!" is politeness, not a name

        def accept(i: int, j: int) -> bool:
            return (
                jaccard(heads[i], heads[j]) >= p.min_instruction_overlap
                and same_numbers(prompts[i], prompts[j])
                and same_names(prompts[i], prompts[j])
                and not narrows_by_name(plain[i], plain[j])
                and not adds_a_clause(plain[i], plain[j])
                and same_subject(head_texts[i], head_texts[j])
                and same_quotes(prompts[i], prompts[j])
                and same_formulas(prompts[i], prompts[j])
                and same_time(prompts[i], prompts[j])
            )

        with ctx.part(1.0):  # nearly all of the scorer's work
            return near_duplicates(
                plain,
                threshold=p.threshold,
                num_perm=p.num_perm,
                seed=ctx.seed,
                word_n=p.word_ngram,
                cjk_n=p.cjk_ngram,
                short_n=p.short_ngram,
                long_from=p.long_from,
                accept=accept,
                progress=lambda done, total: ctx.step(done, total, "prompts compared"),
            )

    return ctx.memo(f"noise:near:{p.model_dump_json()}", compute)


@register
class NearDuplicate(Scorer):
    """Samples whose prompt nearly repeats another's (MinHash + LSH, verified by exact Jaccard).

    Politeness fillers ("please", "can you", "请") are ignored, and two prompts whose numbers or formulas
    differ (the same maths template with other numbers or operators), that each name something the other
    does not (the same template about another house, company, person), or that ask about another day
    ("… tomorrow") are not near duplicates.
    """

    name = "near_duplicate"
    cost = 7  # 59 s on the 84k-row mixed file
    version = "4"
    dimension = "noise"
    Params = NearDuplicateParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        nd = near_duplicate_groups(samples, ctx, self.params)
        pkeys = _prompt_keys(samples, ctx)
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, Any]] = [{} for _ in samples]
        flagged = 0
        for gid, g in enumerate(nd.groups):
            seen = {pkeys[g[0]]}
            for pos in g:
                fields[pos]["duplicate_group"] = gid
            for pos in g[1:]:
                if pkeys[pos] in seen:  # the same prompt exactly: duplicate_instruction / exact_duplicate
                    continue
                seen.add(pkeys[pos])
                partner, jac = nd.partner[pos]
                others = tuple(samples[p].index for p in g if p != pos)
                flags[pos].append(
                    Flag(
                        "near_duplicate",
                        "noise",
                        "warning",
                        f"prompt nearly repeats sample {samples[partner].index} "
                        f"({jac:.0%} of their word/character n-grams are shared); group "
                        f"{gid} keeps sample {samples[g[0]].index}",
                        others,
                    )
                )
                flagged += 1
        summary = _dup_summary(samples, nd.groups, flagged)
        summary.update(
            {
                "samples_in_groups": sum(len(g) for g in nd.groups),
                "threshold": self.params.threshold,
                "lsh": {
                    "bands": nd.bands,
                    "rows": nd.rows,
                    "candidate_pairs": nd.candidates,
                    "verified_pairs": nd.pairs_verified,
                },
            }
        )
        return result_from_flags(samples, flags, summary, fields)


class ConflictingAnswersParams(ScorerParams):
    max_answer_overlap: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Two short answers (labels, yes/no, a name) to the same prompt conflict when the Jaccard overlap of "
            "their words (CJK: character pairs) is below this."
        ),
    )
    short_answer_units: int = Field(
        12,
        ge=1,
        description=(
            "Answers of at most this many words (CJK: characters × 3) are short; two long answers conflict only "
            "when their final numbers differ (free-form answers may legitimately be worded differently)."
        ),
    )
    min_prompt_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description=(
            "Two prompts of one near-duplicate group are the same question when their words overlap (Jaccard) at "
            "least this much and they carry the same numbers."
        ),
    )
    max_group: int = Field(
        50, ge=2, description="In larger groups only the first this many samples are compared pairwise."
    )


def _same_value(a: str, b: str, rel: float = 0.01) -> bool:
    """Two numbers that agree to within 1% (the same value at another precision)."""
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return abs(x - y) <= rel * max(abs(x), abs(y)) or x == y


#: a reply (a sentence or more, a clause) is not a value two answers can disagree on: "不客气！祝您晚宴愉快！" and
#: "不用谢，能帮到你我很开心。" both say you are welcome (OASST-zh rows 10, 11)
_SENTENCE_INSIDE = re.compile(r"[.!?;]\s+\S|[。！？；，]\s*\S")
VALUE_WORDS = 5


def single_value(answer: str) -> bool:
    """A label, a yes/no, a number, a name or a short list of names: one value, not a conversational reply."""
    a = answer.strip()
    toks, cjk = units(a)
    return (
        not _SENTENCE_INSIDE.search(a)
        and len(toks) <= (2 * VALUE_WORDS if cjk else VALUE_WORDS)
        or (not cjk and "," in a and all(len(part.split()) <= 3 for part in a.rstrip(".").split(",")))
    )


@register
class ConflictingAnswers(Scorer):
    """Same or nearly the same prompt, substantially different answers: both samples are flagged."""

    name = "conflicting_answers"
    version = "2"
    dimension = "noise"
    Params = ConflictingAnswersParams
    after = ("near_duplicate",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        prev = ctx.results.get("near_duplicate")
        if prev is not None and prev.fields:
            by_gid: dict[int, list[int]] = defaultdict(list)
            for pos, f in enumerate(prev.fields):
                if "duplicate_group" in f:
                    by_gid[f["duplicate_group"]].append(pos)
            groups = [by_gid[k] for k in sorted(by_gid)]
        else:
            groups = near_duplicate_groups(samples, ctx, NearDuplicateParams()).groups
        answers = ctx.texts("answer")
        prompts, head_texts = _question_texts(samples, ctx)
        flags: list[list[Flag]] = [[] for _ in samples]
        conflicts: dict[int, dict[int, float]] = defaultdict(dict)
        n_pairs = 0
        for g in groups:
            # a thank-you or a greeting has no one right reply (OASST-zh rows 10/11, 375/374)
            g = [
                p
                for p in g
                if answers[p].strip()
                and not samples[p].is_plain_text
                and not TASK_CUE["chat"].search(samples[p].instruction)
            ][: self.params.max_group]
            sets = {p: token_set(answers[p]) for p in g}
            asks = {p: token_set(without_fillers(prompts[p])) for p in g}
            heads = {p: head_texts[p] for p in g}
            for a_i, a in enumerate(g):
                for b in g[a_i + 1 :]:
                    if (
                        jaccard(asks[a], asks[b]) < self.params.min_prompt_overlap
                        or not same_numbers(prompts[a], prompts[b])
                        or not same_content(heads[a], heads[b])
                    ):
                        continue
                    overlap = jaccard(sets[a], sets[b])
                    maths = bool(MATHS.search(heads[a]))
                    given = set(numbers(samples[a].instruction))
                    if self._conflict(answers[a], answers[b], overlap, given, maths):
                        conflicts[a][b] = conflicts[b][a] = overlap
                        n_pairs += 1
        for pos, others in conflicts.items():
            worst = min(others, key=lambda o: (others[o], o))
            mine, theirs = final_number(answers[pos]), final_number(answers[worst])
            detail = (
                f"its final number is {mine}, theirs {theirs}"
                if mine and theirs and mine != theirs
                else f"the answers share only {others[worst]:.0%} of their words"
            )
            flags[pos].append(
                Flag(
                    "conflicting_answers",
                    "noise",
                    "warning",
                    f"answers the same prompt as sample {samples[worst].index} differently: {detail}",
                    tuple(sorted(samples[o].index for o in others)),
                )
            )
        flagged = sum(1 for f in flags if f)
        n = len(samples)
        return result_from_flags(
            samples,
            flags,
            {"conflicting_pairs": n_pairs, "conflict_rate": flagged / n if n else 0.0, "groups_compared": len(groups)},
        )

    def _conflict(self, a: str, b: str, overlap: float, given: set[str], maths: bool) -> bool:
        na, nb = final_number(a), final_number(b)
        if maths and given and na is not None and nb is not None and na != nb and not {na, nb} & given:
            return True  # a maths problem solved to different results (not numbers quoted from it)
        if na is not None and nb is not None and _same_value(na, nb):
            return False  # "6" and "这句话共有6个字。", "40075千米" and "约40,000公里" (OASST-zh rows 307/308, 429)
        short = all(len(units(t)[0]) <= self.params.short_answer_units * (3 if units(t)[1] else 1) for t in (a, b))
        return short and single_value(a) and single_value(b) and overlap < self.params.max_answer_overlap
