"""Selection over audit records (pure functions; embeddings are passed in).

Every sample not kept gets exactly one reason — the first rule that dropped it — so the counts by
reason add up to the rows dropped.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.curation.policy import LEVELS, RANK_FIELDS, CurationPolicy
from scorers import flags

QUALITY_DIMS = ("answer_quality", "noise", "consistency", "diversity")


@dataclass
class Selection:
    kept: list[int]  # sample indices, in the order they were accepted
    dropped: dict[int, str] = field(default_factory=dict)  # index → reason
    tau: float | None = None
    warnings: list[str] = field(default_factory=list)  # what the policy asked for and could not get

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.dropped.values()).items()))


def overall_score(rec: dict[str, Any], rank_by: str) -> float:
    if rank_by in RANK_FIELDS:  # a per-sample field (a sample the ranker left unscored ranks last)
        value = rec.get(rank_by)
        return float(value) if isinstance(value, (int, float)) else -1.0
    scores = rec.get("scores", {})
    if rank_by != "overall":
        return float(scores.get(rank_by, 0.0))
    vals = [scores[d] for d in QUALITY_DIMS if d in scores]
    return float(sum(vals) / len(vals)) if vals else 0.0


def duplicate_groups(records: Sequence[Mapping[str, Any]], codes: Collection[str] | None = None) -> list[set[int]]:
    """Groups of rows that repeat each other: every flag of these codes (default: the codes whose kind is
    ``duplicate`` in ``scorers.flags``) joins its row with its ``related`` rows (union-find). Groups of two or more.
    """
    codes = flags.codes_of_kind("duplicate") if codes is None else set(codes)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rec in records:
        for f in rec.get("flags", []):
            if f["code"] in codes:
                for other in f.get("related", []):
                    parent[find(rec["index"])] = find(other)
    groups: dict[int, set[int]] = defaultdict(set)
    for x in list(parent):
        groups[find(x)].add(x)
    return [g for g in groups.values() if len(g) > 1]


def calibrate_tau(emb: np.ndarray, seed: int) -> float:
    """τ for DEITA's rule: the 99.9th percentile of cosine similarity between random pairs of this data,
    floored at 0.8 — pairs above it are much closer than chance for this embedding model."""
    n = len(emb)
    if n < 3:
        return 0.9
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, 20000), rng.integers(0, n, 20000)
    keep = a != b
    sims = np.einsum("ij,ij->i", emb[a[keep]], emb[b[keep]])
    return float(max(0.8, min(0.98, np.quantile(sims, 0.999))))


def select(
    records: Sequence[dict[str, Any]], policy: CurationPolicy, embeddings: Callable[[], np.ndarray] | None = None
) -> Selection:
    """Apply the policy to one dataset's audit records (one per sample, with ``index``)."""
    by_index = {r["index"]: r for r in records}
    dropped: dict[int, str] = {}
    drop_codes, drop_sev = set(policy.drop_flags), set(policy.drop_severities)
    for rec in records:
        i = rec["index"]
        for f in rec.get("flags", []):
            if f["code"] in drop_codes:
                dropped[i] = f"flag:{f['code']}"
                break
            if f["severity"] in drop_sev:
                dropped[i] = f"severity:{f['severity']}:{f['code']}"
                break
        if i in dropped:
            continue
        scores = rec.get("scores", {})
        for dim, lo in policy.min_scores.items():
            if dim in scores and scores[dim] < lo:
                dropped[i] = f"min_score:{dim}"
                break
        if i in dropped:
            continue
        for dim, hi in policy.max_scores.items():
            if dim in scores and scores[dim] > hi:
                dropped[i] = f"max_score:{dim}"
                break

    rank = {i: overall_score(r, policy.rank_by) for i, r in by_index.items()}
    if policy.dedupe:
        for group in duplicate_groups(records, set(policy.duplicate_flags)):
            alive = [i for i in group if i not in dropped and i in by_index]
            if len(alive) < 2:
                continue
            best = max(alive, key=lambda i: (rank[i], -i))
            for i in alive:
                if i != best:
                    dropped[i] = "duplicate:kept_best_of_group"

    candidates = sorted((i for i in by_index if i not in dropped), key=lambda i: (-rank[i], i))
    n_budget = policy.budget.size(len(records)) if policy.budget else None
    quotas = None
    if policy.target_mix and n_budget is not None:
        quotas = {lvl: round(n_budget * policy.target_mix.get(lvl, 0.0)) for lvl in LEVELS}
    per_cluster: Counter[Any] = Counter()
    per_level: Counter[str] = Counter()
    tau = None
    emb = None
    if policy.diversity_threshold is not None:
        if embeddings is None:
            raise ValueError("diversity_threshold needs embeddings")
        emb = embeddings()
        tau = (
            calibrate_tau(emb, policy.seed)
            if policy.diversity_threshold == "auto"
            else float(policy.diversity_threshold)
        )
    pos = {r["index"]: k for k, r in enumerate(records)}
    accepted: list[int] = []
    # accepted vectors fill a preallocated buffer: one matrix-vector product per candidate
    kept_vecs = (
        np.empty((min(len(candidates), n_budget or len(candidates)), emb.shape[1]), dtype=np.float32)
        if emb is not None
        else None
    )
    for i in candidates:
        if n_budget is not None and len(accepted) >= n_budget:
            dropped[i] = "budget"
            continue
        rec = by_index[i]
        if policy.cluster_cap is not None and rec.get("cluster") is not None:
            if per_cluster[rec["cluster"]] >= policy.cluster_cap:
                dropped[i] = "cluster_cap"
                continue
        if quotas is not None:
            level = rec.get("difficulty_level")
            if level not in quotas or per_level[level] >= quotas[level]:
                dropped[i] = f"target_mix:{level}"
                continue
        if emb is not None and kept_vecs is not None:
            v = emb[pos[i]]
            m = len(accepted)
            if m and float((kept_vecs[:m] @ v).max()) >= tau:  # type: ignore[operator]
                dropped[i] = "diversity:too_similar_to_kept"
                continue
            kept_vecs[m] = v
        accepted.append(i)
        if rec.get("cluster") is not None:
            per_cluster[rec["cluster"]] += 1
        if quotas is not None:
            per_level[rec["difficulty_level"]] += 1
    sel = Selection(kept=sorted(accepted), dropped=dropped, tau=tau)
    requested = policy.budget.rows if policy.budget is not None and policy.budget.rows is not None else n_budget
    sel.warnings = shortfalls(sel, requested, len(records), quotas, per_level)
    return sel


def shortfalls(
    sel: Selection, budget: int | None, n_rows: int, quotas: dict[str, int] | None, per_level: Counter[str]
) -> list[str]:
    """Say so when the budget or the target mix could not be filled, and what took the rows."""
    out = []
    if budget is not None and len(sel.kept) < budget:
        reasons = Counter(r for r in sel.dropped.values() if r != "budget")
        top = ", ".join(f"{r} {n:,}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:4])
        why = f"the dataset has {n_rows:,} rows" if budget > n_rows else ""
        why += ("; " if why and top else "") + (f"dropped: {top}" if top else "")
        out.append(
            f"kept {len(sel.kept):,} of a budget of {budget:,}: only {len(sel.kept):,} rows passed the policy"
            + (f" ({why})" if why else "")
        )
    for level, want in (quotas or {}).items():
        if per_level[level] < want:
            out.append(
                f"target mix: {per_level[level]:,} {level} rows kept of {want:,} wanted; "
                f"not enough {level} rows passed the policy"
            )
    return out


def random_subset(indices: Sequence[int], k: int, seed: int) -> list[int]:
    return sorted(random.Random(seed).sample(list(indices), min(k, len(indices))))


def longest_subset(lengths: dict[int, int], k: int) -> list[int]:
    """The k samples with the longest answers (ties: lower index first) — AlpaGasus' strong baseline."""
    return sorted(sorted(lengths, key=lambda i: (-lengths[i], i))[:k])
