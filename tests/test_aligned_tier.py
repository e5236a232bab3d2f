"""The aligned tier: fast vectors mapped onto the full encoder's scale, and the scorers that search on it
and verify their candidates on the full encoder (used above ``full_tier_max_samples``)."""

from __future__ import annotations

import numpy as np
import pytest

from scorers import sample
from scorers.embeddings import fit_alignment
from scorers.models import ModelConfig
from tests._embed_fakes import FakeEmbedder
from tests.raw import run_audit
from tests.test_quality_relevance import _rows, swapped_samples

ALIGNED = ModelConfig(full_tier_max_samples=0)  # every dataset is "large": auto picks the aligned tier


class _Mapped:
    """A fast tier that is a fixed linear distortion of the full tier plus noise."""

    def __init__(self, full: FakeEmbedder, dim: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.full, self.m = full, rng.normal(size=(full.dimension, dim))
        self.noise = 0.02

    def encode(self, texts):
        x = self.full.encode(texts) @ self.m
        x += self.noise * np.random.default_rng(len(texts)).normal(size=x.shape)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_alignment_recovers_a_linear_distortion_and_reports_heldout_agreement() -> None:
    full = FakeEmbedder({}, 24, tier="full")
    fast = _Mapped(full, 32)
    texts = [f"text number {i}" for i in range(400)]
    al = fit_alignment([texts[:200], texts[200:]], fast, full, rows=150, seed=1)
    assert al.info["sample_rows"] == 150 and al.info["texts"] == 300
    assert al.info["heldout_cosine_to_full"] > 0.95
    unseen = [f"another text {i}" for i in range(50)]
    got = al.apply(fast.encode(unseen))
    raw = fast.encode(unseen)[:, :24]
    agreement = np.einsum("ij,ij->i", got, full.encode(unseen))
    assert agreement.mean() > 0.95 > float(np.abs(np.einsum("ij,ij->i", raw, full.encode(unseen))).mean())
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_alignment_needs_some_text() -> None:
    from scorers.base import NotComputed

    full = FakeEmbedder({}, 8, tier="full")
    with pytest.raises(NotComputed, match="too few texts"):
        fit_alignment([["a", "b"]], _Mapped(full, 8), full)


@pytest.mark.slow
def test_semantic_duplicates_on_the_aligned_tier_are_verified_on_the_full_encoder() -> None:
    pairs = _rows()
    rows = [sample(i, q, a) for i, (q, a) in enumerate(pairs)]
    n = len(rows)
    rows += [
        sample(n, "List three benefits of regular exercise.", "It helps."),
        sample(
            n + 1, "Name three benefits of exercising regularly.", "Better sleep, lower stress and a stronger heart."
        ),
    ]
    params = {"semantic_duplicate": {"threshold": 0.8, "candidate_threshold": 0.5}}
    full = run_audit(rows, scorers=["semantic_duplicate"], params=params)
    aligned = run_audit(rows, scorers=["semantic_duplicate"], params=params, models=ALIGNED)
    fig = aligned.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]
    assert (
        fig["search_tier"] == "aligned"
        and full.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]["search_tier"] == "full"
    )
    assert fig["verified_pairs"] >= 1 and fig["samples_embedded_full"] >= 2
    assert 0 < fig["alignment"]["heldout_cosine_to_full"] <= 1
    groups = lambda out: sorted(r["index"] for r in out.samples if "semantic_group" in r)  # noqa: E731
    assert groups(aligned) == groups(full) == [n, n + 1]
    # a candidate is never flagged on aligned similarity alone: with no verification budget nothing is flagged
    none = run_audit(
        rows,
        scorers=["semantic_duplicate"],
        models=ALIGNED,
        params={"semantic_duplicate": {**params["semantic_duplicate"], "max_verify": 0}},
    )
    assert (
        groups(none) == []
        and none.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]["unverified_pairs"] >= 1
    )


@pytest.mark.slow
def test_a_repeated_instruction_is_one_group_with_few_candidates_on_the_aligned_tier() -> None:
    """Forty rows asking one thing (copies and rewordings) with other answers: at most max_neighbours candidate pairs
    a row reach the full encoder (not the 780 pairs of the forty), and they still make one group."""
    asks = [
        "List three benefits of regular exercise.",
        "List three benefits of regular exercise!",
        "Name three benefits of regular exercise.",
        "List 3 benefits of regular exercise.",
        "Please list three benefits of regular exercise.",
    ]
    rows = [sample(i, asks[i % len(asks)], f"Answer {i}: it helps the heart.") for i in range(40)]
    n = len(rows)
    rows += [sample(n + i, q, a) for i, (q, a) in enumerate(_rows())]
    k = 3
    out = run_audit(
        rows,
        scorers=["semantic_duplicate"],
        models=ALIGNED,
        params={"semantic_duplicate": {"threshold": 0.8, "candidate_threshold": 0.5, "max_neighbours": k}},
    )
    fig = out.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]
    assert fig["search_tier"] == "aligned" and fig["max_neighbours"] == k
    assert fig["candidate_pairs"] <= k * len(rows) and fig["unverified_pairs"] == 0
    groups = {r["semantic_group"] for r in out.samples[:n] if "semantic_group" in r}
    assert len(groups) == 1 and all("semantic_group" in r for r in out.samples[:n])
    assert sum(r["semantic_keep"] for r in out.samples[:n]) == 1


@pytest.mark.slow
def test_relevance_and_mismatch_on_the_aligned_tier_rescore_doubtful_answers_on_the_full_encoder() -> None:
    a, b = 1, 19
    samples = swapped_samples(a, b)
    out = run_audit(samples, scorers=["answer_relevance", "mismatched_answer"], seed=3, models=ALIGNED)
    off = {r["index"] for r in out.samples if any(f["code"] == "answer_off_topic" for f in r["flags"])}
    assert {a, b} <= off and len(off - {a, b}) <= 2
    for i in (a, b):
        assert out.samples[i]["answer_relevance"]["tier"] == "full"  # flagged only after the full encoder agreed
    rel = out.report["dimensions"]["answer_quality"]["figures"]["answer_relevance"]
    assert rel["tier"] == "aligned" and rel["verified_full"] >= 2
    mis = out.report["dimensions"]["noise"]["figures"]["mismatched_answer"]
    assert mis["search_tier"] == "aligned" and mis["verified_full"] >= 2
    swapped = {r["index"] for r in out.samples if any(f["code"] == "mismatched_answer" for f in r["flags"])}
    assert swapped == {a, b}
