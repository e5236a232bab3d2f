"""Curation says what it could not do (a budget or target mix not met), and the plan recommender returns a spec
that can be posted as it is."""

from __future__ import annotations

import json

import pytest

from app.curation.policy import CurationPolicy
from app.curation.select import select
from app.jobs.worker import Worker


def records(n: int, flagged: int = 0, levels: tuple[str, ...] = ("easy", "medium", "hard")) -> list[dict]:
    out = []
    for i in range(n):
        flags = (
            [{"code": "junk_answer", "severity": "error", "dimension": "noise", "reason": "r", "related": []}]
            if i < flagged
            else []
        )
        out.append(
            {
                "index": i,
                "scores": {"noise": 1.0, "answer_quality": 1 - i / n},
                "flags": flags,
                "difficulty_level": levels[i % len(levels)],
            }
        )
    return out


def test_a_budget_that_cannot_be_filled_is_reported() -> None:
    sel = select(records(20, flagged=8), CurationPolicy(drop_severities=["error"], budget={"rows": 15}))
    assert len(sel.kept) == 12
    assert sel.warnings == [
        "kept 12 of a budget of 15: only 12 rows passed the policy (dropped: severity:error:junk_answer 8)"
    ]
    assert select(records(20), CurationPolicy(budget={"rows": 15})).warnings == []
    assert select(records(20), CurationPolicy(budget={"rows": 30})).warnings == [
        "kept 20 of a budget of 30: only 20 rows passed the policy (the dataset has 20 rows)"
    ]


def test_a_target_mix_that_cannot_be_met_is_reported() -> None:
    recs = records(30, levels=("easy", "easy", "medium", "hard"))  # 16 easy, 7 medium, 7 hard
    sel = select(recs, CurationPolicy(budget={"rows": 20}, target_mix={"easy": 0.2, "medium": 0.3, "hard": 0.5}))
    assert "target mix: 7 hard rows kept of 10 wanted; not enough hard rows passed the policy" in sel.warnings
    assert "kept 17 of a budget of 20" in sel.warnings[0]


def test_curation_api_and_report_show_the_warning(client, settings) -> None:
    rows = [{"instruction": f"Question {i % 6}", "input": "", "output": f"Answer {i % 6}"} for i in range(12)]
    ds = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()["id"]
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()["id"]
    Worker(settings).run_once()
    cur = client.post(
        f"/v1/datasets/{ds}/curations", json={"audit_id": audit, "policy": {"dedupe": True, "budget": {"rows": 10}}}
    ).json()
    Worker(settings).run_once()
    done = client.get(f"/v1/curations/{cur['id']}").json()
    assert done["counts"]["kept"] == 6
    assert done["warnings"] == [
        "kept 6 of a budget of 10: only 6 rows passed the policy (dropped: duplicate:kept_best_of_group 6)"
    ]
    assert done["curated"]["lineage"]["curation_id"] == cur["id"]
    html = client.get(f"/v1/curations/{cur['id']}/report.html").text
    assert "kept 6 of a budget of 10" in html


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("toy") / "model")


@pytest.fixture(autouse=True)
def _model_root(request):
    """Base models come only from configured roots (issue #14)."""
    if "settings" in request.fixturenames and "toy_model" in request.fixturenames:
        request.getfixturevalue("settings").models.roots = [request.getfixturevalue("toy_model").parent]


def test_recommendation_returns_a_training_job_that_posts_as_is(client, toy_model) -> None:
    rows = [{"instruction": f"what is number {i}?", "input": "", "output": "red cat."} for i in range(8)]
    ds = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()["id"]
    plan = client.post(
        "/v1/training-plans/recommend",
        json={"domain_dataset_id": ds, "keep_general_ability": False, "base_model": str(toy_model)},
    ).json()
    assert plan["missing"] == [] and plan["spec"]["method"] == "lora" and plan["spec"]["model_kind"] == "chat"
    assert plan["training_job"]["dataset_id"] == ds
    r = client.post("/v1/training-jobs", json=plan["training_job"])
    assert r.status_code == 202, r.text
    assert r.json()["spec"]["method"] == "lora"


def test_recommendation_says_what_is_missing(client) -> None:
    plan = client.post(
        "/v1/training-plans/recommend",
        json={"domain_corpus_tokens": 3_000_000_000, "domain_sft_rows": 5000, "general_sft_rows": 8000},
    ).json()
    assert [s["name"] for s in plan["spec"]["stages"]] == ["pretrain", "sft"]
    assert plan["spec"]["stages"][0]["lr"] == 2e-5  # full fine-tuning on the corpus: a small step
    assert plan["missing"][0].startswith("base_model")
    assert any("stage 'pretrain'" in m for m in plan["missing"]) and any("policy.mix" in m for m in plan["missing"])
    assert plan["training_job"]["spec"]["base_model"] == "/path/to/base-model"
