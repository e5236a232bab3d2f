"""Issue #14, items 4 and 5: base models only from configured roots, the operator's registry, or the
project's own finished jobs; API keys can be listed and revoked (CLI and an admin-scoped API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.db.session import session_scope
from app.services.auth import create_key

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    {"instruction": f"what is number {i}?", "input": "", "output": ["red cat.", "blue dog."][i % 2]} for i in range(8)
]


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory) -> Path:
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("roots") / "models" / "toy")


def dataset(client, headers=None) -> str:
    r = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(ROWS).encode())}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def other_project(settings) -> dict[str, str]:
    with session_scope(settings.db_url) as s:
        key, _ = create_key(s, "project-b")
    return {"Authorization": f"Bearer {key}"}


SPEC = {"method": "full", "max_steps": 1, "batch_size": 4, "lr": 0.01, "max_length": 48}


def test_base_model_only_from_roots_registry_or_own_jobs(client, settings, toy_model, tmp_path) -> None:
    settings.models.roots = [toy_model.parent]
    settings.models.registry = {"toy": toy_model}
    ds = dataset(client)

    def train(base: str, path: str = "/v1/training-jobs", headers=None, ds_id=ds):
        return client.post(path, json={"dataset_id": ds_id, "spec": {**SPEC, "base_model": base}}, headers=headers)

    assert train(str(toy_model), "/v1/training-jobs/preview").status_code == 200, "an absolute path under a root"
    assert train("toy", "/v1/training-jobs/preview").status_code == 200, "a name from the registry"
    relative = train(toy_model.name, "/v1/training-jobs/preview")
    assert relative.status_code == 200, "relative paths resolve against the roots, not the working directory"

    outside = tmp_path / "elsewhere"
    from app.training.toy import build_toy_model

    build_toy_model(outside)
    link = toy_model.parent / "sneaky"
    link.symlink_to(outside, target_is_directory=True)
    try:
        answers = {
            base: train(base, "/v1/training-jobs/preview")
            for base in (
                str(outside),
                "/etc",
                "/nonexistent/x",
                "../elsewhere",
                f"{toy_model.parent}/../elsewhere",
                "sneaky",
                "",
                "job:nope",
            )
        }
    finally:
        link.unlink()
    for base, r in answers.items():
        assert r.status_code == 422, (base, r.text)
    bodies = {json.dumps(r.json(), sort_keys=True) for r in answers.values()}
    assert len(bodies) == 1, f"one answer whether or not the path exists: {bodies}"
    assert train("/etc").status_code == 422 and train(str(outside)).status_code == 422


def _finished_training_job(settings, toy_model: Path) -> str:
    """A succeeded training job of project 'default' whose final/ holds full weights (copied, not trained:
    what is under test is who may reach them)."""
    import shutil

    from sqlalchemy import select

    from app.db import queue
    from app.db.models import Job, Project

    with session_scope(settings.db_url) as s:
        pid = s.scalar(select(Project.id).where(Project.name == "default"))
        job = queue.enqueue(s, pid, "training", {"spec": {**SPEC, "base_model": "toy"}, "datasets": {}}, 1)
        job.status = "succeeded"
        job_id = job.id
    shutil.copytree(toy_model, settings.storage.artifacts / job_id / "final")
    with session_scope(settings.db_url) as s:
        assert s.get(Job, job_id).status == "succeeded"
    return job_id


def test_projects_cannot_reach_each_others_artifacts(client, settings, toy_model) -> None:
    settings.models.roots = [toy_model.parent, settings.storage.data_dir]  # even a careless root holds no artifacts
    ds = dataset(client)
    job_id = _finished_training_job(settings, toy_model)
    final = settings.storage.artifacts / job_id / "final"

    b = other_project(settings)
    ds_b = dataset(client, headers=b)
    for base in (str(final), f"job:{job_id}", str(settings.storage.artifacts / job_id)):
        r = client.post("/v1/training-jobs", json={"dataset_id": ds_b, "spec": {**SPEC, "base_model": base}}, headers=b)
        assert r.status_code == 422 and r.json()["error"]["code"] == "base_model_not_allowed", (base, r.text)
    own = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": {**SPEC, "base_model": f"job:{job_id}"}})
    assert own.status_code == 202, own.text
    assert own.json()["spec"]["base_model"] == f"job:{job_id}", "the job keeps the reference, not a server path"
    from app.services.training import resolved_spec
    from app.training_spec.spec import TrainingSpec

    with session_scope(settings.db_url) as s:  # what the worker runs: the reference resolved for its project
        spec = TrainingSpec.model_validate(own.json()["spec"])
        assert resolved_spec(s, settings, _project(s), spec).base_model == str(final.resolve())
    own_by_path = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": {**SPEC, "base_model": str(final)}})
    assert own_by_path.status_code == 422, "own artifacts too: by job id, never by path"


def test_ownership_is_checked_before_the_base_model(client, settings) -> None:
    ds_a = dataset(client)
    b = other_project(settings)
    for base in ("/etc", "/nonexistent"):
        for path in ("/v1/training-jobs/preview", "/v1/training-jobs"):
            r = client.post(path, json={"dataset_id": ds_a, "spec": {**SPEC, "base_model": base}}, headers=b)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, base, r.text)


# --- 5. revoking keys ----------------------------------------------------------------------------------------
def test_admin_api_lists_creates_and_revokes_keys(client, settings) -> None:
    with session_scope(settings.db_url) as s:
        admin, _ = create_key(s, "ops", "operator", "admin")
    a = {"Authorization": f"Bearer {admin}"}
    assert client.get("/v1/admin/keys").status_code == 403, "a project key is not an admin key"
    made = client.post("/v1/admin/keys", json={"project": "team-c", "name": "ci"}, headers=a)
    assert made.status_code == 201, made.text
    plain = made.json()["key"]
    c = {"Authorization": f"Bearer {plain}"}
    assert client.get("/v1/datasets", headers=c).status_code == 200
    listed = client.get("/v1/admin/keys", headers=a).json()
    assert {k["project"] for k in listed} >= {"default", "ops", "team-c"}
    assert all("key" not in k and plain not in json.dumps(k) for k in listed)
    r = client.post(f"/v1/admin/keys/{made.json()['id']}/revoke", headers=a)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert client.get("/v1/datasets", headers=c).status_code == 401, "refused on its very next request"
    assert client.post(f"/v1/admin/keys/{'0' * 32}/revoke", headers=a).status_code == 404


def test_cli_lists_and_revokes_keys(settings, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": settings.db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "d"),
        "PYTHONPATH": str(ROOT),
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "keys", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with session_scope(settings.db_url) as s:
        key, _ = create_key(s, "cli-proj", "laptop")
    with TestClient(create_app(settings, migrate=False)) as c:
        h = {"Authorization": f"Bearer {key}"}
        assert c.get("/v1/datasets", headers=h).status_code == 200
        listing = cli("list", "--project", "cli-proj")
        assert listing.returncode == 0 and "laptop" in listing.stdout and key not in listing.stdout
        row = next(line for line in listing.stdout.splitlines() if "laptop" in line).split("\t")
        assert row[-1] == "-", "not revoked yet"
        revoked = cli("revoke", key[:12])
        assert revoked.returncode == 0, revoked.stderr
        assert c.get("/v1/datasets", headers=h).status_code == 401
        assert cli("revoke", "sfta_nothing").returncode == 1


def _project(session) -> str:
    from sqlalchemy import select

    from app.db.models import Project

    return session.scalar(select(Project.id).where(Project.name == "default"))
