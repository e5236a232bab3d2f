from __future__ import annotations

import math

import numpy as np
import pytest

from scorers import run_audit, sample
from scorers.diversity import (
    InstructionClusters,
    LexicalDiversity,
    SemanticDiversity,
    answer_tokens,
    candidate_ks,
    ctfidf_keywords,
    distinct_n,
    normalised_entropy,
    vendi_score,
)
from tests._embed_fakes import blobs, context_with

TOPICS = {
    "cooking": ["How do I bake bread with yeast?", "Give a recipe for tomato soup.", "How long should pasta boil?"],
    "code": [
        "Write a Python function to sort a list.",
        "Fix this Python loop bug.",
        "Explain Python list comprehension.",
    ],
    "zh": ["如何学习机器学习算法？", "机器学习算法有哪些类型？", "推荐一本机器学习算法的书。"],
}


def _topic_samples(per: int, sizes: dict[str, int] | None = None):
    sizes = sizes or {k: per for k in TOPICS}
    samples, vecs = [], {}
    x = blobs(len(TOPICS), max(sizes.values()), dim=16, spread=0.05)
    m = max(sizes.values())
    for t, (topic, texts) in enumerate(TOPICS.items()):
        for j in range(sizes[topic]):
            text = f"{texts[j % 3]} #{j}"
            samples.append(sample(len(samples), text, f"answer {topic} {j}"))
            vecs[text] = x[t * m + j]
    return samples, vecs


def test_clusters_recover_topics_with_keywords_and_representatives() -> None:
    samples, vecs = _topic_samples(30)
    ctx = context_with(samples, vecs, 16)
    res = InstructionClusters().score(samples, ctx)
    labels = [f["cluster"] for f in res.fields]
    assert res.summary["k"] == 3
    for start in (0, 30, 60):  # each topic is one cluster
        assert len(set(labels[start : start + 30])) == 1
    assert len(set(labels)) == 3
    by_kw = {tuple(c["keywords"]): c for c in res.summary["clusters"]}
    all_kw = [w for kws in by_kw for w in kws]
    assert "python" in all_kw and "算法" in all_kw and "学习" in all_kw  # jieba segments the Chinese cluster
    for c in res.summary["clusters"]:
        reps = [r["index"] for r in c["representatives"]]
        assert len(reps) == 3 and len({labels[i] for i in reps}) == 1
        assert c["size"] == 30 and c["representation"] == "ok"
    assert math.isclose(res.summary["size_entropy"], 1.0)
    assert res.summary["embedding"]["tier"] == "fast"


def test_under_and_over_represented_clusters_are_named() -> None:
    samples, vecs = _topic_samples(0, {"cooking": 100, "code": 100, "zh": 6})
    res = InstructionClusters(dict(min_k=3, max_k=3)).score(samples, context_with(samples, vecs, 16))
    small = [c for c in res.summary["clusters"] if c["size"] == 6]
    assert small and small[0]["representation"] == "under"
    assert res.summary["under_represented"] == [small[0]["id"]]
    assert res.summary["size_entropy"] < 0.9


def test_candidate_k_band_grows_with_data() -> None:
    assert candidate_ks(5, 2, 40) == [1]
    ks = candidate_ks(3000, 2, 40)
    assert min(ks) >= 10 and max(ks) <= 40
    assert candidate_ks(90, 2, 40) == [2, 3, 4, 6, 9]


def test_ctfidf_prefers_words_specific_to_a_cluster() -> None:
    docs = [
        ["bread", "bake", "common"],
        ["bread", "oven", "common"],
        ["python", "code", "common"],
        ["python", "bug", "common"],
    ]
    kws = ctfidf_keywords(docs, np.array([0, 0, 1, 1]), 2, 1)
    assert kws == [["bread"], ["python"]]


def test_vendi_score_counts_effective_directions() -> None:
    assert math.isclose(vendi_score(np.tile([[1.0, 0.0, 0.0]], (10, 1))), 1.0)
    assert math.isclose(vendi_score(np.eye(8)), 8.0, rel_tol=1e-9)
    assert vendi_score(np.zeros((0, 3))) == 0.0
    assert normalised_entropy([5, 5]) == 1.0 and normalised_entropy([10]) == 0.0


def test_redundant_data_scores_less_diverse_and_flags_crowding() -> None:
    spread_samples, spread_vecs = _topic_samples(10)
    varied = blobs(30, 1, dim=32, spread=0.0)
    varied_vecs = {s.instruction: varied[i] for i, s in enumerate(spread_samples)}
    dup_vecs = {s.instruction: blobs(1, 30, dim=32, spread=0.01)[i] for i, s in enumerate(spread_samples)}
    diverse = SemanticDiversity().score(spread_samples, context_with(spread_samples, varied_vecs, 32))
    redundant = SemanticDiversity().score(spread_samples, context_with(spread_samples, dup_vecs, 32))
    assert redundant.dataset_score < diverse.dataset_score
    assert redundant.summary["mean_nn_distance"] < diverse.summary["mean_nn_distance"]
    assert all(s < 0.1 for s in redundant.scores) and all(s > 0.9 for s in diverse.scores)
    crowded = [f for fl in redundant.flags for f in fl if f.code == "crowded_neighbourhood"]
    assert len(crowded) == 30 and all(len(f.related) == 5 for f in crowded)
    assert not any(diverse.flags)
    assert "local_redundancy" in redundant.fields[0]


def test_distinct_n_on_english_and_chinese() -> None:
    assert distinct_n([["a", "b", "a", "b"]], 1) == 0.5
    assert math.isclose(distinct_n([["a", "b", "a", "b"]], 2), 2 / 3)
    assert answer_tokens("巴黎 是 首都. Paris!") == ["巴", "黎", "是", "首", "都", "paris"]
    rows = [
        sample(0, "Where is the cat sitting?", "the cat sat"),
        sample(1, "Where did the cat sit?", "the cat sat"),
        sample(2, "猫在哪里坐着呢？", "猫坐着"),
    ]
    out = run_audit(rows, scorers=["language", "lexical_diversity"])
    fig = out.report["dimensions"]["diversity"]["figures"]["lexical_diversity"]
    assert fig["distinct_1"] == pytest.approx((3 + 3) / 9, abs=1e-6)
    assert set(fig["languages"]) >= {"en", "zh"}


def test_lexical_diversity_samples_a_fixed_number_of_answers() -> None:
    rows = [sample(i, "q", f"answer number {i}") for i in range(50)]
    res = LexicalDiversity(dict(sample_size=10)).score(rows, context_with(rows, {}, 4))
    assert res.summary["distinct_sample"] == 10 and res.scores is None
