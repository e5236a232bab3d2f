import numpy as np
import pytest

from scorers import run_audit, sample
from scorers.noise_semantic import similar_pairs

pytestmark = pytest.mark.slow


def test_similar_pairs_blocked_and_clustered_agree() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16))
    noisy = base + rng.normal(scale=0.02, size=base.shape)  # 40 near-copies
    emb = np.concatenate([base, noisy, rng.normal(size=(120, 16))]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    exact = similar_pairs(emb, 0.98, block=17)
    clustered = similar_pairs(emb, 0.98, exact_below=10, seed=1)
    truth = {(i, i + 40) for i in range(40)}
    assert truth <= {(i, j) for i, j, _ in exact}
    found = {(i, j) for i, j, _ in clustered}
    assert len(truth & found) >= 38  # the clustered search may miss a pair on a cluster boundary
    assert found <= {(i, j) for i, j, _ in exact}


def test_semantic_duplicates_group_paraphrases_and_choose_the_keeper() -> None:
    rows = [sample(0, "List three benefits of regular exercise.", "It helps."),
            sample(1, "Name three benefits of exercising regularly.",
                   "Better sleep, lower stress and a stronger heart."),
            sample(2, "What is the capital of Australia?", "Canberra."),
            sample(3, "Write a haiku about autumn leaves.", "Red leaves drift and fall / ..."),
            sample(4, "写一首关于秋天的诗。", "秋风起，落叶飞。"), sample(5, "写一首关于秋天的诗歌。", "秋天来了。")]
    out = run_audit(rows, scorers=["semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    recs = out.samples
    assert recs[0]["semantic_group"] == recs[1]["semantic_group"]
    assert recs[1]["semantic_keep"] is True and recs[0]["semantic_keep"] is False  # the more complete answer
    assert [f["code"] for f in recs[0]["flags"]] == ["semantic_duplicate"]
    assert recs[0]["flags"][0]["related"] == [1] and "most complete answer" in recs[0]["flags"][0]["reason"]
    assert all("semantic_group" not in recs[i] for i in (2, 3, 4, 5))  # English-only model: CJK not compared
    fig = out.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]
    assert fig["threshold"] == 0.8 and fig["groups"] == 1 and fig["skipped_cjk_samples"] == 2


def test_semantic_duplicate_keeper_prefers_samples_without_other_noise() -> None:
    rows = [sample(0, "List three benefits of regular exercise.", "<nooutput>"),
            sample(1, "Name three benefits of exercising regularly.", "Sleep.")]
    out = run_audit(rows, scorers=["junk_answer", "semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    assert out.samples[1]["semantic_keep"] is True
    assert "fewest other noise flags" in [f for f in out.samples[0]["flags"] if f["code"] == "semantic_duplicate"][0]["reason"]


def test_swapped_answers_are_mismatched_and_point_to_each_other() -> None:
    qa = [("How do I boil an egg?", "Place the egg in boiling water for about nine minutes, then cool it in cold water."),
          ("What causes rain?", "Water vapour in clouds condenses into droplets that grow heavy and fall as rain."),
          ("Explain how a bicycle gear works.", "Gears change how far the wheel turns for each turn of the pedals."),
          ("Give tips for a job interview.", "Research the company, practise common questions and arrive early."),
          ("Why is the sky blue?", "Air molecules scatter blue sunlight more than red light, so the sky looks blue."),
          ("How do vaccines work?", "Vaccines train the immune system to recognise a germ without causing the disease.")]
    rows = [sample(i, q, a) for i, (q, a) in enumerate(qa)]
    rows[1], rows[4] = sample(1, qa[1][0], qa[4][1]), sample(4, qa[4][0], qa[1][1])
    out = run_audit(rows, scorers=["mismatched_answer"])
    flagged = {r["index"] for r in out.samples if r["flags"]}
    assert flagged == {1, 4}
    assert out.samples[1]["flags"][0]["related"] == [4] and out.samples[4]["flags"][0]["related"] == [1]
    assert out.samples[0]["answer_cosine"] > 0.3
