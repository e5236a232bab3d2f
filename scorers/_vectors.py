"""Helpers shared by the diversity, difficulty and consistency families (not a scorer module).

Everything expensive is memoised on the :class:`~scorers.context.ScoringContext`, so the families
share one embedding pass, one neighbour search and one language pass per audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scorers.context import ScoringContext
from scorers.embeddings import unit_rows
from scorers.text import script

# the text-reading layer's word splitter and script test, under the names the diversity and consistency
# scorers call them by
words = script.words
has_cjk = script.has_cjk


def languages(ctx: ScoringContext) -> list[str]:
    """Per-sample language: the ``language`` scorer's field when it ran, else detected (memoised)."""
    res = ctx.results.get("language")
    if res is not None and res.fields and all("language" in f for f in res.fields):
        return [f["language"] for f in res.fields]

    def detect() -> list[str]:
        from scorers.text.language import detect_language

        return [detect_language(t) for t in ctx.texts("prompt")]

    return ctx.memo("language:prompt", detect)


def embedding_info(ctx: ScoringContext, tier: str) -> dict[str, Any]:
    """Model, tier and (when it applies) a language warning, for a scorer summary."""
    from scorers.embeddings import language_warning

    emb = ctx.embedder(tier)
    info: dict[str, Any] = dict(emb.describe())
    warning = language_warning(languages(ctx), emb)
    if warning:
        info["warning"] = warning
    return info


def neighbours(ctx: ScoringContext, view: str, tier: str, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` cosine neighbours of every sample (itself excluded): (indices, similarities), (n, k').

    Exact (blocked matrix products) up to ``EXACT_MAX`` rows; above that an inverted-file search:
    rows are bucketed by a coarse k-means (√n buckets) and each bucket is searched against its
    ``NPROBE`` nearest buckets, ~n·d·NPROBE·√n flops instead of n²·d (52k rows: seconds, not a
    minute).  Memoised per audit, so every scorer that needs neighbours shares one search.
    """
    return ctx.memo(f"neighbours:{view}:{tier}:{k}", lambda: knn(ctx.embeddings(view, tier=tier), k, ctx.seed))


EXACT_MAX = 8000
NPROBE = 10


def knn(x: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    n = len(x)
    kk = min(k, n - 1)
    idx = np.full((n, max(kk, 0)), -1, dtype=np.int64)
    sim = np.full((n, max(kk, 0)), -np.inf, dtype=np.float32)
    if kk <= 0:
        return idx, sim.clip(min=0)
    if n <= EXACT_MAX:
        _search(x, np.arange(n), np.arange(n), kk, idx, sim)
        return idx, sim
    from sklearn.cluster import KMeans

    nlist = int(np.sqrt(n))
    rng = np.random.default_rng(seed)
    train = x[rng.choice(n, min(n, 30 * nlist), replace=False)]
    cents = (
        KMeans(n_clusters=nlist, init="random", random_state=seed, n_init=1, max_iter=25).fit(train).cluster_centers_
    )
    cents = unit_rows(cents).astype(np.float32)
    labels = np.concatenate([(x[i : i + 8192] @ cents.T).argmax(axis=1) for i in range(0, n, 8192)])
    probe = np.argsort(-(cents @ cents.T), axis=1)[:, :NPROBE]
    members = [np.flatnonzero(labels == c) for c in range(nlist)]
    for c in range(nlist):
        if len(members[c]) == 0:
            continue
        cand = np.concatenate([members[j] for j in probe[c]])
        _search(x, members[c], cand, kk, idx, sim)
    return idx, sim


def _search(x: np.ndarray, queries: np.ndarray, cand: np.ndarray, k: int, idx: np.ndarray, sim: np.ndarray) -> None:
    """Fill idx/sim rows of ``queries`` with their top-k among ``cand`` (self excluded)."""
    kk = min(k, len(cand) - 1)
    if kk <= 0:
        return
    xc = x[cand]
    for start in range(0, len(queries), 512):
        q = queries[start : start + 512]
        s = x[q] @ xc.T
        s[q[:, None] == cand[None, :]] = -np.inf
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        ps = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-ps, axis=1, kind="stable")
        idx[q, :kk] = cand[np.take_along_axis(part, order, axis=1)]
        sim[q, :kk] = np.take_along_axis(ps, order, axis=1)


def cluster_labels(ctx: ScoringContext) -> list[int] | None:
    """Per-sample instruction cluster from the ``instruction_clusters`` scorer, when it ran."""
    res = ctx.results.get("instruction_clusters")
    if res is None or not res.fields:
        return None
    return [int(f.get("cluster", -1)) for f in res.fields]


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if len(values) == 0:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    p = np.percentile(arr, [5, 25, 50, 75, 95])
    return {
        "min": float(arr.min()),
        "p5": float(p[0]),
        "p25": float(p[1]),
        "median": float(p[2]),
        "p75": float(p[3]),
        "p95": float(p[4]),
        "max": float(arr.max()),
        "mean": float(arr.mean()),
    }


def snippet(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
