"""Embedding-based noise: semantic duplicates and answers that belong to another instruction.

Both read the shared sentence embeddings (``ctx.embeddings``); neither runs an all-pairs search over a
large dataset in one piece:

* up to ``exact_below`` samples, cosine similarities are computed block by block (exact);
* above it, samples are first clustered with k-means (SemDeDup's approach) and compared only within
  their two nearest clusters, so near-boundary pairs are still found.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from pydantic import Field

from scorers._minhash import UnionFind
from scorers._noise_text import result_from_flags
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.cues import OPEN_ENDED
from scorers.text.numbers import same_names, same_numbers
from scorers.text.script import units

#: cosine at or above which two instructions say the same thing, per embedding model (directory name).
#: Calibrated on Alpaca pairs by eye: at 0.92 MiniLM pairs are paraphrases ("List three benefits of
#: exercise" / "Name three advantages of exercising"); at 0.85 they are merely the same topic.
CALIBRATED_THRESHOLDS = {"model": 0.92, "all-MiniLM-L6-v2": 0.92}
DEFAULT_THRESHOLD = 0.92


#: similarities computed at a time by :func:`_better_fits` (answers × every instruction) and :func:`_cluster_blocks`
#: (rows × centroids), in cells: a block of rows against a set that grows with the dataset (with its negation and
#: int64 argsort, 20 bytes a cell) is sized in cells, ~80 MB, not in rows (1,024 answers × 200k instructions was ~4 GB).
_FIT_CELLS = 1 << 22


def _blocks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(start + size, n)


def _even_blocks(n: int, most: int) -> Iterator[tuple[int, int]]:
    """Blocks of at most ``most`` rows and of nearly equal sizes: no last block of a row or two, whose matrix product
    takes another BLAS path (the same rows in one product or in blocks give the same bits otherwise)."""
    count = math.ceil(n / max(most, 1))
    bounds = [n * i // count for i in range(count + 1)] if count else []
    return zip(bounds, bounds[1:])


def similar_pairs(emb: np.ndarray, threshold: float, **kw: Any) -> list[tuple[int, int, float]]:
    """Pairs (i < j, cosine) of rows of L2-normalised ``emb`` with cosine ≥ threshold, sorted (see
    :func:`similar_pair_arrays` for the search and its keywords)."""
    a, b, v = similar_pair_arrays(emb, threshold, **kw)
    return list(zip(a.tolist(), b.tolist(), v.tolist()))


def similar_pair_arrays(
    emb: np.ndarray,
    threshold: float,
    *,
    per_row: int | None = None,
    block: int = 1024,
    exact_below: int = 5000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows of L2-normalised ``emb`` with cosine ≥ threshold, as arrays (i, j, cosine), i < j, sorted by
    (i, j).

    ``per_row`` keeps only each row's ``per_row`` most similar partners (a pair stays when it is among the best of
    either of its rows): at most ``per_row`` × n pairs instead of every pair, which grows with the square of a cluster
    of repeats (a templated set, a row repeated in many combinations). Rows with the same vector are then searched
    once and each copy is paired with the first of them only, so a cluster of copies stays one component of the
    pairs, and a cluster of near copies stays one through the chain of each row's best. A row's best are cut block
    by block (the rows its block meets, then all it met), so the search's memory stays within the blocks'.

    ``progress(done, total)`` hears the blocks of rows searched (a block's cost grows with the rows after it,
    so the first blocks take longer than the last)."""
    n = emb.shape[0]
    if n < 2:
        return _no_pairs()
    groups = [np.arange(n)] if n <= exact_below else _cluster_blocks(emb, seed)
    if per_row is None:
        return _pair_search(emb, groups, threshold, None, block, progress)
    first = _first_copy(emb)
    copies = np.flatnonzero(first != np.arange(n))
    if len(copies):  # the same clusters as without copies: the copies are left out of them, not of the clustering
        distinct = first == np.arange(n)
        groups = [m[distinct[m]] for m in groups]
    a, b, v = _pair_search(emb, groups, threshold, per_row, block, progress)
    to_first = np.einsum("ij,ij->i", emb[copies], emb[first[copies]]).astype(np.float64)
    keep = to_first >= threshold
    a = np.concatenate([a, first[copies[keep]]])
    b = np.concatenate([b, copies[keep]])
    v = np.concatenate([v, to_first[keep]])
    by = np.lexsort((b, a))
    return a[by], b[by], v[by]


def _first_copy(emb: np.ndarray) -> np.ndarray:
    """For each row, the first row with the same vector (bit for bit, by a 128-bit digest; itself when none comes
    earlier). Digests, not the rows, are sorted: sorting the rows themselves took a copy of the matrix (~0.6 GB at
    200k rows)."""
    rows = np.ascontiguousarray(emb)
    size = rows.dtype.itemsize * rows.shape[1]
    raw = rows.data.cast("B")
    digests = b"".join(
        hashlib.blake2b(raw[i * size : (i + 1) * size], digest_size=16).digest() for i in range(len(rows))
    )
    _, first, inverse = np.unique(np.frombuffer(digests, dtype="V16"), return_index=True, return_inverse=True)
    return first[inverse.ravel()]


def _pair_search(
    emb: np.ndarray,
    groups: list[np.ndarray],
    threshold: float,
    per_row: int | None,
    block: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs above ``threshold`` within each group of rows (each row's best ``per_row`` of them, when given)."""
    # pairs as arrays, block by block: a templated set (GSM8K, toolformer) has millions of pairs above a candidate
    # threshold, and a Python loop over them was most of the time on a mixed 84k-row file
    found = _Pairs(emb.shape[0], per_row)
    total, done = sum(math.ceil(len(m) / block) for m in groups), 0
    for members in groups:
        sub = emb[members]
        for a0, a1 in _blocks(len(members), block):
            if progress is not None:
                progress(done, total)
                done += 1
            sims = sub[a0:a1] @ sub[a0:].T
            ii, jj = _hits(sims, threshold, per_row)
            gi, gj = members[a0 + ii], members[a0 + jj]
            found.add(np.minimum(gi, gj), np.maximum(gi, gj), sims[ii, jj])
    return found.pairs()


def _hits(sims: np.ndarray, threshold: float, per_row: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the similarities of a block of rows (against themselves and the rows after them) at or above
    ``threshold``, above the diagonal; with ``per_row``, only those among the ``per_row`` best of their row or of
    their column in this block (the best of a row overall are among its best in each block it is met in)."""
    b, w = sims.shape
    sims[:, :b][np.tri(b, dtype=bool)] = -np.inf  # each pair once, never a row with itself
    keep = sims >= threshold
    if per_row is not None:
        _only_the_best(keep, sims, per_row)
    rows, cols = np.nonzero(keep)
    return rows, cols


def _only_the_best(hit: np.ndarray, sims: np.ndarray, k: int) -> None:
    """Clear the hits of a row or column with more than ``k`` (a cluster of near copies) that are among the ``k``
    best of neither their row nor their column; a row or column with at most ``k`` hits keeps them all."""
    b, w = sims.shape
    many_r, many_c = np.flatnonzero(hit.sum(axis=1) > k), np.flatnonzero(hit.sum(axis=0) > k)
    if len(many_r) == 0 and len(many_c) == 0:
        return
    hit[np.ix_(many_r, many_c)] = False
    if len(many_r):
        hit[many_r[:, None], np.argpartition(sims[many_r], w - k, axis=1)[:, w - k :]] = True
    if len(many_c):
        hit[np.argpartition(sims[:, many_c], b - k, axis=0)[b - k :], many_c[None, :]] = True


class _Pairs:
    """Pairs found block by block; with ``per_row``, cut to each row's best whenever they outgrow a bound (a pair
    cut then is no row's best among what was found so far, so it never is among the best of all)."""

    def __init__(self, n: int, per_row: int | None):
        self.n, self.per_row = n, per_row
        self.bound = max(1 << 20, 2 * n * per_row) if per_row else 0
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.val: list[np.ndarray] = []
        self.size = 0

    def add(self, lo: np.ndarray, hi: np.ndarray, val: np.ndarray) -> None:
        self.lo.append(lo.astype(np.int64, copy=False))
        self.hi.append(hi.astype(np.int64, copy=False))
        self.val.append(val)
        self.size += len(lo)
        if self.per_row and self.size > self.bound:
            a, b, v = self.pairs()
            self.lo, self.hi, self.val, self.size = [a], [b], [v], len(a)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.lo:
            return _no_pairs()
        a, b, v = np.concatenate(self.lo), np.concatenate(self.hi), np.concatenate(self.val)
        # a pair met in two clusters keeps the similarity computed last (as a dict assignment would)
        key = a * self.n + b
        uniq, last = np.unique(key[::-1], return_index=True)
        a, b, v = uniq // self.n, uniq % self.n, v[len(key) - 1 - last].astype(np.float64)
        return _best_per_row(a, b, v, self.per_row) if self.per_row else (a, b, v)


def _best_per_row(a: np.ndarray, b: np.ndarray, v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (distinct, sorted) that are among the ``k`` most similar of either of their rows (ties: the
    earlier partner), in their order."""
    m = len(a)
    by = np.lexsort((np.concatenate([b, a]), -np.concatenate([v, v]), np.concatenate([a, b])))
    ranked = np.concatenate([a, b])[by]
    first = np.searchsorted(ranked, ranked, side="left")  # where each row's partners begin
    del ranked
    kept = np.zeros(m, dtype=bool)
    kept[by[np.arange(2 * m) - first < k] % m] = True
    return a[kept], b[kept], v[kept]


def _no_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)


def _cluster_blocks(emb: np.ndarray, seed: int, per_cluster: int = 1000) -> list[np.ndarray]:
    """k-means clusters of ``emb``, each point in its two nearest clusters."""
    from sklearn.cluster import MiniBatchKMeans

    k = max(2, math.ceil(emb.shape[0] / per_cluster))
    km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit(emb)
    # by blocks of rows: the distances and their argsort are n × k (k grows with n), ~640 MB at once at 200k rows
    top2 = np.concatenate(
        [
            np.argsort(-(emb[b0:b1] @ km.cluster_centers_.T), axis=1, kind="stable")[:, :2]
            for b0, b1 in _even_blocks(emb.shape[0], _FIT_CELLS // k)
        ]
    )
    return [np.flatnonzero((top2 == c).any(axis=1)) for c in range(k)]


class SemanticDuplicateParams(ScorerParams):
    threshold: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description=(
            "Cosine similarity of the instructions' embeddings at or above which two samples are semantic "
            "duplicates; empty = the value calibrated for the embedding model (reported in the summary)."
        ),
    )
    view: str = Field(
        "context",
        description="What is embedded: context (the instruction; for a multi-turn chat "
        "the end of the conversation before the answer), instruction (the "
        "last user turn, with its input) or prompt (the whole conversation "
        "before the answer, system prompt included).",
    )
    exact_below: int = Field(
        5000,
        ge=2,
        description="Up to this many samples the search is exact (blocked); above it, k-means clusters are searched.",
    )
    search_tier: Literal["auto", "full", "aligned"] = Field(
        "auto",
        description=(
            "Where pairs are searched: full (the encoder on every sample), aligned (the fast tier mapped onto the "
            "encoder's scale; candidate pairs are then verified on the full encoder) or auto (full up to the "
            "models' full_tier_max_samples, aligned above)."
        ),
    )
    max_neighbours: int = Field(
        16,
        ge=1,
        description=(
            "Each sample is paired with at most this many of its most similar others (candidates on the aligned tier, "
            "pairs on the full tier; samples with the same text count once): a group of near copies is still joined "
            "through each one's nearest, while the pairs stay at most this many per sample instead of growing with "
            "the square of a templated or repeated set."
        ),
    )
    candidate_threshold: float = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description=("Aligned-tier cosine at or above which a pair is a candidate for full-encoder verification."),
    )
    max_verify: int = Field(
        5000,
        ge=0,
        description=(
            "At most this many samples are embedded on the full encoder to verify candidates (most similar "
            "pairs first); pairs beyond it are counted as unverified in the summary."
        ),
    )
    max_verify_share: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description=(
            "…and at most this share of the rows (one in ten: max_verify is reached at 50,000 rows), so that a "
            "templated set, whose every row is a candidate, costs in proportion to its size…"
        ),
    )
    min_verify: int = Field(
        500,
        ge=0,
        description=(
            "…but at least this many samples (a few seconds of encoding), so that a small templated set keeps its "
            "most similar pairs verified."
        ),
    )


@register
class SemanticDuplicate(Scorer):
    """Samples whose instruction means the same as another's (embedding cosine), with the one to keep."""

    name = "semantic_duplicate"
    cost = 22  # 184 s on the 84k-row mixed file (issue #15)
    vectors = ("instruction",)
    version = "4"
    dimension = "noise"
    Params = SemanticDuplicateParams
    needs_models = ("embedding_model",)
    #: noise flags of these scorers, when they ran, count against a sample when choosing the keeper.
    after = ("junk_answer", "broken_answer", "text_damage", "wrong_language", "unseen_content")

    def reads(self) -> tuple[str, ...]:
        return (cast(SemanticDuplicateParams, self.params).view,)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        params = cast(SemanticDuplicateParams, self.params)
        model_dir = ctx.models.path("embedding_model")
        model_name = Path(model_dir).name if model_dir else ""
        threshold = params.threshold or CALIBRATED_THRESHOLDS.get(model_name, DEFAULT_THRESHOLD)
        n = len(samples)
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, Any]] = [{} for _ in samples]
        summary: dict[str, Any] = {
            "threshold": threshold,
            "embedding_model": model_name,
            "view": params.view,
            "search": "exact (blocked)" if n <= params.exact_below else "k-means blocks",
            "max_neighbours": params.max_neighbours,
        }
        if n < 2:
            return result_from_flags(samples, flags, {**summary, "groups": 0, "duplicate_rate": 0.0}, fields)
        # a model judges only what it can read: rows in languages the encoder does not serve are not compared
        usable = ctx.readable([params.view])
        if not usable.all():
            summary["not_judged"] = ctx.not_judged(~usable, [params.view])
            for i in np.flatnonzero(~usable):
                fields[i]["not_judged"] = [self.name]
        keep_rows = np.flatnonzero(usable)
        tier = ctx.resolve_tier(params.search_tier)
        summary["search_tier"] = tier
        texts = ctx.texts(params.view)
        if tier == "full":
            # embed only what is compared (the embedder caches by text, so other scorers still share it)
            emb = ctx.embeddings(params.view) if usable.all() else ctx.embed([texts[i] for i in keep_rows])
            with ctx.part(1.0):  # what is left of the bar once the vectors are there
                found = [
                    (int(keep_rows[i]), int(keep_rows[j]), s)
                    for i, j, s in similar_pairs(
                        emb,
                        threshold,
                        per_row=params.max_neighbours,
                        exact_below=params.exact_below,
                        seed=ctx.seed,
                        progress=self._searched(ctx),
                    )
                ]
        else:
            found = self._aligned_pairs(ctx, keep_rows, threshold, summary)
        # a maths problem with other numbers is another problem; the same template about another named entity
        # ("… students at Hogwarts in Hufflepuff / Gryffindor house", Dolly 2769) is another question
        pairs = [
            (a, b, sim) for a, b, sim in found if same_numbers(texts[a], texts[b]) and same_names(texts[a], texts[b])
        ]
        uf = UnionFind(n)
        best: dict[int, tuple[int, float]] = {}
        for i, j, sim in pairs:
            uf.union(i, j)
            for a, b in ((i, j), (j, i)):
                if a not in best or sim > best[a][1]:
                    best[a] = (b, sim)
        comps: dict[int, list[int]] = {}
        for p in sorted(best):
            comps.setdefault(uf.find(p), []).append(p)
        groups = sorted((g for g in comps.values() if len(g) > 1), key=lambda g: g[0])
        other_flags = self._other_flags(ctx, n)
        answers = ctx.texts("answer")
        flagged = 0
        for gid, g in enumerate(groups):
            keep = min(g, key=lambda p: (other_flags[p], -len(answers[p].strip()), p))
            why = self._why(keep, g, other_flags, answers)
            for pos in g:
                fields[pos]["semantic_group"] = gid
                fields[pos]["semantic_keep"] = pos == keep
                if pos == keep:
                    continue
                partner, sim = best[pos]
                flags[pos].append(
                    Flag(
                        "semantic_duplicate",
                        "noise",
                        "warning",
                        f"asks the same thing as sample {samples[partner].index} in other words (embedding cosine "
                        f"{sim:.2f} \u2265 {threshold:.2f}); keep sample {samples[keep].index} of this group: {why}",
                        tuple(samples[p].index for p in g if p != pos),
                    )
                )
                flagged += 1
        summary.update(
            {
                "groups": len(groups),
                "redundant_samples": flagged,
                "duplicate_rate": flagged / n,
                "pairs": len(pairs),
                "largest_groups": [[samples[p].index for p in g] for g in sorted(groups, key=len, reverse=True)[:5]],
            }
        )
        return result_from_flags(samples, flags, summary, fields)

    @staticmethod
    def _searched(ctx: ScoringContext) -> Callable[[int, int], None]:
        return lambda done, total: ctx.step(done, total, "blocks searched")

    def _aligned_pairs(
        self, ctx: ScoringContext, keep_rows: np.ndarray, threshold: float, summary: dict[str, Any]
    ) -> list[tuple[int, int, float]]:
        """Candidates from the aligned fast tier, each verified on the full encoder (within ``max_verify``)."""
        p: SemanticDuplicateParams = self.params  # type: ignore[assignment]
        aligned = ctx.embeddings(p.view, tier="aligned")[keep_rows]
        with ctx.part():
            a, b, cos = similar_pair_arrays(
                aligned,
                p.candidate_threshold,
                per_row=p.max_neighbours,
                exact_below=p.exact_below,
                seed=ctx.seed,
                progress=self._searched(ctx),
            )
        # most similar first, then by rows: candidates stay arrays (a templated set has millions of them) and only
        # the prefix that fits in max_verify is walked
        a, b = keep_rows[a], keep_rows[b]
        by = np.lexsort((b, a, -cos))
        budget = ctx.verify_budget(p.max_verify, p.max_verify_share, p.min_verify)
        rows: dict[int, None] = {}
        checked = []
        for i, j in zip(map(int, a[by]), map(int, b[by])):  # not .tolist(): a templated set has millions, few are read
            new = (i not in rows) + (j not in rows)
            if len(rows) + new > budget:
                break
            rows.setdefault(i)
            rows.setdefault(j)
            checked.append((i, j))
        n_cands = len(by)
        order = sorted(rows)
        texts = ctx.texts(p.view)
        vecs = dict(zip(order, ctx.embed([texts[r] for r in order]))) if order else {}
        pairs: list[tuple[int, int, float]] = []
        for i, j in checked:
            sim = float(vecs[i] @ vecs[j])
            if sim >= threshold:
                pairs.append((i, j, sim))
        summary.update(
            {
                "candidate_threshold": p.candidate_threshold,
                "verify_budget": budget,
                "candidate_pairs": n_cands,
                "verified_pairs": len(checked),
                "unverified_pairs": n_cands - len(checked),
                "samples_embedded_full": len(order),
                "alignment": ctx.alignment().info,
            }
        )
        return sorted(pairs)

    def _other_flags(self, ctx: ScoringContext, n: int) -> list[int]:
        counts = [0] * n
        for name in self.after:
            res = ctx.results.get(name)
            if res is None:
                continue
            for i, fl in enumerate(res.flags):
                counts[i] += sum(1 for f in fl if f.severity != "info")
        return counts

    @staticmethod
    def _why(keep: int, group: list[int], other_flags: list[int], answers: Sequence[str]) -> str:
        if other_flags[keep] < max(other_flags[p] for p in group):
            reason = "it has the fewest other noise flags"
        elif len(answers[keep].strip()) > min(len(answers[p].strip()) for p in group):
            reason = f"it has the most complete answer ({len(answers[keep].strip())} characters)"
        else:
            reason = "it comes first (the samples are otherwise alike)"
        return reason


class MismatchedAnswerParams(ScorerParams):
    suspect_similarity: float = Field(
        0.3,
        ge=-1.0,
        le=1.0,
        description=(
            "Below this, an answer that fits another instruction of the dataset (one of its five best fits) whose "
            "own answer is below this too is recorded in the field `fits_better` (not flagged: read on the panel, "
            "such rows were on-topic answers to creative, multi-turn or list prompts)…"
        ),
    )
    margin: float = Field(
        0.2,
        ge=0.0,
        le=2.0,
        description=(
            "…by at least this much cosine. Two answers that each fit the other's instruction best, and better "
            "than their own by this much, are flagged whatever their own similarity (swapped rows): the only "
            "evidence this scorer flags on."
        ),
    )
    swap_min_fit: float = Field(
        0.35,
        ge=-1.0,
        le=1.0,
        description=(
            "Each answer of a swapped pair fits the other's instruction at least this well. Generic chat replies "
            "('I'm just an autonomous system.') loosely fit any conversation: on HH-RLHF four such pairs passed the "
            "margin at cross cosines of 0.23-0.54 with the smaller of each pair at most 0.32. At 0.35 (was 0.4) "
            "the bench finds 84 of its 92 injected swaps (was 80) and the ten panel sets' 87k real rows still raise "
            "none."
        ),
    )
    min_answer_words: int = Field(
        5, ge=1, description="Shorter answers (labels, numbers; CJK: characters) are not judged."
    )
    search_below: int = Field(
        20000,
        ge=2,
        description="full tier: above this many samples the better-fitting "
        "instruction is not searched (only the absolute threshold applies).",
    )
    search_tier: Literal["auto", "full", "aligned"] = Field(
        "auto",
        description=(
            "full: every instruction and answer on the encoder; aligned: similarities on the fast tier mapped onto "
            "the encoder's scale, the doubtful answers re-checked on the full encoder; auto: full up to the models' "
            "full_tier_max_samples, aligned above."
        ),
    )
    verify_below: float = Field(
        0.4,
        ge=-1.0,
        le=1.0,
        description=(
            "aligned tier: answers whose aligned cosine with their instruction is below this are re-checked on the "
            "full encoder (their better-fitting instruction is then searched for them only, at any dataset size)."
        ),
    )
    max_verify: int = Field(
        1200, ge=0, description="aligned tier: at most this many answers are re-checked (least similar first)."
    )


@register
class MismatchedAnswer(Scorer):
    """Answers that do not address their instruction (swapped or misaligned rows), found by embeddings."""

    name = "mismatched_answer"
    cost = 7  # 58 s on the 84k-row mixed file
    vectors = ("context", "answer")
    version = "4"
    dimension = "noise"
    Params = MismatchedAnswerParams
    needs_models = ("embedding_model",)

    def reads(self) -> tuple[str, ...]:
        return ("context", "answer", "instruction")  # the last for ctx.not_judged

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = cast(MismatchedAnswerParams, self.params)
        n = len(samples)
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, Any]] = [{} for _ in samples]
        answers = ctx.texts("answer")
        judged = np.array(
            [not s.is_plain_text and len(units(a)[0]) >= p.min_answer_words for s, a in zip(samples, answers)],
            dtype=bool,
        )
        extra: dict[str, Any] = {}
        if n:  # a model judges only what it can read
            unread = judged & ~ctx.readable(["context", "answer"])
            if unread.any():
                extra["not_judged"] = ctx.not_judged(unread)
                judged &= ~unread
                for i in np.flatnonzero(unread):
                    fields[i]["not_judged"] = [self.name]
        if n == 0 or not judged.any():
            return result_from_flags(samples, flags, {"judged": 0, **extra}, fields, applies=list(judged))
        rows = np.flatnonzero(judged)
        tier = ctx.resolve_tier(p.search_tier)
        if tier == "aligned":
            q, a = ctx.embeddings("context", tier="aligned")[rows], ctx.embeddings("answer", tier="aligned")[rows]
        elif judged.all():
            q, a = ctx.embeddings("context"), ctx.embeddings("answer")
        else:  # embed only the judged samples (the embedder caches by text for other scorers)
            q = ctx.embed([ctx.texts("context")[i] for i in rows])
            a = ctx.embed([answers[i] for i in rows])
        m = len(rows)
        own = np.full(n, np.nan)
        own[rows] = np.einsum("ij,ij->i", q, a)
        best_other, best_idx = np.full(n, -1.0), np.full(n, -1)
        # the best-fitting instruction among the top few whose own answer fits it poorly too: an answer
        # that merely fits another question well (a list of names fits every "name some…") is no swap
        robbed_other, robbed_idx = np.full(n, -1.0), np.full(n, -1)
        fits = (best_other, best_idx, robbed_other, robbed_idx)
        searched = 2 <= m <= p.search_below or (tier == "aligned" and m >= 2)  # aligned: for the doubtful only
        verify_info: dict[str, Any] = {}
        checked = judged
        if tier == "aligned":
            checked, verify_info = self._verify(ctx, judged, rows, q, a, own, fits, searched)
        elif searched:
            top = _better_fits(np.arange(m), rows, q, a, own, p.suspect_similarity, *fits)
            _reciprocal_partners(top, rows, q, a, own, p.margin, best_other, best_idx)
        gain = np.where(checked, best_other - own, -2.0)
        instructions = ctx.texts("instruction")
        open_ended = [bool(judged[i]) and bool(OPEN_ENDED.match(instructions[i])) for i in range(n)]
        for pos in np.flatnonzero(judged):
            fields[pos]["answer_cosine"] = float(own[pos])
            if not checked[pos]:
                continue
            j = int(best_idx[pos])
            # swapped rows: each answer fits the other's instruction better (the own cosine may stay
            # moderate when the two topics are related)
            swapped = (
                j >= 0
                and judged[j]
                and int(best_idx[j]) == pos
                and min(gain[pos], gain[j]) >= p.margin
                and min(best_other[pos], best_other[j]) >= p.swap_min_fit
            )
            robbed = (
                robbed_idx[pos] >= 0 and own[pos] < p.suspect_similarity and robbed_other[pos] - own[pos] >= p.margin
            )
            # an open-ended task ("Write a sentence…", "Make up a poem") may be answered on any topic: a
            # low cosine says nothing there, only a swap does
            if open_ended[pos]:
                robbed = False
            if robbed and not swapped:
                # one answer fitting another instruction far better is a field, not a flag: read on the panel, such
                # rows were on-topic answers to creative, multi-turn or list prompts (0 of 50 right, issue #12)
                fields[pos]["fits_better"] = samples[int(robbed_idx[pos])].index
            if not swapped:
                continue  # a low cosine alone ("Lit", a joke, a haiku, a chat's deflection) is no mismatch either
            text = (
                f"the answer has little to do with its instruction (embedding cosine {own[pos]:.2f}); it fits the "
                f"instruction of sample {samples[j].index} far better ({best_other[pos]:.2f}), and that sample's "
                "answer fits this instruction better than its own \u2014 the two rows' answers look swapped"
            )
            flags[pos].append(Flag("mismatched_answer", "noise", "warning", text, (samples[j].index,)))
        summary = {
            "judged": int(judged.sum()),
            **extra,
            "search_tier": tier,
            **verify_info,
            "median_relevance": float(np.median(own[judged])),
            "better_fit_searched": bool(searched),
        }
        return result_from_flags(samples, flags, summary, fields, applies=list(judged))

    def _verify(
        self,
        ctx: ScoringContext,
        judged: np.ndarray,
        rows: np.ndarray,
        q: np.ndarray,
        a: np.ndarray,
        own: np.ndarray,
        fits: tuple[np.ndarray, ...],
        searched: bool,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Re-check the doubtful answers on the full encoder: their own instruction and the better-fitting
        ones found on the aligned tier.  Returns which were re-checked: the others are never flagged on
        aligned similarities alone."""
        p = cast(MismatchedAnswerParams, self.params)
        best_other, best_idx, robbed_other, robbed_idx = fits
        doubt = judged & (own < p.verify_below)
        # least similar first: the same order as answer_relevance's re-check, so the two share the vectors
        order = [int(i) for i in np.argsort(own, kind="stable") if doubt[i]]
        todo = order[: p.max_verify]
        if searched and todo:  # the better-fitting instructions, on the aligned tier, for the doubtful only
            pos_of = {int(r): k for k, r in enumerate(rows)}
            top = _better_fits(np.array([pos_of[i] for i in todo]), rows, q, a, own, p.suspect_similarity, *fits)
            # pairs among look-alike instructions, on the aligned tier; the full encoder then re-checks both sides
            _reciprocal_partners(top, rows, q, a, own, p.margin, best_other, best_idx)
        gain = best_other - own
        ins, ans = ctx.texts("context"), ctx.texts("answer")
        if todo:
            av = ctx.embed([ans[i] for i in todo])
            full_own = np.einsum("ij,ij->i", ctx.embed([ins[i] for i in todo]), av)
            # a better-fitting instruction matters only below suspect_similarity or for swapped pairs
            need = [k for k, i in enumerate(todo) if full_own[k] < p.suspect_similarity or gain[i] >= p.margin - 0.1]
            others = sorted({int(idx[todo[k]]) for k in need for idx in (best_idx, robbed_idx) if idx[todo[k]] >= 0})
            ov = dict(zip(others, ctx.embed([ins[j] for j in others]))) if others else {}
            own[todo] = full_own
            best_other[todo] = -1.0
            robbed_other[todo] = -1.0
            for k in need:
                for idx, sim in ((best_idx, best_other), (robbed_idx, robbed_other)):
                    if idx[todo[k]] >= 0:
                        sim[todo[k]] = float(av[k] @ ov[int(idx[todo[k]])])
        checked = np.zeros(len(judged), dtype=bool)
        checked[todo] = True
        return checked, {
            "verified_full": len(todo),
            "doubtful": len(order),
            "not_verified": len(order) - len(todo),
            "alignment": ctx.alignment().info,
        }


def _reciprocal_partners(
    top: dict[int, list[int]],
    rows: np.ndarray,
    q: np.ndarray,
    a: np.ndarray,
    own: np.ndarray,
    margin: float,
    best_other: np.ndarray,
    best_idx: np.ndarray,
) -> None:
    """A swap need not be each answer's single best fit: where instructions resemble each other (Alpaca's many
    "Generate a list of…"), a third row's instruction may fit an answer best. Pairs of rows where each answer is
    among the other's five best-fitting and fits the other's instruction better than its own by ``margin`` become
    each other's best fit (``best_idx``, ``best_other``), strongest pairs first, so the swap rule sees them."""
    pairs: list[tuple[float, int, int]] = []
    for k, cands in top.items():
        i = int(rows[k])
        for c in cands:
            j = int(rows[c])
            there, back = float(a[k] @ q[c]) - own[i], float(a[c] @ q[k]) - own[j]
            if there >= margin and back >= margin:
                pairs.append((-min(there, back), min(k, c), max(k, c)))
    paired: set[int] = set()
    for _, k, c in sorted(set(pairs)):
        if k in paired or c in paired:
            continue
        paired.update((k, c))
        for x, y in ((k, c), (c, k)):
            best_idx[rows[x]], best_other[rows[x]] = int(rows[y]), float(a[x] @ q[y])


def _better_fits(
    which: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    a: np.ndarray,
    own: np.ndarray,
    suspect: float,
    best_other: np.ndarray,
    best_idx: np.ndarray,
    robbed_other: np.ndarray,
    robbed_idx: np.ndarray,
) -> dict[int, list[int]]:
    """For the answers ``a[which]`` (positions in ``rows``): the most similar *other* instruction, and the
    most similar of the top five whose own answer fits it poorly too (below ``suspect``).  Returns the five
    best-fitting instructions (positions in ``rows``) of each answer."""
    m = len(rows)
    top = min(5, m - 1)
    tops: dict[int, list[int]] = {}
    for b0, b1 in _even_blocks(len(which), _FIT_CELLS // m):
        part = which[b0:b1]
        sims = a[part] @ q.T  # judged answer against every judged instruction
        sims[np.arange(len(part)), part] = -2.0
        cand = np.argpartition(-sims, top - 1, axis=1)[:, :top]
        for r, cs in enumerate(cand):
            cs = cs[np.argsort(-sims[r, cs], kind="stable")]
            row = rows[part[r]]
            tops[int(part[r])] = [int(c) for c in cs]
            best_idx[row], best_other[row] = rows[cs[0]], sims[r, cs[0]]
            for c in cs:
                if own[rows[c]] < suspect:
                    robbed_idx[row], robbed_other[row] = rows[c], sims[r, c]
                    break
    return tops
