"""Answer relevance: does the answer belong to its instruction?

Raw cosine similarity between an instruction and its answer means little on its own (a password
generator's answer shares no words with its ask).  So the similarity of every matched pair is
compared with the similarities of *shuffled* pairs of the same dataset (instruction i with the
answer of a random other sample): the score is the share of shuffled pairs that are less similar
than this matched pair.  An answer that belongs to another instruction looks like a shuffled pair,
so its score is uniform in [0, 1] and it is flagged below ``flag_below`` (catching that share of
swapped answers); a real answer scores near 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.script import units


class RelevanceParams(ScorerParams):
    tier: Literal["auto", "full", "fast", "aligned"] = Field(
        "auto",
        description=(
            "Embedding tier: full (the encoder on every sample), fast (static vectors), aligned (fast vectors mapped "
            "onto the encoder's scale; answers it finds doubtful are re-scored on the full encoder) or auto (full "
            "up to the models' full_tier_max_samples, aligned above)."
        ),
    )
    verify_below: float = Field(
        0.9,
        gt=0,
        le=1,
        description=(
            "aligned tier: samples scoring below this are re-scored on the full encoder (most doubtful first)."
        ),
    )
    max_verify: int = Field(
        1200, ge=0, description="aligned tier: at most this many samples are re-scored on the full encoder."
    )
    shuffles: int = Field(
        5, ge=1, le=50, description="Shuffled pairings drawn per sample to build the reference distribution."
    )
    flag_below: float = Field(
        0.9, gt=0, lt=1, description="Flag an answer less similar to its instruction than this share of shuffled pairs."
    )
    min_samples: int = Field(
        20, ge=3, description="Fewer scorable samples than this cannot be calibrated: not computed."
    )
    min_answer_words: int = Field(
        5,
        ge=1,
        description=(
            "Shorter answers (a name, a number, a class label; CJK: characters) are not judged: a short answer to a "
            "question that asks for one is normal, and its embedding says little about its topic."
        ),
    )


def calibrated_relevance(
    ins: np.ndarray, ans: np.ndarray, shuffles: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matched similarity, share of shuffled pairs below it, the shuffled similarities)."""
    n = len(ins)
    matched = np.einsum("ij,ij->i", ins, ans)
    rng = np.random.default_rng(seed)
    ref = np.empty(n * shuffles, dtype=matched.dtype)
    for k in range(shuffles):
        perm = rng.permutation(n)
        fixed = perm == np.arange(n)
        perm[fixed] = (perm[fixed] + 1) % n  # never pair a sample with its own answer
        for at in range(0, n, _BLOCK):  # the shuffled answers a block at a time, never a whole copy of them
            rows = slice(at, min(at + _BLOCK, n))
            ref[k * n + at : k * n + rows.stop] = np.einsum("ij,ij->i", ins[rows], ans[perm[rows]])
    ref.sort()
    return matched, share_below(ref, matched), ref


#: rows a block when a matrix is permuted or compacted (16k rows of 384 float32: 25 MB)
_BLOCK = 16384


def rows_in_place(matrix: np.ndarray, rows: list[int]) -> np.ndarray:
    """``matrix[rows]`` for ascending ``rows``, written over the matrix's own first rows a block at a time (a row only
    ever moves up, onto one already read), so no second matrix is held: at 200k rows two aligned views and their
    copies were ~1.1 GB of the audit's peak."""
    if len(rows) == len(matrix):
        return matrix
    for at in range(0, len(rows), _BLOCK):
        part = rows[at : at + _BLOCK]
        matrix[at : at + len(part)] = matrix[part]
    return matrix[: len(rows)]


def share_below(ref: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """For each similarity, the share of the sorted reference ``ref`` strictly below it."""
    return np.searchsorted(ref, sims, side="left") / len(ref)


@register
class AnswerRelevance(Scorer):
    """Relevance: instruction–answer similarity calibrated against shuffled pairs of the same dataset."""

    name = "answer_relevance"
    cost = 16  # 138 s on the 84k-row mixed file
    vectors = ("context", "answer")
    version = "1"
    dimension = "answer_quality"
    Params = RelevanceParams

    def reads(self) -> tuple[str, ...]:
        return ("context", "answer", "instruction")  # the last for ctx.not_judged

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        answers = ctx.texts("answer")
        short = [
            bool(s.instruction.strip() and a.strip()) and len(units(a)[0]) < p.min_answer_words
            for s, a in zip(samples, answers)
        ]
        readable = ctx.readable(["context", "answer"])  # a model judges only what it can read
        unread = np.array(
            [
                bool(s.instruction.strip() and a.strip()) and not short[i] and not readable[i]
                for i, (s, a) in enumerate(zip(samples, answers))
            ],
            dtype=bool,
        )
        usable = [
            i
            for i, s in enumerate(samples)
            if s.instruction.strip() and answers[i].strip() and not short[i] and not unread[i]
        ]
        if len(usable) < p.min_samples:
            why = (
                (
                    f"; {int(unread.sum())} rows are in languages the embedding model does not read: "
                    + ctx.not_judged(unread)["fix"]
                )
                if unread.any()
                else ""
            )
            raise NotComputed(
                f"relevance is calibrated on the dataset itself and needs at least {p.min_samples} "
                f"samples with an instruction and an answer it can judge (found {len(usable)}){why}"
            )
        tier = ctx.resolve_tier(p.tier)
        ins = rows_in_place(ctx.embeddings("context", tier=tier), usable)
        ans = rows_in_place(ctx.embeddings("answer", tier=tier), usable)
        matched, share, ref = calibrated_relevance(ins, ans, p.shuffles, ctx.seed)
        tiers = [tier] * len(usable)
        extra = {}
        if tier == "aligned":
            extra = self._verify(ctx, usable, matched, share, tiers)
        flags: list[list[Flag]] = [[] for _ in range(n)]
        fields: list[dict] = [{"answer_relevance": {"score": None}} for _ in range(n)]
        for i in range(n):
            if short[i]:
                fields[i]["answer_relevance"]["not_computed"] = "answer too short to judge by embedding"
            elif unread[i]:
                fields[i]["answer_relevance"]["not_computed"] = "language not read by the embedding model"
                fields[i]["not_judged"] = [self.name]
        for k, i in enumerate(usable):
            fields[i] = {
                "answer_relevance": {"score": float(share[k]), "similarity": float(matched[k]), "tier": tiers[k]}
            }
            if share[k] < p.flag_below:
                flags[i].append(
                    Flag(
                        "answer_off_topic",
                        "answer_quality",
                        "warning",
                        f"the answer is less similar to its instruction (cosine {matched[k]:.2f}) than {1 - share[k]:.0%} of "
                        f"randomly re-paired instructions and answers of this dataset are; it may answer another instruction"
                        + (
                            ""
                            if tiers[k] == "full"
                            else f" ({tiers[k]} embedding tier, not verified on the full encoder)"
                        ),
                    )
                )
        return ScorerResult(
            scores=None,
            flags=flags,
            fields=fields,
            summary={
                "tier": tier,
                **extra,
                "matched_similarity_median": float(np.median(matched)),
                "shuffled_similarity_median": float(np.median(ref)),
                "shuffled_similarity_p90": float(np.quantile(ref, 0.9)),
                "samples_flagged": int((share < p.flag_below).sum()),
                "samples_scored": len(usable),
                "short_answers_not_judged": int(sum(short)),
                **({"not_judged": ctx.not_judged(unread)} if unread.any() else {}),
            },
        )

    def _verify(
        self, ctx: ScoringContext, usable: list[int], matched: np.ndarray, share: np.ndarray, tiers: list[str]
    ) -> dict:
        """Re-score the doubtful samples on the full encoder, calibrated on the alignment sample's shuffled
        pairs (embedded on the full encoder already).  Updates ``matched``/``share``/``tiers`` in place."""
        p = self.params
        doubtful = [k for k in np.argsort(share, kind="stable") if share[k] < p.verify_below]
        todo = doubtful[: p.max_verify]
        ins_t, ans_t = ctx.texts("context"), ctx.texts("answer")
        sample = [int(r) for r in ctx.alignment().rows if ins_t[r].strip() and ans_t[r].strip()]
        if len(sample) < p.min_samples or not todo:
            return {"verified_full": 0, "doubtful": len(doubtful)}
        ref_i, ref_a = ctx.embed([ins_t[r] for r in sample]), ctx.embed([ans_t[r] for r in sample])
        _, _, ref = calibrated_relevance(ref_i, ref_a, p.shuffles, ctx.seed)
        rows = [usable[k] for k in todo]
        qi, qa = ctx.embed([ins_t[r] for r in rows]), ctx.embed([ans_t[r] for r in rows])
        matched[todo] = np.einsum("ij,ij->i", qi, qa)
        share[todo] = share_below(ref, matched[todo])
        for k in todo:
            tiers[k] = "full"
        return {
            "verified_full": len(todo),
            "doubtful": len(doubtful),
            "not_verified": len(doubtful) - len(todo),
            "full_reference_samples": len(sample),
            "alignment": ctx.alignment().info,
        }
