"""learned_quality: a ranker taught by labels, or distilled from an LLM judge (a local stub server)."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import numpy as np
import pytest

from scorers import ModelConfig, run_audit, sample
from scorers.pipeline import dumps
from scorers.quality_learned import LearnedQuality, propose, stratified_pick
from tests._embed_fakes import context_with
from tests.test_quality_judge import _Judge

TOPICS = ["rivers", "volcanoes", "bread", "chess", "owls", "comets", "tides", "glass"]


def _dataset(n: int = 120, seed: int = 0):
    """Good answers explain at length with a reason; poor ones are curt and vague (label 1 / 0)."""
    rng = np.random.default_rng(seed)
    rows, good = [], []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        ok = bool(rng.random() < 0.5)
        if ok:
            answer = (
                f"{topic.capitalize()} are interesting because of how they form. First, consider the "
                f"conditions that shape {topic}; second, the history of study behind them. In short, {topic} "
                "reward a careful look, and the details above explain why."
            )
        else:
            answer = f"dunno, {topic} stuff"
        rows.append(sample(i, f"Explain something about {topic} (question {i}).", answer))
        good.append(ok)
    return rows, good


def test_needs_labels_or_a_judge_and_says_how_to_get_them() -> None:
    rows, _ = _dataset(40)
    out = run_audit(rows, scorers=["learned_quality"], labels={0: 1.0, 1: 0.0})
    (run,) = [r for r in out.report["scorers"] if r["name"] == "learned_quality"]
    assert run["status"] == "not_computed"
    assert "upload a label file" in run["reason"] and "judge_budget" in run["reason"] and "2 labelled" in run["reason"]


def test_learns_from_given_labels_and_scores_every_sample() -> None:
    rows, good = _dataset(120)
    labels = {i: float(good[i]) for i in range(0, 120, 2)}  # half labelled; a rating scale would be (r-1)/4
    params = {"learned_quality": {"tier": "none", "min_labels": 20, "propose": 10}}
    out = run_audit(rows, scorers=["learned_quality"], params=params, labels=labels, seed=3)
    (run,) = out.report["scorers"]
    assert run["status"] == "ok"
    summary = out.report["dimensions"]["answer_quality"]["figures"]["learned_quality"]
    assert summary["labels_used"] == 60 and summary["label_sources"] == {"given": 60, "judge": 0}
    assert summary["cv_auroc"] > 0.9
    assert sum(b["labels"] for b in summary["calibration"]) == 60
    assert summary["top_features"] and {"name", "weight"} <= set(summary["top_features"][0])
    scores = [r["learned_quality"] for r in out.samples]
    assert all(0.0 <= s <= 1.0 for s in scores) and len(scores) == 120
    unlabelled = [i for i in range(120) if i not in labels]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score([good[i] for i in unlabelled], [scores[i] for i in unlabelled]) > 0.9
    # labelled rows get no priority; proposals are unlabelled rows
    assert all(out.samples[i]["label_priority"] is None for i in labels)
    assert len(summary["proposed_next"]) == 10 and not set(summary["proposed_next"]) & set(labels)
    # the headline now ranks: the estimated share of good answers
    dim = out.report["dimensions"]["answer_quality"]
    assert dim["measures"].startswith("estimated share of good answers") and abs(dim["score"] - np.mean(scores)) < 1e-6
    again = run_audit(rows, scorers=["learned_quality"], params=params, labels=labels, seed=3)
    assert dumps(again.report) == dumps(out.report)


def test_embedding_features_reach_the_model() -> None:
    rows, good = _dataset(80)
    # answers carry no textual cue here: only their embedding says which are good
    rows = [sample(s.index, s.instruction, f"Answer number {s.index}.") for s in rows]
    vectors = {
        s.answer: np.r_[1.0 if g else -1.0, np.random.default_rng(s.index).normal(size=7) * 0.3]
        for s, g in zip(rows, good)
    }
    ctx = context_with(rows, vectors, 8, labels={i: float(good[i]) for i in range(0, 80, 2)})
    res = LearnedQuality({"tier": "fast", "min_labels": 20}).score(rows, ctx)
    assert res.summary["features"]["embedding_tiers"] == ["fast"] and res.summary["cv_auroc"] > 0.9
    assert any(f["name"].startswith("answer embedding (fast)") for f in res.summary["top_features"][:5])


def test_stratified_picks_and_proposals_spread_across_clusters() -> None:
    clusters = np.repeat(np.arange(4), 25)
    picks = stratified_pick(np.arange(100), clusters, 8, seed=0)
    assert len(picks) == 8 and np.bincount(clusters[picks]).tolist() == [2, 2, 2, 2]
    priority = np.linspace(0, 1, 100)  # the most uncertain rows are all in the last cluster
    got = propose(priority, clusters, np.array([99]), 4)
    assert 99 not in got and sorted(clusters[got].tolist()) == [0, 1, 2, 3]


class _RatingJudge(_Judge):
    """Rates 5 on every criterion unless the answer is curt ("dunno"), then 1."""

    seen: list = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = body["messages"][-1]["content"]
        type(self).seen.append(user)
        r = 1 if "dunno" in user.split("ANSWER:")[-1] else 5
        content = json.dumps({"accuracy": r, "completeness": r, "conciseness": r, "clarity": r, "reason": "stub"})
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})


@pytest.fixture
def rating_judge():
    _RatingJudge.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RatingJudge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_judge_distillation_end_to_end(rating_judge: str) -> None:
    rows, good = _dataset(150, seed=1)
    given = {0: float(good[0]), 1: float(good[1])}
    params = {
        "learned_quality": {
            "tier": "none",
            "judge_budget": 40,
            "min_labels": 20,
            "clusters": 4,
            "judge": {"concurrency": 2, "backoff_s": 0.01, "timeout_s": 5},
        }
    }
    out = run_audit(
        rows,
        scorers=["learned_quality"],
        params=params,
        labels=given,
        models=ModelConfig(judge_url=rating_judge, judge_model="stub"),
    )
    (run,) = out.report["scorers"]
    assert run["status"] == "ok", run["reason"]
    summary = out.report["dimensions"]["answer_quality"]["figures"]["learned_quality"]
    # the judge labelled exactly the budget, never a sample that already had a label
    assert len(_RatingJudge.seen) == 40 and summary["judge_requested"] == 40
    judged = dict((i, v) for i, v in summary["judge_labels"])
    assert len(judged) == 40 and not set(judged) & set(given)
    assert all(v == float(good[i]) for i, v in judged.items())  # ratings 5 → 1.0, 1 → 0.0
    assert summary["label_sources"] == {"given": 2, "judge": 40} and summary["labels_used"] == 42
    # the ranker was trained on them and scores every sample
    scores = [r["scores"].get("answer_quality") for r in out.samples]
    assert all(s is not None for s in scores)
    rest = [i for i in range(150) if i not in judged and i not in given]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score([good[i] for i in rest], [out.samples[i]["learned_quality"] for i in rest]) > 0.9
    # no key and no endpoint in the report
    assert "127.0.0.1" not in dumps(out.report)


def test_without_a_judge_the_budget_is_not_enough() -> None:
    rows, _ = _dataset(40)
    out = run_audit(rows, scorers=["learned_quality"], params={"learned_quality": {"judge_budget": 10, "tier": "none"}})
    (run,) = out.report["scorers"]
    assert run["status"] == "not_computed" and "0 labelled samples" in run["reason"]


def test_comparisons_of_answers_to_one_prompt_are_fitted_as_pairs() -> None:
    # preference data: each prompt has a good and a bad reply; the prompts' own wording varies a lot
    rows, good, k = [], [], 0
    for i in range(40):
        prompt = f"Question {i}: " + " ".join(["about", TOPICS[i % 8]] * (1 + i % 5))
        for ok in (True, False):
            answer = (
                f"A careful answer on {TOPICS[i % 8]}, with the reason it holds and an example."
                if ok
                else f"dunno, {TOPICS[i % 8]}"
            )
            rows.append(sample(k, prompt, answer))
            good.append(ok)
            k += 1
    labels = {i: float(good[i]) for i in range(40)}  # the first 20 pairs
    params = {"learned_quality": {"tier": "none", "min_labels": 20}}
    out = run_audit(rows, scorers=["learned_quality"], params=params, labels=labels)
    summary = out.report["dimensions"]["answer_quality"]["figures"]["learned_quality"]
    assert summary["fitted_on"] == "comparisons of answers to the same prompt"
    s = [r["learned_quality"] for r in out.samples]
    held = range(20, 40)
    assert all(s[2 * i] > s[2 * i + 1] for i in held)  # the good reply of every held-out pair ranks first
