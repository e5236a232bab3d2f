"""Curation rules on audit records (pure; embeddings built in code)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from app.curation.policy import CurationPolicy
from app.curation.select import calibrate_tau, duplicate_groups, longest_subset, random_subset, select


def rec(i, noise=1.0, quality=0.5, flags=(), cluster=None, level=None):
    r = {"index": i, "scores": {"noise": noise, "answer_quality": quality}, "flags": list(flags)}
    if cluster is not None:
        r["cluster"] = cluster
    if level is not None:
        r["difficulty_level"] = level
    return r


def flag(code, sev="warning", related=()):
    return {"code": code, "dimension": "noise", "severity": sev, "reason": "x", "related": list(related)}


def test_drop_by_flag_severity_and_threshold_each_with_one_reason() -> None:
    records = [
        rec(0),
        rec(1, flags=[flag("empty_answer", "error")]),
        rec(2, flags=[flag("refusal", "warning")]),
        rec(3, quality=0.1),
        rec(4, noise=0.2),
    ]
    sel = select(
        records,
        CurationPolicy(
            drop_flags=["refusal"], drop_severities=["error"], min_scores={"answer_quality": 0.3, "noise": 0.5}
        ),
    )
    assert sel.kept == [0]
    assert sel.dropped == {
        1: "severity:error:empty_answer",
        2: "flag:refusal",
        3: "min_score:answer_quality",
        4: "min_score:noise",
    }
    assert sum(sel.counts().values()) == len(records) - len(sel.kept)


def test_dedupe_keeps_the_best_of_each_group() -> None:
    records = [
        rec(0, quality=0.4, flags=[flag("near_duplicate", related=[1, 2])]),
        rec(1, quality=0.9, flags=[flag("near_duplicate", related=[0])]),
        rec(2, quality=0.7, flags=[flag("near_duplicate", related=[0])]),
        rec(3),
    ]
    assert duplicate_groups(records, {"near_duplicate"}) == [{0, 1, 2}]
    sel = select(records, CurationPolicy(dedupe=True))
    assert sel.kept == [1, 3] and sel.dropped == {0: "duplicate:kept_best_of_group", 2: "duplicate:kept_best_of_group"}


def test_budget_is_filled_score_first() -> None:
    records = [rec(i, quality=q) for i, q in enumerate([0.1, 0.9, 0.5, 0.8, 0.3])]
    sel = select(records, CurationPolicy(budget={"rows": 2}))
    assert sel.kept == [1, 3] and set(sel.dropped.values()) == {"budget"}
    assert select(records, CurationPolicy(budget={"fraction": 0.6})).kept == [1, 2, 3]


def test_deita_diversity_rule_rejects_near_copies_of_accepted_samples() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 16))
    emb = np.vstack([base, base[:3] + 0.01 * rng.normal(size=(3, 16))]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    records = [rec(i, quality=0.5 if i < 5 else 0.6) for i in range(8)]  # the copies rank first
    sel = select(records, CurationPolicy(diversity_threshold=0.95), embeddings=lambda: emb)
    assert sel.kept == [3, 4, 5, 6, 7]
    assert {sel.dropped[i] for i in (0, 1, 2)} == {"diversity:too_similar_to_kept"}
    assert 0.8 <= calibrate_tau(emb, 0) <= 0.98


def test_cluster_cap_and_target_mix() -> None:
    records = [rec(i, quality=1 - i / 20, cluster=i % 2, level=("easy", "medium", "hard")[i % 3]) for i in range(12)]
    capped = select(records, CurationPolicy(cluster_cap=2))
    assert capped.kept == [0, 1, 2, 3]
    mixed = select(records, CurationPolicy(budget={"rows": 6}, target_mix={"easy": 0.5, "medium": 0.0, "hard": 0.5}))
    levels = sorted(records[i]["difficulty_level"] for i in mixed.kept)
    assert levels == ["easy"] * 3 + ["hard"] * 3


def test_baselines_are_deterministic() -> None:
    assert random_subset(range(100), 10, 1) == random_subset(range(100), 10, 1) != random_subset(range(100), 10, 2)
    assert longest_subset({0: 5, 1: 50, 2: 20, 3: 50}, 2) == [1, 3]


def test_policy_validation() -> None:
    with pytest.raises(ValidationError):
        CurationPolicy(min_scores={"colour": 0.5})
    with pytest.raises(ValidationError):
        CurationPolicy(target_mix={"easy": 0.5, "hard": 0.2}, budget={"rows": 3})
    with pytest.raises(ValidationError):
        CurationPolicy(budget={"rows": 3, "fraction": 0.5})
    with pytest.raises(ValidationError):
        CurationPolicy(mix=[{"dataset_id": "x", "ratio": 0.5}])


def test_rank_by_learned_quality_reads_the_per_sample_field() -> None:
    records = [{**rec(i, quality=1 - i / 10), "learned_quality": q} for i, q in enumerate([0.2, 0.9, None, 0.6])]
    records[2].pop("learned_quality")  # a sample the ranker left unscored ranks last
    sel = select(records, CurationPolicy(rank_by="learned_quality", budget={"rows": 2}))
    assert sel.kept == [1, 3] and sel.dropped == {0: "budget", 2: "budget"}
    assert select(records, CurationPolicy(rank_by="answer_quality", budget={"rows": 2})).kept == [0, 1]
    # the best of a duplicate group is the one the ranker likes best
    dup = [{**records[0], "flags": [flag("exact_duplicate", related=[1])]}, records[1]]
    assert select(dup, CurationPolicy(rank_by="learned_quality", dedupe=True)).dropped == {
        0: "duplicate:kept_best_of_group"
    }
    with pytest.raises(ValidationError):
        CurationPolicy(rank_by="learned_qualty")
