"""Audits that run local models are queued as ``model_audit``; a worker with a GPU claims those (and training) first."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.db import queue
from app.db.models import Job, Project
from app.db.session import session_scope
from app.jobs import capabilities
from app.jobs.worker import Worker
from app.services import job_kinds
from app.settings import ModelSettings


def _enqueue(settings, project_id: str, *kinds: str) -> list[str]:
    with session_scope(settings.db_url) as s:
        return [queue.enqueue(s, project_id, k, {}, 3).id for k in kinds]


def _claim(settings, prefer: tuple[str, ...]) -> str | None:
    with session_scope(settings.db_url) as s:
        c = queue.claim(s, "w", 30, ("audit", "model_audit", "training"), prefer=prefer)
        return c.kind if c else None


def test_preferred_kinds_are_claimed_before_older_jobs(settings, api_key) -> None:
    with session_scope(settings.db_url) as s:
        project_id = s.scalar(select(Project.id))
    _enqueue(settings, project_id, "audit", "audit", "training", "model_audit")
    # a GPU worker: model audits, then training, ahead of the older audits
    assert _claim(settings, ("model_audit", "training")) == "training"  # both preferred: the older first
    assert _claim(settings, ("model_audit", "training")) == "model_audit"
    assert _claim(settings, ("model_audit", "training")) == "audit"
    # a worker without preferences takes the oldest
    _enqueue(settings, project_id, "model_audit")
    assert _claim(settings, ()) == "audit"
    assert _claim(settings, ()) == "model_audit"
    assert _claim(settings, ()) is None


def test_a_worker_prefers_gpu_kinds_only_when_it_sees_a_gpu(settings, monkeypatch) -> None:
    monkeypatch.setattr(capabilities, "gpu_visible", lambda: True)
    assert capabilities.preferred_kinds(settings) == ("model_audit", "training")
    assert Worker(settings).prefer_kinds == ("model_audit", "training")
    monkeypatch.setattr(capabilities, "gpu_visible", lambda: False)
    assert capabilities.preferred_kinds(settings) == ()
    explicit = settings.model_copy(update={"worker": settings.worker.model_copy(update={"prefer_kinds": ["training"]})})
    assert capabilities.preferred_kinds(explicit) == ("training",)
    off = settings.model_copy(update={"worker": settings.worker.model_copy(update={"prefer_kinds": []})})
    monkeypatch.setattr(capabilities, "gpu_visible", lambda: True)
    assert capabilities.preferred_kinds(off) == ()


@pytest.mark.parametrize(
    "scorers, models, kind",
    [
        (["answer_ifd", "text_length"], {"language_model": "/models/lm"}, "model_audit"),
        (["answer_reward"], {"reward_model": "/models/rm"}, "model_audit"),
        (["answer_judge"], {"judge_model": "/models/judge"}, "model_audit"),
        (
            ["answer_judge"],
            {"judge_model": "judge", "judge_url": "http://judge/v1"},
            "audit",
        ),  # an endpoint: no local work
        (["answer_ifd"], {}, "audit"),  # not configured: not computed, no GPU needed
        (["text_length", "exact_duplicate"], {"language_model": "/models/lm"}, "audit"),
    ],
)
def test_audit_job_kind(scorers, models, kind) -> None:
    assert job_kinds.audit_job_kind(scorers, ModelSettings(**models)) == kind


def test_a_model_audit_runs_through_the_api_like_any_audit(client, settings, tmp_path) -> None:
    settings.models.language_model = str(tmp_path / "no-such-model")
    r = client.post(
        "/v1/datasets",
        files={
            "file": (
                "d.json",
                json.dumps(
                    [
                        {"instruction": "Say hi.", "input": "", "output": "Hi!"},
                        {"instruction": "Add 1 and 1.", "input": "", "output": "2"},
                    ]
                ).encode(),
            )
        },
    )
    audit = client.post(
        f"/v1/datasets/{r.json()['id']}/audits", json={"scorers": ["answer_perplexity", "text_length"]}
    ).json()
    assert audit["job"]["kind"] == "model_audit"
    assert Worker(settings).run_once() == audit["job"]["id"]
    done = client.get(f"/v1/audits/{audit['id']}").json()
    assert done["status"] == "succeeded"
    run = next(x for x in done["report"]["scorers"] if x["name"] == "answer_perplexity")
    assert run["status"] == "not_computed" and "does not exist" in run["reason"]
    with session_scope(settings.db_url) as s:
        assert s.get(Job, audit["job"]["id"]).kind == "model_audit"
