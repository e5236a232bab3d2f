"""Consistency: where the data contradicts itself, or a trusted reference.

* ``answer_agreement`` — near-identical instructions whose answers disagree.  Candidate pairs come
  from the noise family's ``duplicate_group`` (when ``near_duplicate`` ran) and from fast-tier
  embedding neighbours; every pair is verified on the full encoder (only the few samples involved
  are encoded).  Short answers are compared normalised (case, punctuation, numbers), long ones by
  full-tier embedding similarity (open-ended asks — brainstorming, creative writing — are not judged on
  long answers; two asks about one shared passage must match on the ask too).  The same question asked in two languages with different answers
  is checked too when the embedding model is multilingual.
* ``format_consistency`` — inside each instruction cluster, answers whose format (JSON, numbered or
  bulleted list, code, table, one word, prose) departs from a clear majority, and answers whose
  length is an outlier for the cluster.
* ``reference_agreement`` — each sample matched to its nearest question of a reference set
  (``ctx.reference``), then supported / contradicted / unclear; no reference found when no
  reference question is close enough.

Per-sample score: 1 = consistent; flags carry the indices of the samples involved (for the
reference check: the reference rows' ``index``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from scorers import _vectors as V
from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.task_mix import cue_label
from scorers.text.lists import marker_class
from scorers.text.numbers import numbers
from scorers.text.script import normalise_for_match

#: Task types whose long answers may rightly differ between two askings of the same question.
OPEN_ENDED = frozenset({"brainstorming", "creative_writing"})
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def normalise_answer(text: str) -> str:
    """NFKC, case-folded, punctuation and articles dropped: the form short answers are compared in."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"\b(the|a|an|it is|it's|answer is|the answer is)\b", " ", t)
    return " ".join(_PUNCT.sub(" ", t).split())


def is_short(text: str, max_words: int) -> bool:
    return len(normalise_answer(text).split()) <= max_words and len(text) <= 12 * max_words


def short_agree(a: str, b: str) -> bool:
    """Two short answers agree when, normalised, one contains the other, or they state the same numbers."""
    na, nb = normalise_answer(a), normalise_answer(b)
    if not na or not nb:
        return na == nb
    if na == nb or f" {na} " in f" {nb} " or f" {nb} " in f" {na} ":
        return True
    xa, xb = numbers(a), numbers(b)
    return bool(xa) and xa == xb


def _embed_positions(ctx: ScoringContext, view: str, positions: Sequence[int], tier: str) -> dict[int, np.ndarray]:
    """Embeddings of some samples only (the embedder keeps the vectors of texts it has encoded already)."""
    texts = ctx.texts(view)
    vecs = ctx.embed([texts[p] for p in positions], tier=tier) if positions else np.zeros((0, 1))
    return dict(zip(positions, vecs))


# --------------------------------------------------------------------------------------------------
# internal: near-identical instructions, different answers
# --------------------------------------------------------------------------------------------------
class AgreementParams(ScorerParams):
    candidate_similarity: float = Field(
        0.9, gt=0, le=1, description="Fast-tier instruction similarity that makes a pair a candidate."
    )
    same_question: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Full-tier instruction similarity at which two instructions count as the same question.",
    )
    short_answer_words: int = Field(
        5, ge=1, description="Answers of at most this many words are compared normalised, not by embeddings."
    )
    disagree_below: float = Field(
        0.5, gt=-1, lt=1, description="Long answers disagree when their full-tier similarity is below this."
    )
    cross_language: Literal["auto", "on", "off"] = Field(
        "auto", description="Look for the same question in two languages: auto = only when the model is multilingual."
    )
    max_candidates: int = Field(
        1000,
        ge=0,
        description=(
            "Most samples verified on the full encoder per audit (its cost bound: ~30 s on 2 contended CPU cores); the most "
            "similar candidate pairs are verified first, noise-family groups before embedding neighbours."
        ),
    )
    max_candidates_share: float = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description=(
            "Where the instructions are not all on the full encoder already (the aligned tier), at most this share "
            "of the rows is verified as well (max_candidates is reached at 50,000 rows)."
        ),
    )


def candidate_pairs(samples: Sequence[Sample], ctx: ScoringContext, p: AgreementParams) -> dict[tuple[int, int], float]:
    """Candidate (i, j) pairs with a priority: 2.0 for noise-family groups, else the fast-tier similarity."""
    pairs: dict[tuple[int, int], float] = {}
    prev = ctx.results.get("near_duplicate")
    if prev is not None and prev.fields:
        groups: dict[Any, list[int]] = defaultdict(list)
        for pos, f in enumerate(prev.fields):
            if "duplicate_group" in f:
                groups[f["duplicate_group"]].append(pos)
        for g in groups.values():
            for a in range(len(g)):
                for b in range(a + 1, min(len(g), a + 50)):
                    pairs[(g[a], g[b])] = 2.0
    if len(samples) > 1:
        idx, sim = V.neighbours(ctx, "context", "fast", k=10)
        rows, cols = np.nonzero(sim >= p.candidate_similarity)
        for r, c in zip(rows.tolist(), cols.tolist()):
            key = (min(r, int(idx[r, c])), max(r, int(idx[r, c])))
            pairs[key] = max(pairs.get(key, 0.0), float(sim[r, c]))
    return pairs


def within_budget(pairs: dict[tuple[int, int], float], budget: int) -> tuple[list[tuple[int, int]], int]:
    """The highest-priority pairs whose samples fit in ``budget``; and how many pairs were dropped."""
    chosen: list[tuple[int, int]] = []
    used: set[int] = set()
    for pr in sorted(pairs, key=lambda k: (-pairs[k], k)):
        new = {x for x in pr if x not in used}
        if len(used) + len(new) > budget:
            continue
        used |= new
        chosen.append(pr)
    return sorted(chosen), len(pairs) - len(chosen)


@register
class AnswerAgreement(Scorer):
    """Near-identical instructions (also across languages) whose answers disagree."""

    name = "answer_agreement"
    cost = 11  # 92 s on the 84k-row mixed file
    version = "1"
    dimension = "consistency"
    Params = AgreementParams
    after = ("near_duplicate", "language")

    def reads(self) -> tuple[str, ...]:
        return ("context", "answer", "instruction")  # the last for ctx.not_judged

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: AgreementParams = self.params  # type: ignore[assignment]
        n = len(samples)
        scores: list[float | None] = [1.0] * n
        flags: list[list[Flag]] = [[] for _ in range(n)]
        if n == 0:
            return ScorerResult(scores=scores, flags=flags, fields=[], summary={})
        ins, ans = ctx.texts("context"), ctx.texts("answer")
        langs = V.languages(ctx)
        full_info = ctx.embedder("full").describe()
        multilingual = full_info["languages"] == "multilingual"
        cross = p.cross_language == "on" or (p.cross_language == "auto" and multilingual)
        cand = candidate_pairs(samples, ctx, p)
        cand = {
            (a, b): v
            for (a, b), v in cand.items()
            if ans[a].strip() and ans[b].strip() and (cross or langs[a] == langs[b] or "und" in (langs[a], langs[b]))
        }
        # Instructions equal after normalising (case, width, spaces) are the same question for sure:
        # they skip the encoder, so its budget goes to the pairs that need judging.
        norm = [normalise_for_match(t) for t in ins]
        # a model judges only what it can read: a pair with a row in a language the encoder does not serve is
        # compared only when the instructions are the same text and both answers short (a lexical comparison)
        rd = ctx.readable(["context", "answer"])
        cand = {pr: v for pr, v in cand.items() if (rd[pr[0]] and rd[pr[1]]) or norm[pr[0]] == norm[pr[1]]}
        identical = sorted(pr for pr in cand if norm[pr[0]] == norm[pr[1]])
        pairs, over_budget = within_budget(
            {pr: v for pr, v in cand.items() if norm[pr[0]] != norm[pr[1]]},
            p.max_candidates
            if ctx.resolve_tier("auto") == "full"
            else ctx.verify_budget(p.max_candidates, p.max_candidates_share),
        )
        involved = sorted({x for pr in pairs for x in pr})
        qv = _embed_positions(ctx, "context", involved, "full")
        same = sorted(identical + [(a, b) for a, b in pairs if float(qv[a] @ qv[b]) >= p.same_question])
        # Two different asks about one shared passage ("headline for this article" / "people in this
        # article") embed alike because the passage dominates: their asks must match as well.
        heads = {x: ins[x].partition("\n\n")[0] for pr in same for x in pr}
        with_passage = sorted(
            {x for a, b in same if (heads[a] != ins[a] or heads[b] != ins[b]) and norm[a] != norm[b] for x in (a, b)}
        )
        hv = dict(zip(with_passage, ctx.embed([heads[x] for x in with_passage], tier="full"))) if with_passage else {}
        same = [
            (a, b)
            for a, b in same
            if (heads[a] == ins[a] and heads[b] == ins[b])
            or norm[a] == norm[b]
            or float(hv[a] @ hv[b]) >= p.same_question
        ]
        # Open-ended asks (brainstorming, creative writing) may rightly get different long answers.
        open_ended = {x for pr in same for x in pr if cue_label(samples[x].instruction, False) in OPEN_ENDED}
        long_pos = sorted(
            {
                x
                for a, b in same
                for x in (a, b)
                if not (is_short(ans[a], p.short_answer_words) and is_short(ans[b], p.short_answer_words))
                and a not in open_ended
                and b not in open_ended
            }
        )
        av = _embed_positions(ctx, "answer", long_pos, "full")
        disagree: dict[int, dict[int, tuple[str, float | None]]] = defaultdict(dict)
        counts = Counter()
        for a, b in same:
            crossing = langs[a] != langs[b] and "und" not in (langs[a], langs[b])
            both_short = is_short(ans[a], p.short_answer_words) and is_short(ans[b], p.short_answer_words)
            if both_short and not crossing:
                ok, sim = short_agree(ans[a], ans[b]), None
            elif not (rd[a] and rd[b]):
                counts["pairs_not_read"] += 1
                continue
            else:
                if a in open_ended or b in open_ended:
                    counts["open_ended_pairs_not_judged"] += 1
                    continue
                sim = float(av[a] @ av[b])
                ok = sim >= p.disagree_below
            counts["cross_language_pairs" if crossing else "same_language_pairs"] += 1
            if not ok:
                kind = "cross_language" if crossing else "short" if both_short else "long"
                disagree[a][b] = disagree[b][a] = (kind, sim)
                counts[f"disagreeing_{kind}"] += 1
        for pos, others in disagree.items():
            worst = min(others, key=lambda o: (others[o][1] if others[o][1] is not None else -2.0, o))
            kind, sim = others[worst]
            related = tuple(sorted(samples[o].index for o in others))
            how = (
                f"answers differ after normalising (“{V.snippet(ans[pos], 40)}” vs “{V.snippet(ans[worst], 40)}”)"
                if sim is None
                else f"answers are only {sim:.2f} similar"
            )
            if kind == "cross_language":
                flags[pos].append(
                    Flag(
                        "cross_language_disagreement",
                        "consistency",
                        "warning",
                        f"asks the same question as sample {samples[worst].index} in another language "
                        f"({langs[pos]} vs {langs[worst]}) but the {how}",
                        related,
                    )
                )
                scores[pos] = min(scores[pos], 0.3)
            else:
                flags[pos].append(
                    Flag(
                        "inconsistent_answers",
                        "consistency",
                        "warning",
                        f"asks the same question as sample {samples[worst].index} but the {how}",
                        related,
                    )
                )
                scores[pos] = min(scores[pos], 0.0 if sim is None else max(0.0, sim) * 0.5)
        summary: dict[str, Any] = {
            "candidate_pairs": len(cand),
            "identical_instruction_pairs": len(identical),
            "verified_pairs": len(pairs),
            "pairs_over_budget": over_budget,
            "same_question_pairs": len(same),
            **counts,
            "samples_flagged": len(disagree),
            "sources": ["near_duplicate groups" if "near_duplicate" in ctx.results else None, "fast-tier neighbours"],
            "embedding": {"candidates": ctx.embedder("fast").describe(), "verification": full_info},
            "cross_language": "checked"
            if cross
            else "not checked: the embedding model is not multilingual (set cross_language='on' to force)",
        }
        summary["sources"] = [s for s in summary["sources"] if s]
        if not rd.all():
            summary["not_judged"] = ctx.not_judged(~rd)
        warning = V.embedding_info(ctx, "full").get("warning")
        if warning:
            summary["warning"] = warning
        return ScorerResult(scores=scores, flags=flags, fields=[{} for _ in range(n)], summary=summary)


# --------------------------------------------------------------------------------------------------
# internal: format and length inside a cluster
# --------------------------------------------------------------------------------------------------
_TABLE = re.compile(r"^\s*\|.*\|\s*$", re.M)
_CODE = re.compile(r"```|^\s*(def |class |import |function |#include|SELECT |public )", re.M)


#: Formats compared as one when judging a cluster's norm: a short sentence and a paragraph are both
#: plain text (their length difference is the length check's business, not the format check's).
FORMAT_FAMILY = {"short": "text", "prose": "text"}


def answer_format(text: str) -> str:
    """One of json, code, table, numbered_list, bullet_list, one_word, short, prose, empty."""
    t = text.strip()
    if not t:
        return "empty"
    if t[0] in "[{":
        try:
            json.loads(t)
            return "json"
        except ValueError:
            pass
    if _CODE.search(t):
        return "code"
    if len(_TABLE.findall(t)) >= 2:
        return "table"
    markers = [marker_class(ln) for ln in t.splitlines()]
    if markers.count("number") >= 2:
        return "numbered_list"
    if markers.count("bullet") >= 2:
        return "bullet_list"
    words = len(t.split()) if not V.has_cjk(t) else len(t) / 2
    if words <= 1:
        return "one_word"
    if words <= 8:
        return "short"
    return "prose"


class FormatParams(ScorerParams):
    majority: float = Field(
        0.7, gt=0.5, le=1, description="A format is the cluster's norm when at least this share of its answers use it."
    )
    min_cluster: int = Field(8, ge=3, description="Smallest cluster whose format and length norms are judged.")
    length_z: float = Field(
        3.5,
        gt=0,
        description="Robust z-score (median / MAD of log length) beyond which an answer's length is an outlier.",
    )


def cluster_groups(samples: Sequence[Sample], ctx: ScoringContext) -> tuple[list[str], str]:
    """Task clusters: instruction cluster × task type when both ran, else whichever ran, else our own clusters."""
    labels = V.cluster_labels(ctx)
    res = ctx.results.get("task_type")
    tasks = [f.get("task_type", "") for f in res.fields] if res is not None and res.fields else None
    if labels is not None and tasks is not None:
        return [f"{c}/{t}" for c, t in zip(labels, tasks)], "instruction_clusters × task_type"
    if labels is not None:
        return [str(c) for c in labels], "instruction_clusters"
    if tasks is not None:
        return tasks, "task_type"
    from scorers.diversity import InstructionClusters

    own = InstructionClusters().score(samples, ctx)
    return [str(f["cluster"]) for f in own.fields], "instruction_clusters (computed here)"


@register
class FormatConsistency(Scorer):
    """Answers whose format or length departs from the rest of their instruction cluster."""

    name = "format_consistency"
    version = "1"
    dimension = "consistency"
    Params = FormatParams
    after = ("instruction_clusters", "task_type")

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: FormatParams = self.params  # type: ignore[assignment]
        n = len(samples)
        scores: list[float | None] = [1.0] * n
        flags: list[list[Flag]] = [[] for _ in range(n)]
        if n == 0:
            return ScorerResult(scores=scores, flags=flags, fields=[], summary={})
        ans = ctx.texts("answer")
        fmts = [answer_format(a) for a in ans]
        family = [FORMAT_FAMILY.get(f, f) for f in fmts]
        labels, source = cluster_groups(samples, ctx)
        members: dict[str, list[int]] = defaultdict(list)
        for pos, c in enumerate(labels):
            members[c].append(pos)
        norms: dict[str, Any] = {}
        n_fmt = n_len = 0
        for c, pos_list in sorted(members.items()):
            if len(pos_list) < p.min_cluster:
                continue
            counts = Counter(family[x] for x in pos_list)
            top, top_n = counts.most_common(1)[0]
            # A plain-text majority sets no format norm: lists or one-word answers among prose are
            # ordinary variety.  The check is for clusters that settled on a structure (JSON, lists,
            # one word, code, tables) where a few answers do not follow it.
            if top != "text" and top_n / len(pos_list) >= p.majority and top_n < len(pos_list):
                norms[str(c)] = {"format": top, "share": top_n / len(pos_list)}
                examples = tuple(samples[x].index for x in pos_list if family[x] == top)[:3]
                for x in pos_list:
                    if family[x] != top:
                        flags[x].append(
                            Flag(
                                "format_inconsistent",
                                "consistency",
                                "info",
                                f"answer is {fmts[x].replace('_', ' ')} while {top_n / len(pos_list):.0%} "
                                f"of its cluster ({c}) answer as {top.replace('_', ' ')}",
                                examples,
                            )
                        )
                        scores[x] = min(scores[x], 0.5)
                        n_fmt += 1
            logs = np.log1p(np.asarray([len(ans[x]) for x in pos_list], dtype=np.float64))
            med = float(np.median(logs))
            # MAD floored at 0.25 (about ±28% length) so a cluster of near-equal lengths does not
            # turn small differences into outliers.
            mad = max(float(np.median(np.abs(logs - med))) * 1.4826, 0.25)
            typical = tuple(samples[pos_list[i]].index for i in np.argsort(np.abs(logs - med), kind="stable")[:3])
            for i, x in enumerate(pos_list):
                z = (logs[i] - med) / mad
                if abs(z) > p.length_z:
                    word = "longer" if z > 0 else "shorter"
                    flags[x].append(
                        Flag(
                            "answer_length_outlier",
                            "consistency",
                            "info",
                            f"answer ({len(ans[x])} characters) is far {word} than is usual in its cluster "
                            f"({c}, median {np.expm1(med):.0f} characters; robust z {z:+.1f})",
                            typical,
                        )
                    )
                    scores[x] = min(scores[x], 0.6)
                    n_len += 1
        summary = {
            "grouped_by": source,
            "format_mix": dict(Counter(fmts).most_common()),
            "cluster_norms": norms,
            "format_inconsistent": n_fmt,
            "length_outliers": n_len,
        }
        return ScorerResult(scores=scores, flags=flags, fields=[{"answer_format": f} for f in fmts], summary=summary)


# --------------------------------------------------------------------------------------------------
# external: a reference set
# --------------------------------------------------------------------------------------------------
class ReferenceParams(ScorerParams):
    match_similarity: float = Field(
        0.85, gt=0, le=1, description="Full-tier question similarity at which a reference question matches."
    )
    candidate_similarity: float = Field(
        0.6,
        gt=-1,
        le=1,
        description="Fast-tier similarity a reference question needs to be checked on the full encoder.",
    )
    support_from: float = Field(
        0.75, gt=-1, le=1, description="Long answers at least this similar to the reference answer are supported."
    )
    contradict_below: float = Field(
        0.5, gt=-1, le=1, description="Long answers less similar than this to the reference answer are contradicted."
    )
    short_answer_words: int = Field(
        5, ge=1, description="Reference answers of at most this many words are compared normalised."
    )


def _top_refs(x: np.ndarray, r: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar reference rows, best first (blocked: memory stays ~block × refs)."""
    idx = np.empty((len(x), k), dtype=np.int64)
    sim = np.empty((len(x), k), dtype=np.float32)
    for start in range(0, len(x), 2048):
        s = x[start : start + 2048] @ r.T
        part = (
            np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.tile(np.arange(s.shape[1]), (len(s), 1))
        )
        ps = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-ps, axis=1, kind="stable")
        idx[start : start + 2048] = np.take_along_axis(part, order, axis=1)
        sim[start : start + 2048] = np.take_along_axis(ps, order, axis=1)
    return idx, sim


@register
class ReferenceAgreement(Scorer):
    """Answers checked against the nearest question of an attached reference set."""

    name = "reference_agreement"
    version = "1"
    dimension = "consistency"
    Params = ReferenceParams

    def reads(self) -> tuple[str, ...]:
        return ("instruction", "answer")

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: ReferenceParams = self.params  # type: ignore[assignment]
        refs = list(ctx.reference or [])
        if not refs:
            raise NotComputed("no reference set attached to this audit")
        n = len(samples)
        scores: list[float | None] = [None] * n
        flags: list[list[Flag]] = [[] for _ in range(n)]
        fields: list[dict[str, Any]] = [{"reference_status": "no_reference"} for _ in range(n)]
        if n == 0:
            return ScorerResult(scores=scores, flags=flags, fields=fields, summary={})
        ref_q = [r.instruction for r in refs]
        ref_a = [r.answer for r in refs]
        fast_s = ctx.embeddings("instruction", tier="fast")
        fast_r = ctx.embed(ref_q, tier="fast")
        top, top_sim = _top_refs(fast_s, fast_r, min(5, len(refs)))
        rd = ctx.readable(["instruction", "answer"])  # a model judges only what it can read
        cand = [i for i in range(n) if top_sim[i, 0] >= p.candidate_similarity and rd[i]]
        # Only the candidates and their 5 nearest reference questions go through the full encoder.
        qv = _embed_positions(ctx, "instruction", cand, "full")
        ref_pos = sorted({int(j) for i in cand for j in top[i]})
        rv = dict(zip(ref_pos, ctx.embed([ref_q[j] for j in ref_pos], tier="full"))) if ref_pos else {}
        matched: dict[int, tuple[int, float]] = {}
        for i in cand:
            j, s = max(((int(j), float(rv[int(j)] @ qv[i])) for j in top[i]), key=lambda t: (t[1], -t[0]))
            if s >= p.match_similarity:
                matched[i] = (j, s)
        ans = ctx.texts("answer")
        long_i = [i for i, (j, _) in matched.items() if not is_short(ref_a[j], p.short_answer_words)]
        av = _embed_positions(ctx, "answer", long_i, "full")
        ra = ctx.embed([ref_a[matched[i][0]] for i in long_i], tier="full") if long_i else np.zeros((0, 1))
        ref_vec = dict(zip(long_i, ra))
        counts = Counter({"supported": 0, "contradicted": 0, "unclear": 0, "no_reference": n - len(matched)})
        for i, (j, qs) in sorted(matched.items()):
            if i in ref_vec:
                a_sim = float(av[i] @ ref_vec[i])
                status = (
                    "supported"
                    if a_sim >= p.support_from
                    else "contradicted"
                    if a_sim < p.contradict_below
                    else "unclear"
                )
                how = f"answer is {a_sim:.2f} similar to the reference answer"
                score = max(0.0, min(1.0, a_sim))
            else:
                ok = short_agree(ans[i], ref_a[j])
                status = "supported" if ok else "contradicted"
                how = f"answer “{V.snippet(ans[i], 40)}” vs reference “{V.snippet(ref_a[j], 40)}” after normalising"
                score = 1.0 if ok else 0.0
            counts[status] += 1
            scores[i] = score
            fields[i] = {"reference_status": status, "reference_index": refs[j].index, "reference_match": qs}
            if status == "contradicted":
                flags[i].append(
                    Flag(
                        "contradicts_reference",
                        "consistency",
                        "warning",
                        f"matches reference question {refs[j].index} ({qs:.2f} similar) but the {how}",
                        (refs[j].index,),
                    )
                )
            elif status == "unclear":
                flags[i].append(
                    Flag(
                        "reference_unclear",
                        "consistency",
                        "info",
                        f"matches reference question {refs[j].index} ({qs:.2f} similar); the {how}, "
                        "neither clearly supported nor contradicted",
                        (refs[j].index,),
                    )
                )
        summary = {
            **counts,
            "reference_rows": len(refs),
            "matched": len(matched),
            "embedding": {"candidates": ctx.embedder("fast").describe(), "matching": ctx.embedder("full").describe()},
            "note": "related indices of contradicts_reference / reference_unclear flags are reference-set rows",
        }
        if not rd.all():
            summary["not_judged"] = ctx.not_judged(~rd)
            for i in np.flatnonzero(~rd):
                fields[i] = {"reference_status": "not_judged", "not_judged": [self.name]}
        warning = V.embedding_info(ctx, "full").get("warning")
        if warning:
            summary["warning"] = warning
        return ScorerResult(scores=scores, flags=flags, fields=fields, summary=summary)
