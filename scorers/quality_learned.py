"""``learned_quality``: a ranker taught by labels of this dataset, or distilled from an LLM judge.

The model-free checks find defects; they cannot tell a good ordinary answer from a mediocre one.
Given quality labels for some samples (``ctx.labels``: an uploaded label file, keep/drop in the
sample browser) and/or an LLM judge run on a budget of samples picked here (stratified by cluster),
this scorer fits a logistic regression (:mod:`scorers._ranker`) on what the audit already computed
(:mod:`scorers._quality_features`: both embedding tiers of instruction and answer and their
interaction, the checks' sub-scores and flags, lengths and ratios, task type, model signals where
present) and scores every sample with the probability that its answer is good.

It reports its cross-validated AUROC, the labels it used and where they came from, its calibration,
the features that carry it, and proposes the next samples to label: the most uncertain ones,
spread across clusters.

Cost: above ``models.full_tier_max_samples`` only the fast embedding tier is used (the full encoder
embeds ~85 texts/s on two CPU cores).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
from pydantic import Field

from scorers._quality_features import Features, build_features
from scorers._ranker import binary, calibration, fit_ranker
from scorers.answer_quality import ANSWER_NOISE, MODEL_FREE
from scorers.base import NotComputed, Scorer, ScorerParams, ScorerResult, get_scorer, register
from scorers.context import ScoringContext
from scorers.quality_judge import SUBDIMENSIONS, JudgeClient, JudgeParams, _Fatal
from scorers.samples import Sample

HOW_TO_LABEL = (
    "upload a label file, label samples in the sample browser, or configure an LLM judge and set judge_budget"
)


class LearnedQualityParams(ScorerParams):
    min_labels: int = Field(30, ge=4, description="Fewest labels (given and from the judge) to fit the ranker on.")
    folds: int = Field(5, ge=2, le=20, description="Cross-validation folds (fewer when a class has fewer labels).")
    judge_budget: int = Field(
        0,
        ge=0,
        description=(
            "Samples this audit may send to the configured LLM judge for a label (0 = never call the judge). "
            "Samples that already have a label are never sent."
        ),
    )
    tier: Literal["auto", "full", "fast", "both", "none"] = Field(
        "auto",
        description=(
            "Embedding tiers read as features: auto = full and fast up to the models' full_tier_max_samples, fast "
            "above; none = no embeddings."
        ),
    )
    propose: int = Field(50, ge=0, le=500, description="How many samples to propose for labelling next.")
    clusters: int = Field(
        20,
        ge=1,
        le=200,
        description=(
            "Clusters to spread proposals and judge picks over, when the instruction_clusters scorer did not run."
        ),
    )
    judge: JudgeParams = Field(
        default_factory=JudgeParams, description="How the judge is called (timeouts, retries, concurrency)."
    )


@register
class LearnedQuality(Scorer):
    """Probability that the answer is good, learned from labels of this dataset or from an LLM judge."""

    name = "learned_quality"
    version = "1"
    dimension = "answer_quality"
    Params = LearnedQualityParams
    after = (
        "answer_quality",
        *MODEL_FREE,
        *ANSWER_NOISE,
        "answer_relevance",
        "answer_perplexity",
        "answer_ifd",
        "answer_reward",
        "answer_judge",
        "task_type",
        "instruction_clusters",
        "wrong_language",
        "mismatched_answer",
    )

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p: LearnedQualityParams = self.params  # type: ignore[assignment]
        n = len(samples)
        pos = {s.index: i for i, s in enumerate(samples)}
        given = {pos[k]: float(v) for k, v in (ctx.labels or {}).items() if k in pos and 0.0 <= float(v) <= 1.0}
        judge_ok = p.judge_budget > 0 and bool(ctx.models.judge_url)
        if len(given) < p.min_labels and not judge_ok:
            raise NotComputed(
                f"{len(given)} labelled samples, {p.min_labels} needed to learn answer quality: {HOW_TO_LABEL}"
            )
        tiers = self._tiers(n, ctx)
        # memoised: a re-fit on other labels within one audit (or a bench) reuses the features
        feats = ctx.memo(
            f"learned_quality:features:{','.join(tiers)}",
            lambda: build_features(samples, ctx, self._results(samples, ctx), tiers),
        )
        clusters = ctx.memo(
            f"learned_quality:clusters:{','.join(tiers)}:{p.clusters}", lambda: self._clusters(ctx, feats)
        )
        judged, judge_info = self._judge(samples, ctx, given, clusters) if judge_ok else ({}, {})
        labels = {**judged, **given}
        values = np.array([labels[i] for i in sorted(labels)])
        decided = binary(values)
        if len(labels) < p.min_labels:
            raise NotComputed(
                f"{len(labels)} labelled samples ({len(given)} given, {len(judged)} from the judge), "
                f"{p.min_labels} needed to learn answer quality: {HOW_TO_LABEL}"
            )
        if min((decided == 1).sum(), (decided == 0).sum()) < 2:
            raise NotComputed(
                f"the {len(labels)} labels are nearly all of one kind (good {int((decided == 1).sum())}, "
                f"bad {int((decided == 0).sum())}): label at least two good and two bad answers"
            )
        labelled = np.array(sorted(labels))
        groups = ctx.memo("learned_quality:prompt_groups", lambda: prompt_groups(samples))
        fit = fit_ranker(feats.matrix(), labelled, values, p.folds, ctx.seed, groups, blocks_from=len(feats.names))
        prob = fit.probability
        priority = 1.0 - np.abs(2.0 * prob - 1.0)
        priority[labelled] = 0.0
        proposed = propose(priority, clusters, labelled, p.propose)
        fields = [
            {"learned_quality": float(prob[i]), "label_priority": None if i in labels else float(priority[i])}
            for i in range(n)
        ]
        mean = float(prob.mean()) if n else None
        cv = fit.cv_auroc
        summary = {
            "labels_used": len(labels),
            "label_sources": {"given": len(given), "judge": len(judged)},
            "labels_ignored": len(ctx.labels or {}) - len(given),
            "cv_auroc": cv,
            "folds": p.folds,
            "regularisation_C": fit.C,
            "embedding_weight": fit.block_weight,
            "fitted_on": "comparisons of answers to the same prompt" if fit.pairwise else "labels",
            "calibration": calibration(values, fit.oof),
            "top_features": top_features(feats, fit.coef),
            "features": {
                "named": len(feats.names),
                "embedding_tiers": list(tiers),
                "columns": len(feats.column_names()),
            },
            "proposed_next": [samples[i].index for i in proposed],
            "judge_labels": [[samples[i].index, v] for i, v in sorted(judged.items())],
            **judge_info,
            "dimension_headline": {
                "value": mean,
                "measures": (
                    f"estimated share of good answers (learned_quality from {len(labels)} labels"
                    + (f", cross-validated AUROC {cv:.2f})" if cv is not None else ")")
                ),
            },
        }
        return ScorerResult(
            scores=[float(v) for v in prob], flags=[[] for _ in range(n)], fields=fields, summary=summary
        )

    # --- inputs ---------------------------------------------------------------------------------
    @staticmethod
    def _results(samples: Sequence[Sample], ctx: ScoringContext) -> dict[str, Any]:
        """What the audit computed, plus the model-free checks and answer_quality when not selected."""
        results = dict(ctx.results)
        for name in (*MODEL_FREE, *ANSWER_NOISE, "answer_quality"):
            if results.get(name) is None:
                results[name] = ctx.memo(
                    f"answer_quality:{name}", lambda name=name: get_scorer(name)().score(samples, ctx)
                )
        return results

    def _tiers(self, n: int, ctx: ScoringContext) -> tuple[str, ...]:
        tier = self.params.tier  # type: ignore[attr-defined]
        if tier == "none":
            return ()
        if tier == "auto":
            tiers: tuple[str, ...] = ("full", "fast") if n <= ctx.models.full_tier_max_samples else ("fast",)
        else:
            tiers = ("full", "fast") if tier == "both" else (tier,)
        try:
            for t in tiers:
                ctx.embedder(t)
        except NotComputed:
            return ()
        return tiers

    def _clusters(self, ctx: ScoringContext, feats: Features) -> np.ndarray:
        """Per-sample cluster: the instruction_clusters scorer's when it ran, else k-means here."""
        from scorers._vectors import cluster_labels

        known = cluster_labels(ctx)
        n = feats.named.shape[0]
        if known is not None and len(known) == n:
            return np.asarray(known)
        x = next((b for name, b in feats.blocks.items() if name.startswith("instruction embedding")), None)
        k = min(self.params.clusters, max(1, n // 5))  # type: ignore[attr-defined]
        if x is None or k <= 1:
            return np.zeros(n, dtype=int)
        from sklearn.cluster import MiniBatchKMeans

        return MiniBatchKMeans(n_clusters=k, random_state=ctx.seed, n_init=3, batch_size=4096).fit_predict(x)

    # --- the judge ------------------------------------------------------------------------------
    def _judge(
        self, samples: Sequence[Sample], ctx: ScoringContext, given: dict[int, float], clusters: np.ndarray
    ) -> tuple[dict[int, float], dict[str, Any]]:
        """Labels from the judge for ``judge_budget`` samples spread across clusters."""
        p: LearnedQualityParams = self.params  # type: ignore[assignment]
        eligible = np.array([i for i, s in enumerate(samples) if i not in given and s.answer.strip()], dtype=int)
        picks = stratified_pick(eligible, clusters, p.judge_budget, ctx.seed)
        client = JudgeClient(ctx.models.judge_url or "", ctx.models.judge_model, p.judge)
        try:
            with ThreadPoolExecutor(max_workers=p.judge.concurrency) as pool:
                verdicts = list(pool.map(lambda i: client.judge(samples[i]), picks))
        except _Fatal as e:
            if len(given) >= p.min_labels:
                return {}, {"judge_error": str(e)}
            raise NotComputed(str(e)) from None
        finally:
            client.close()
        out: dict[int, float] = {}
        failed = 0
        for i, v in zip(picks, verdicts):
            if v.ratings is None:
                failed += 1
                continue
            out[int(i)] = float(np.mean([(float(v.ratings[k]) - 1) / 4 for k in SUBDIMENSIONS]))  # type: ignore[arg-type]
        return out, {"judge_requested": len(picks), "judge_failed": failed, "judge_model": ctx.models.judge_model}


def prompt_groups(samples: Sequence[Sample]) -> np.ndarray:
    """One id per distinct prompt (everything before the final answer)."""
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(s.prompt_text, len(ids)) for s in samples], dtype=int)


def stratified_pick(eligible: np.ndarray, clusters: np.ndarray, budget: int, seed: int) -> list[int]:
    """``budget`` rows of ``eligible``, each cluster given its share (at least one while budget lasts)."""
    if budget >= len(eligible):
        return sorted(int(i) for i in eligible)
    rng = np.random.default_rng(seed)
    groups: dict[int, list[int]] = {}
    for i in rng.permutation(eligible):
        groups.setdefault(int(clusters[i]), []).append(int(i))
    order = sorted(groups, key=lambda c: -len(groups[c]))
    quota = {c: math.floor(budget * len(groups[c]) / len(eligible)) for c in order}
    left = budget - sum(quota.values())
    for c in order:  # the remainder goes one each to the clusters that got least
        if left <= 0:
            break
        if quota[c] < len(groups[c]):
            quota[c] += 1
            left -= 1
    return sorted(i for c in order for i in groups[c][: quota[c]])


def propose(priority: np.ndarray, clusters: np.ndarray, labelled: np.ndarray, k: int) -> list[int]:
    """The ``k`` most uncertain unlabelled rows, taken round-robin over clusters (most uncertain first)."""
    taken = set(labelled.tolist())
    queues: dict[int, list[int]] = {}
    for i in np.argsort(-priority, kind="stable"):
        if int(i) not in taken:
            queues.setdefault(int(clusters[i]), []).append(int(i))
    out: list[int] = []
    while len(out) < k and any(queues.values()):
        for c in sorted(queues, key=lambda c: -priority[queues[c][0]] if queues[c] else 0.0):
            if queues[c] and len(out) < k:
                out.append(queues[c].pop(0))
    return out


def top_features(feats: Features, coef: np.ndarray, k: int = 15) -> list[dict[str, Any]]:
    """Named features by weight (on standardised values), embedding blocks by the norm of their weights."""
    rows: list[dict[str, Any]] = [{"name": name, "weight": float(coef[j])} for j, name in enumerate(feats.names)]
    for name, (a, b) in feats.block_spans().items():
        rows.append({"name": f"{name} ({b - a} dimensions; weight = norm)", "weight": float(np.linalg.norm(coef[a:b]))})
    rows.sort(key=lambda r: -abs(r["weight"]))
    return rows[:k]
