"""Diversity: what the data covers and what it lacks.

* ``instruction_clusters`` — topic clusters of the instructions (k chosen from the data), each with
  size, c-TF-IDF keywords (jieba for Chinese) and 3 representative samples; size entropy; under- and
  over-represented clusters.  Per sample: ``cluster`` and ``map_x``/``map_y`` (the report's 2-D map).
* ``semantic_diversity`` — the dimension's headline: Vendi score (via the d×d covariance, so it is
  O(n·d²)), mean nearest-neighbour distance, and per sample ``local_redundancy`` (how crowded its
  neighbourhood is); score = 1 − redundancy.
* ``lexical_diversity`` — distinct-1/2 of answers, length distributions, language mix.

Task-type mix and instruction form live in :mod:`scorers.task_mix`.  Dataset-wide passes use the fast
embedding tier by default (``tier`` parameter); every summary names the model and tier it used.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
from pydantic import Field

from scorers import _vectors as V
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

Tier = Literal["fast", "full"]


# --------------------------------------------------------------------------------------------------
# clusters
# --------------------------------------------------------------------------------------------------
class ClusterParams(ScorerParams):
    tier: Tier = Field("fast", description="Embedding tier: fast (static, dataset-wide) or full (encoder).")
    min_k: int = Field(2, ge=1, description="Fewest clusters considered (the search band is √n/4 … √n).")
    max_k: int = Field(40, ge=1, description="Most clusters considered (also capped at rows/10).")
    silhouette_sample: int = Field(2000, ge=100, description="Rows used to compare candidate k by silhouette.")
    keywords: int = Field(8, ge=1, le=50, description="c-TF-IDF keywords reported per cluster.")
    under_ratio: float = Field(
        0.25, gt=0, lt=1, description="A cluster below this × the mean cluster size is under-represented."
    )
    over_ratio: float = Field(
        3.0, gt=1, description="A cluster above this × the mean cluster size is over-represented."
    )


def choose_k(x: np.ndarray, candidates: Sequence[int], seed: int, sample: int) -> tuple[int, dict[int, float]]:
    """The candidate k with the best silhouette (cosine) on a random subsample of the rows."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sub = x if len(x) <= sample else x[rng.choice(len(x), sample, replace=False)]
    scores: dict[int, float] = {}
    for k in candidates:
        labels = kmeans(sub, k, seed)
        if len(set(labels.tolist())) < 2:
            scores[k] = -1.0
            continue
        scores[k] = float(silhouette_score(sub, labels, metric="cosine"))
    best = max(candidates, key=lambda k: (round(scores[k], 3), -k))
    return best, scores


def kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if k <= 1:
        return np.zeros(len(x), dtype=np.int64)
    if len(x) > 10_000:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=3)
    return model.fit_predict(x.astype(np.float64)).astype(np.int64)


def candidate_ks(n: int, min_k: int, max_k: int) -> list[int]:
    """Candidate cluster counts between √n/4 and √n (bounded by min_k, max_k and n/10).

    Silhouette alone favours k = 2 on sentence embeddings (two broad halves always separate
    best), which says nothing useful about topics; the √n band keeps clusters reportable
    (tens to hundreds of samples each) and lets the silhouette choose within it.
    """
    root = math.sqrt(max(n, 1))
    hi = min(max_k, max(n // 10, 1), max(int(round(root)), 1))
    lo = min(max(min_k, int(round(root / 4))), hi)
    if hi <= lo:
        return [lo]
    grid = {lo, hi}
    k = lo
    while k < hi:
        grid.add(k)
        k = max(k + 1, int(round(k * 1.5)))
    return sorted(grid)


def ctfidf_keywords(docs: Sequence[list[str]], labels: np.ndarray, k: int, top: int) -> list[list[str]]:
    """Class-based TF-IDF (BERTopic's c-TF-IDF): tf within the cluster × log(1 + A / tf over all clusters)."""
    counts = [Counter() for _ in range(k)]
    for toks, c in zip(docs, labels):
        counts[int(c)].update(toks)
    total = Counter()
    for c in counts:
        total.update(c)
    avg = sum(total.values()) / max(k, 1)
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        weighted = {w: (f / size) * math.log(1 + avg / total[w]) for w, f in c.items() if f >= 2 or size < 50}
        out.append([w for w, _ in sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]])
    return out


def map_2d(x: np.ndarray) -> np.ndarray:
    """2-D coordinates for the report's map: the first two principal components of the embeddings.

    PCA rather than t-SNE/UMAP: deterministic, O(n·d²) through the d×d covariance (seconds at 200k rows),
    and distances along its axes mean what they say.  Fewer than 3 rows: all at the origin.
    """
    if len(x) < 3:
        return np.zeros((len(x), 2))
    from sklearn.decomposition import PCA

    return PCA(n_components=2, svd_solver="covariance_eigh").fit_transform(x.astype(np.float64))


def normalised_entropy(sizes: Sequence[int]) -> float:
    total = sum(sizes)
    if total == 0 or len(sizes) < 2:
        return 0.0
    p = np.asarray([s / total for s in sizes if s > 0])
    return float(-(p * np.log(p)).sum() / math.log(len(sizes)))


@register
class InstructionClusters(Scorer):
    """Topic clusters of the instructions with keywords and representative samples."""

    name = "instruction_clusters"
    version = "2"
    dimension = "diversity"
    Params = ClusterParams
    after = ("language",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: ClusterParams = self.params  # type: ignore[assignment]
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={"clusters": []})
        x = ctx.embeddings("instruction", tier=p.tier)
        ks = candidate_ks(n, p.min_k, p.max_k)
        if len(ks) == 1:
            k, sil = ks[0], {}
        else:
            k, sil = choose_k(x, ks, ctx.seed, p.silhouette_sample)
        labels = kmeans(x, k, ctx.seed)
        k = int(labels.max()) + 1
        texts = ctx.texts("instruction")
        docs = [V.words(t) for t in texts]
        keywords = ctfidf_keywords(docs, labels, k, p.keywords)
        sizes = np.bincount(labels, minlength=k)
        mean = n / k
        clusters = []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            centre = x[members].mean(axis=0)
            centre /= max(float(np.linalg.norm(centre)), 1e-12)
            rep = members[np.argsort(-(x[members] @ centre), kind="stable")[:3]]
            status = "under" if sizes[c] < p.under_ratio * mean else "over" if sizes[c] > p.over_ratio * mean else "ok"
            clusters.append(
                {
                    "id": c,
                    "size": int(sizes[c]),
                    "share": float(sizes[c] / n),
                    "keywords": keywords[c],
                    "representatives": [{"index": samples[i].index, "instruction": V.snippet(texts[i])} for i in rep],
                    "representation": status,
                }
            )
        flags: list[list[Flag]] = [[] for _ in range(n)]
        summary: dict[str, Any] = {
            "k": k,
            "k_candidates": {str(kk): v for kk, v in sil.items()},
            "k_rule": "best silhouette (cosine) on a random subsample among k in [√n/4, √n] (bounded by min_k, max_k, n/10)",
            "size_entropy": normalised_entropy(sizes.tolist()),
            "clusters": sorted(clusters, key=lambda c: -c["size"]),
            "under_represented": [c["id"] for c in clusters if c["representation"] == "under"],
            "over_represented": [c["id"] for c in clusters if c["representation"] == "over"],
            "embedding": V.embedding_info(ctx, p.tier),
        }
        xy = map_2d(x)
        summary["map"] = "first two principal components of the instruction embeddings (per sample: map_x, map_y)"
        fields = [{"cluster": int(c), "map_x": float(xy[i, 0]), "map_y": float(xy[i, 1])} for i, c in enumerate(labels)]
        return ScorerResult(scores=None, flags=flags, fields=fields, summary=summary)


# --------------------------------------------------------------------------------------------------
# semantic spread: Vendi, nearest-neighbour distance, local redundancy
# --------------------------------------------------------------------------------------------------
class SemanticParams(ScorerParams):
    tier: Tier = Field("fast", description="Embedding tier: fast (static, dataset-wide) or full (encoder).")
    view: Literal["context", "instruction", "text"] = Field(
        "context",
        description=(
            "Which text is embedded: context (the instruction; for a multi-turn chat the end of the conversation "
            "before the answer), instruction (the last user turn) or text (the whole sample)."
        ),
    )
    neighbours: int = Field(10, ge=1, le=100, description="Neighbours that define a sample's local redundancy.")
    crowded: float = Field(
        0.9, gt=0, le=1, description="Local redundancy at or above which a sample is flagged as crowded."
    )


def vendi_score(x: np.ndarray) -> float:
    """Vendi score (Friedman & Dieng 2023) of unit vectors, via the d×d matrix XᵀX/n.

    The non-zero eigenvalues of the n×n similarity K/n equal those of XᵀX/n, so the score costs
    O(n·d²) instead of O(n³); it is the exponential of the eigenvalue entropy: 1 = every row the
    same, up to min(n, d) = spread over every direction.
    """
    if len(x) == 0:
        return 0.0
    x = x.astype(np.float64)
    cov = x.T @ x / len(x)
    lam = np.clip(np.linalg.eigvalsh(cov), 0, None)
    lam = lam[lam > 1e-12]
    lam = lam / lam.sum()
    return float(math.exp(-(lam * np.log(lam)).sum()))


def headline(vendi: float, dim: int) -> float:
    """Diversity headline in [0, 1]: log(Vendi) / log(dim), the share of the embedding's directions
    (in entropy terms) the data spreads over.  Nearest-neighbour distance is reported beside it but
    kept out of the headline: it shrinks as a dataset grows, so it would penalise large sets."""
    return float(min(1.0, max(0.0, math.log(max(vendi, 1.0)) / math.log(max(dim, 2)))))


@register
class SemanticDiversity(Scorer):
    """How spread out the data is in embedding space (Vendi, neighbour distance, local redundancy)."""

    name = "semantic_diversity"
    version = "1"
    dimension = "diversity"
    Params = SemanticParams
    after = ("language",)

    def reads(self) -> tuple[str, ...]:
        return (cast(SemanticParams, self.params).view,)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: SemanticParams = self.params  # type: ignore[assignment]
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=[], flags=[], fields=[], summary={})
        x = ctx.embeddings(p.view, tier=p.tier)
        idx, sim = V.neighbours(ctx, p.view, p.tier, k=max(p.neighbours, 10))
        sim = sim[:, : p.neighbours]
        idx = idx[:, : p.neighbours]
        if sim.shape[1] == 0:
            redundancy = np.zeros(n)
            nn_dist = 1.0
        else:
            redundancy = np.clip(sim.mean(axis=1), 0.0, 1.0)
            nn_dist = float(np.clip(1.0 - sim[:, 0], 0.0, 2.0).mean())
        vendi = vendi_score(x)
        flags: list[list[Flag]] = [[] for _ in range(n)]
        readable = ctx.readable([p.view])
        for i in np.flatnonzero((redundancy >= p.crowded) & readable):  # judge only what the model reads
            close = tuple(int(samples[j].index) for j in idx[i][sim[i] >= p.crowded][:5])
            flags[i].append(
                Flag(
                    "crowded_neighbourhood",
                    "diversity",
                    "info",
                    f"its {p.neighbours} nearest instructions are on average {redundancy[i]:.2f} "
                    "cosine-similar: this region of the data is crowded",
                    close,
                )
            )
        dataset = headline(vendi, x.shape[1])
        summary = {
            "headline": dataset,
            "headline_rule": "log(Vendi) / log(embedding dimension)",
            "vendi": vendi,
            "vendi_max": min(n, x.shape[1]),
            "mean_nn_distance": nn_dist,
            "local_redundancy": V.percentiles(redundancy.tolist()),
            "crowded_samples": int((redundancy >= p.crowded).sum()),
            "embedding": V.embedding_info(ctx, p.tier),
            "view": p.view,
        }
        return ScorerResult(
            scores=[float(1.0 - r) for r in redundancy],
            flags=flags,
            fields=[{"local_redundancy": float(r)} for r in redundancy],
            summary=summary,
            dataset_score=dataset,
        )


# --------------------------------------------------------------------------------------------------
# lexical spread and profile
# --------------------------------------------------------------------------------------------------
class LexicalParams(ScorerParams):
    sample_size: int = Field(
        2000,
        ge=10,
        description="Answers sampled for distinct-n (distinct-n falls with corpus size, so a fixed sample keeps datasets comparable).",
    )


def distinct_n(token_lists: Sequence[list[str]], n: int) -> float:
    grams: Counter[tuple[str, ...]] = Counter()
    total = 0
    for toks in token_lists:
        for i in range(len(toks) - n + 1):
            grams[tuple(toks[i : i + n])] += 1
            total += 1
    return len(grams) / total if total else 0.0


def answer_tokens(text: str) -> list[str]:
    """Words for Latin script, single characters for CJK (distinct-n convention for Chinese)."""
    out: list[str] = []
    for piece in text.lower().split():
        if V.has_cjk(piece):
            out.extend(ch for ch in piece if ch.isalnum())
        else:
            out.append(piece.strip(".,;:!?\"'()[]{}"))
    return [t for t in out if t]


@register
class LexicalDiversity(Scorer):
    """Distinct-1/2 of answers, length distributions and language mix."""

    name = "lexical_diversity"
    version = "1"
    dimension = "diversity"
    Params = LexicalParams
    after = ("language",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: LexicalParams = self.params  # type: ignore[assignment]
        n = len(samples)
        answers = ctx.texts("answer")
        rng = np.random.default_rng(ctx.seed)
        pick = np.arange(n) if n <= p.sample_size else np.sort(rng.choice(n, p.sample_size, replace=False))
        toks = [answer_tokens(answers[i]) for i in pick]
        langs = V.languages(ctx)
        summary = {
            "distinct_1": distinct_n(toks, 1),
            "distinct_2": distinct_n(toks, 2),
            "distinct_sample": int(len(pick)),
            "instruction_words": V.percentiles([len(answer_tokens(t)) for t in ctx.texts("instruction")]),
            "answer_words": V.percentiles([len(t) for t in toks]),
            "languages": dict(Counter(langs).most_common()),
        }
        return ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=[{} for _ in range(n)], summary=summary)
